//! `docs/cli.md`, generated from the clap definitions so the reference cannot drift from the
//! program; and a check that every example in the docs is something the CLI and the engine
//! accept.

use clap::{Arg, Command};

/// The whole CLI reference as Markdown.
pub fn markdown(cli: &Command) -> String {
    let mut out = String::from(
        "# `sentinel` command reference\n\n\
         Generated from the program by `UPDATE_DOCS=1 cargo test -p sentinel-cli reference`; \
         `sentinel help COMMAND` prints the same.\n\n",
    );
    if let Some(about) = cli.get_about() {
        out.push_str(&format!("{about}\n\n"));
    }
    out.push_str("Global options:\n\n");
    out.push_str(&options_table(
        cli.get_arguments().filter(|arg| arg.is_global_set()),
    ));
    out.push_str("\nCommands:\n\n");
    for sub in visible_subcommands(cli) {
        out.push_str(&format!(
            "- [`{}`](#sentinel-{}): {}\n",
            sub.get_name(),
            sub.get_name(),
            sub.get_about().map(|a| a.to_string()).unwrap_or_default()
        ));
    }
    for sub in visible_subcommands(cli) {
        out.push('\n');
        out.push_str(&command_section(sub));
    }
    out
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

fn command_section(cmd: &Command) -> String {
    let name = cmd.get_name();
    let mut out = format!("## sentinel {name}\n\n");
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        out.push_str(&format!("{about}\n\n"));
    }
    let mut usage = cmd.clone().bin_name(format!("sentinel {name}"));
    out.push_str(&format!(
        "```text\n{}\n```\n\n",
        usage
            .render_usage()
            .to_string()
            .trim_start_matches("Usage: ")
    ));
    let positionals: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|arg| arg.is_positional() && !arg.is_hide_set())
        .collect();
    if !positionals.is_empty() {
        out.push_str("| argument | meaning |\n|---|---|\n");
        for arg in positionals {
            let names = arg
                .get_value_names()
                .map(|names| {
                    names
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            out.push_str(&format!("| `{names}` | {} |\n", help_of(arg)));
        }
        out.push('\n');
    }
    let options: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|arg| !arg.is_positional() && !arg.is_hide_set() && !arg.is_global_set())
        .collect();
    if !options.is_empty() {
        out.push_str(&options_table(options.into_iter()));
        out.push('\n');
    }
    if let Some(after) = cmd.get_after_help() {
        out.push_str(&format!("```text\n{}\n```\n", after.to_string().trim()));
    }
    out
}

fn options_table<'a>(args: impl Iterator<Item = &'a Arg>) -> String {
    let mut out = String::from("| option | meaning |\n|---|---|\n");
    for arg in args {
        let id = arg.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        let mut flag = match (arg.get_short(), arg.get_long()) {
            (Some(short), Some(long)) => format!("-{short}, --{long}"),
            (None, Some(long)) => format!("--{long}"),
            (Some(short), None) => format!("-{short}"),
            (None, None) => id.to_string(),
        };
        if arg.get_action().takes_values() {
            if let Some(names) = arg.get_value_names() {
                flag.push_str(&format!(" <{}>", names.join(" ")));
            } else {
                flag.push_str(&format!(" <{}>", id.to_uppercase()));
            }
        }
        out.push_str(&format!("| `{flag}` | {} |\n", help_of(arg)));
    }
    out
}

