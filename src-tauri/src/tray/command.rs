//! The tray menu's commands: what an item does, and the id it carries to say so.

use sentinel_proto::action::{Action, Selection};

/// What a tray menu item does; its menu id is [`MenuCommand::id`], read back by
/// [`MenuCommand::parse`]. Acting on jobs is the same [`Action`] on a [`Selection`] every
/// other adapter sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuCommand {
    Open,
    Settings,
    Quit,
    Logs(String),
    Act(Action, Selection),
}

impl MenuCommand {
    pub fn id(&self) -> String {
        match self {
            MenuCommand::Open => "open".into(),
            MenuCommand::Settings => "settings".into(),
            MenuCommand::Quit => "quit".into(),
            MenuCommand::Logs(job) => format!("logs:{job}"),
            MenuCommand::Act(action, Selection::All) => format!("{action}:*"),
            MenuCommand::Act(action, Selection::Group(group)) => format!("{action}:group:{group}"),
            MenuCommand::Act(action, Selection::Project(project)) => {
                format!("{action}:project:{project}")
            }
            MenuCommand::Act(action, Selection::Names(names)) => {
                format!("{action}:{}", names.join(","))
            }
        }
    }

    pub fn parse(id: &str) -> Option<MenuCommand> {
        match id {
            "open" => return Some(MenuCommand::Open),
            "settings" => return Some(MenuCommand::Settings),
            "quit" => return Some(MenuCommand::Quit),
            _ => {}
        }
        let (verb, rest) = id.split_once(':')?;
        if verb == "logs" {
            return Some(MenuCommand::Logs(rest.to_string()));
        }
        let action = Action::parse(verb)?;
        let selection = match rest {
            "*" => Selection::All,
            // Job names have no ':', so these prefixes cannot be a job's name.
            _ => match (rest.strip_prefix("group:"), rest.strip_prefix("project:")) {
                (Some(group), _) => Selection::Group(group.to_string()),
                (_, Some(project)) => Selection::Project(project.to_string()),
                _ => Selection::Names(rest.split(',').map(str::to_string).collect()),
            },
        };
        Some(MenuCommand::Act(action, selection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_menu_id_reads_back_as_the_command_that_wrote_it() {
        let commands = [
            MenuCommand::Open,
            MenuCommand::Settings,
            MenuCommand::Quit,
            MenuCommand::Logs("web:1".into()),
            MenuCommand::Act(Action::Restart, Selection::job("api")),
            MenuCommand::Act(Action::Stop, Selection::All),
            MenuCommand::Act(Action::Start, Selection::Group("stack".into())),
        ];
        for command in commands {
            assert_eq!(
                MenuCommand::parse(&command.id()),
                Some(command.clone()),
                "{}",
                command.id()
            );
        }
        assert_eq!(MenuCommand::parse("explode:api"), None);
        assert_eq!(
            MenuCommand::parse("job:api"),
            None,
            "a submenu is not a command"
        );
    }
}
