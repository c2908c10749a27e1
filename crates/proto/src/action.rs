//! The one vocabulary for acting on jobs: an [`Action`] applied to a [`Selection`]. The tray, the
//! popover, the CLI, the API and every other adapter say the same thing the same way, so the
//! engine does the same thing and the run history gives the same reason.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ErrorBody;
use crate::status::JobStatus;
use crate::validate::{FieldError, ValidationErrors};

/// What to do to the selected jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Action {
    /// Start (or, for a task, run once now) unless it is already running.
    #[serde(alias = "run")]
    Start,
    /// Stop; done once nothing of the process group is left.
    Stop,
    /// Stop if running, then start; dependants of a selected job stop first and start last.
    Restart,
    /// Let the job start and its schedule fire again (autostart services start).
    Enable,
    /// Stop the job and pause its schedule until it is enabled again.
    Disable,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Start,
        Action::Stop,
        Action::Restart,
        Action::Enable,
        Action::Disable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Enable => "enable",
            Action::Disable => "disable",
        }
    }

    /// The word as the tray, the CLI and a URL spell it (`"run"` is an older name of start).
    pub fn parse(word: &str) -> Option<Action> {
        match word {
            "run" => Some(Action::Start),
            _ => Action::ALL
                .into_iter()
                .find(|action| action.as_str() == word),
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which jobs an action applies to. One of four by construction; a list of names is checked
/// by [`Selection::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Selection {
    /// These jobs, each named once.
    Names(Vec<String>),
    /// Every job of this group.
    Group(String),
    /// Every job of this project (`sentinel up`).
    Project(String),
    /// Every job.
    All,
}

/// The most names one selection may list. Each name gets a result in the answer, so this
/// bounds what one request can make the engine build and send (100,000 unknown names made an
/// 8 MB answer); more jobs than this are reached with a group or all.
pub const MAX_SELECTED_NAMES: usize = 1000;

impl Selection {
    /// One job.
    pub fn job(name: impl Into<String>) -> Selection {
        Selection::Names(vec![name.into()])
    }

    /// At least one and at most [`MAX_SELECTED_NAMES`] names, none twice; a group is named.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let problem = |field: String, message: String| {
            Err(ValidationErrors(vec![FieldError { field, message }]))
        };
        match self {
            Selection::Names(names) if names.is_empty() => problem(
                "selection.names".into(),
                "name at least one job (or select a group, or all)".into(),
            ),
            Selection::Names(names) if names.len() > MAX_SELECTED_NAMES => problem(
                "selection.names".into(),
                format!(
                    "{} names are more than one request may list ({MAX_SELECTED_NAMES}); select a group or all",
                    names.len()
                ),
            ),
            Selection::Names(names) => {
                let mut seen = std::collections::BTreeSet::new();
                for (index, name) in names.iter().enumerate() {
                    if !seen.insert(name.as_str()) {
                        return problem(
                            format!("selection.names[{index}]"),
                            format!("{name:?} is listed twice"),
                        );
                    }
                }
                Ok(())
            }
            Selection::Group(group) if group.is_empty() => {
                problem("selection.group".into(), "name the group".into())
            }
            Selection::Project(project) => match crate::project::project_name_problem(project) {
                Some(message) => problem("selection.project".into(), message),
                None => Ok(()),
            },
            Selection::Group(_) | Selection::All => Ok(()),
        }
    }
}

/// `POST /api/actions`: an action and the jobs it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionRequest {
    pub action: Action,
    pub selection: Selection,
}

/// What an action did to one job: its status afterwards, or why it could not be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionResult {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Exactly one of a status or an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Outcome {
    Status(Box<JobStatus>),
    Error(ErrorBody),
}

impl ActionResult {
    pub fn status(&self) -> Option<&JobStatus> {
        match &self.outcome {
            Outcome::Status(status) => Some(status),
            Outcome::Error(_) => None,
        }
    }

    pub fn error(&self) -> Option<&ErrorBody> {
        match &self.outcome {
            Outcome::Status(_) => None,
            Outcome::Error(error) => Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_is_one_of_three_on_the_wire() {
        let parse = |text: &str| serde_json::from_str::<ActionRequest>(text);
        assert_eq!(
            parse(r#"{"action":"restart","selection":{"names":["a","b"]}}"#).unwrap(),
            ActionRequest {
                action: Action::Restart,
                selection: Selection::Names(vec!["a".into(), "b".into()])
            }
        );
        assert_eq!(
            parse(r#"{"action":"stop","selection":"all"}"#)
                .unwrap()
                .selection,
            Selection::All
        );
        assert_eq!(
            parse(r#"{"action":"run","selection":{"group":"web"}}"#).unwrap(),
            ActionRequest {
                action: Action::Start,
                selection: Selection::Group("web".into())
            }
        );
        assert!(parse(r#"{"action":"stop","selection":{"names":["a"],"group":"g"}}"#).is_err());
        assert!(parse(r#"{"action":"explode","selection":"all"}"#).is_err());
        assert!(parse(r#"{"action":"stop","selection":"all","extra":1}"#).is_err());
    }

    #[test]
    fn names_are_bounded_and_unique() {
        assert!(Selection::Names(vec![]).validate().is_err());
        assert!(Selection::job("a").validate().is_ok());
        let twice = Selection::Names(vec!["a".into(), "b".into(), "a".into()]);
        assert_eq!(
            twice.validate().unwrap_err().0[0].field,
            "selection.names[2]"
        );
        let many = Selection::Names((0..=MAX_SELECTED_NAMES).map(|i| i.to_string()).collect());
        assert!(many.validate().is_err());
        assert!(Selection::Group(String::new()).validate().is_err());
        assert!(Selection::All.validate().is_ok());
    }

    #[test]
    fn a_result_holds_a_status_or_an_error_never_both() {
        let failed = ActionResult {
            name: "a".into(),
            outcome: Outcome::Error(ErrorBody {
                code: "not_found".into(),
                message: "no job named \"a\"".into(),
                field: None,
                errors: Vec::new(),
            }),
        };
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["name"], "a");
        assert_eq!(json["error"]["code"], "not_found");
        assert!(json.get("status").is_none());
        assert_eq!(
            serde_json::from_value::<ActionResult>(json).unwrap(),
            failed
        );
    }

    #[test]
    fn every_action_round_trips_through_its_word() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
            assert_eq!(
                serde_json::to_value(action).unwrap(),
                serde_json::Value::from(action.as_str())
            );
        }
        assert_eq!(Action::parse("run"), Some(Action::Start));
        assert_eq!(Action::parse("explode"), None);
    }
}