fn help_of(arg: &Arg) -> String {
    let mut help = arg
        .get_help()
        .map(|h| h.to_string())
        .unwrap_or_default()
        .replace('|', "\\|");
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !values.is_empty() && arg.get_action().takes_values() {
        help.push_str(&format!(" (one of {})", values.join(", ")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() {
        help.push_str(&format!(" [default: {}]", defaults.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        help.push_str(&format!(" [env: {}]", env.to_string_lossy()));
    }
    help
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use clap::{CommandFactory, Parser};
    use sentinel_proto::config::{ConfigFile, ConfigFormat};
    use sentinel_proto::settings::Settings;
    use sentinel_proto::JobSpec;

    use crate::args::Cli;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The checked-in reference is the generated one; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn the_cli_reference_is_current() {
        let generated = super::markdown(&Cli::command());
        let path = repo().join("docs/cli.md");
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/cli.md is out of date: run `UPDATE_DOCS=1 cargo test -p sentinel-cli reference`"
        );
        for command in [
            "add", "edit", "ports", "env", "import", "export", "top", "daemon",
        ] {
            assert!(
                generated.contains(&format!("## sentinel {command}\n")),
                "{command}"
            );
        }
    }

    /// Fenced blocks of a Markdown file: (language, text, line of the fence).
    fn blocks(text: &str) -> Vec<(String, String, usize)> {
        let mut found = Vec::new();
        let mut open: Option<(String, String, usize)> = None;
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some(fence) = trimmed.strip_prefix("```") {
                match open.take() {
                    Some(block) => found.push(block),
                    None => open = Some((fence.trim().to_string(), String::new(), i + 1)),
                }
            } else if let Some((_, body, _)) = open.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        found
    }

    /// A TOML example is a job, a job file or a settings file, and valid as one.
    fn check_toml(body: &str) -> Result<(), String> {
        let value: toml::Table = toml::from_str(body).map_err(|e| e.to_string())?;
        if value.contains_key("project")
            || (value.contains_key("jobs") && !value.contains_key("version"))
        {
            // A project file (`sentinel up`): `version` may be left out.
            let file = std::path::Path::new("/home/me/code/example/sentinel.toml");
            sentinel_proto::project::ProjectSpec::read(body, ConfigFormat::Toml, file)
                .map(|_| ())
                .map_err(|errors| format!("project file: {errors:?}"))
        } else if value.contains_key("jobs") || value.contains_key("version") {
            ConfigFile::parse(body, ConfigFormat::Toml)
                .map(|_| ())
                .map_err(|errors| format!("job file: {errors:?}"))
        } else if value.contains_key("name") || value.contains_key("command") {
            JobSpec::from_toml(body)
                .map(|_| ())
                .map_err(|e| format!("job: {e}"))
        } else {
            Settings::from_toml(body)
                .map(|_| ())
                .map_err(|errors| format!("settings: {errors:?}"))
        }
    }

    /// A command line of an example, up to where the shell takes over.
    fn sentinel_words(line: &str) -> Option<Vec<String>> {
        let line = line.trim();
        if !line.starts_with("sentinel ") {
            return None;
        }
        let cut = line
            .find(['|', '>', '#'])
            .into_iter()
            .chain(line.find("&&"))
            .min()
            .unwrap_or(line.len());
        shlex::split(line[..cut].trim())
    }

    /// A systemd unit: INI that systemd's sections and a `sentinel daemon` ExecStart.
    fn check_unit(body: &str) -> Result<(), String> {
        let unit = ini::Ini::load_from_str(body).map_err(|e| e.to_string())?;
        for section in unit.sections().flatten() {
            if !["Unit", "Service", "Install", "Timer"].contains(&section) {
                return Err(format!("[{section}] is not a systemd section"));
            }
        }
        let service = unit.section(Some("Service")).ok_or("no [Service]")?;
        match service.get("ExecStart") {
            Some(exec) if exec.ends_with("sentinel daemon") => Ok(()),
            other => Err(format!(
                "ExecStart {other:?} does not run `sentinel daemon`"
            )),
        }
    }

    /// Kubernetes manifests (`sentinel export --as kubernetes`), checked by kubernetes-validate
    /// against the official schemas it bundles, from the tools venv that scripts/setup.sh makes.
    fn check_manifests(body: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let file = dir.path().join("manifests.yaml");
        std::fs::write(&file, body).map_err(|e| e.to_string())?;
        let validate = repo().join(".tools/venv/bin/kubernetes-validate");
        let out = std::process::Command::new(&validate)
            .args(["--strict", "--quiet", "--kubernetes-version", "1.31.0"])
            .arg(&file)
            .output()
            .map_err(|e| format!("{}: {e} (run scripts/setup.sh)", validate.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stdout).into_owned())
        }
    }

    /// YAML: Kubernetes manifests, or Prometheus configuration parsed by ruamel.yaml in the
    /// tools venv that scripts/setup.sh makes.
    fn check_yaml(body: &str) -> Result<(), String> {
        use std::io::Write;
        if body.lines().any(|line| line.starts_with("apiVersion:")) {
            return check_manifests(body);
        }
        let python = repo().join(".tools/venv/bin/python");
        let mut child = std::process::Command::new(&python)
            .args([
                "-c",
                "import sys; from ruamel.yaml import YAML; d = YAML(typ='safe').load(sys.stdin); \
                 assert d['scrape_configs'][0]['static_configs'][0]['targets']",
            ])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e} (run scripts/setup.sh)", python.display()))?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Every example in the README and docs/ is accepted by what it is an example of.
    #[test]
    fn every_example_in_the_docs_is_valid() {
        let mut files = vec![repo().join("README.md")];
        if let Ok(entries) = std::fs::read_dir(repo().join("docs")) {
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "md")),
            );
        }
        let mut problems = Vec::new();
        let mut checked = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            for (lang, body, line) in blocks(&text) {
                let result = match lang.as_str() {
                    "toml" => check_toml(&body),
                    "json" => serde_json::from_str::<serde_json::Value>(&body)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    "ini" => check_unit(&body),
                    "yaml" => check_yaml(&body),
                    "sh" | "bash" | "shell" | "console" => {
                        let mut result = Ok(());
                        // A console transcript: only the `$ ` lines are commands.
                        let commands = body.lines().filter_map(|l| {
                            if lang == "console" {
                                l.strip_prefix("$ ")
                            } else {
                                Some(l)
                            }
                        });
                        for words in commands.filter_map(sentinel_words) {
                            if let Err(err) = Cli::try_parse_from(&words) {
                                result = Err(format!("{words:?}: {}", err.kind()));
                                break;
                            }
                            checked += 1;
                        }
                        result
                    }
                    _ => continue,
                };
                checked += 1;
                if let Err(err) = result {
                    problems.push(format!("{name}:{line} ({lang}): {err}"));
                }
            }
        }
        assert!(
            problems.is_empty(),
            "examples that do not work:\n{}",
            problems.join("\n")
        );
        assert!(checked > 10, "only {checked} examples found");
    }
}
