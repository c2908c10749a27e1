use std::path::{Path, PathBuf};

use super::*;
use crate::config::ConfigFormat;
use crate::Condition;

const STACK: &str = r#"
project = "shop"

[[jobs]]
name = "db"
command = "postgres -D data"
env_files = [".env"]
health = { log = "ready to accept connections", timeout = "60s" }

[[jobs]]
name = "api"
command = "cargo run"
cwd = "api"
depends_on = [{ job = "db", condition = "healthy", restart = true }, "cache"]
watch = { paths = ["api/src"] }
"#;

fn file() -> PathBuf {
    PathBuf::from("/work/shop/sentinel.toml")
}

#[test]
fn names_are_scoped_and_paths_read_from_the_file() {
    let project = ProjectSpec::read(STACK, ConfigFormat::Toml, &file()).unwrap();
    assert_eq!(project.name, "shop");
    assert_eq!(project.names(), ["shop.db", "shop.api"]);
    let (db, api) = (&project.jobs[0], &project.jobs[1]);
    assert_eq!(db.cwd.as_deref(), Some(Path::new("/work/shop")));
    assert_eq!(db.env_files, [PathBuf::from("/work/shop/.env")]);
    assert_eq!(api.cwd.as_deref(), Some(Path::new("/work/shop/api")));
    assert_eq!(
        api.watch.as_ref().unwrap().paths,
        [PathBuf::from("/work/shop/api/src")]
    );
    // A dependency on a job of the file follows its name; one outside stays as written.
    assert_eq!(api.depends_on[0].job, "shop.db");
    assert_eq!(api.depends_on[0].condition, Condition::Healthy);
    assert!(api.depends_on[0].restart);
    assert_eq!(api.depends_on[1].job, "cache");
    for job in &project.jobs {
        assert_eq!(
            job.project,
            Some(ProjectRef {
                name: "shop".into(),
                file: file()
            })
        );
        assert!(job.validate().is_ok(), "{:?}", job.validate());
    }
}

#[test]
fn the_name_defaults_to_the_directory() {
    let text = "[[jobs]]\nname = \"web\"\ncommand = \"true\"\n";
    let project = ProjectSpec::read(text, ConfigFormat::Toml, &file()).unwrap();
    assert_eq!(project.name, "shop");
    let odd = Path::new("/work/my shop/sentinel.toml");
    let errors = ProjectSpec::read(text, ConfigFormat::Toml, odd).unwrap_err();
    assert_eq!(errors[0].field, "project");
    assert!(
        errors[0].message.contains("project = \"NAME\""),
        "{errors:?}"
    );
}

#[test]
fn json_files_read_the_same() {
    let text = r#"{"project": "shop", "jobs": [{"name": "web", "command": "true"}]}"#;
    let project = ProjectSpec::read(text, ConfigFormat::Json, &file()).unwrap();
    assert_eq!(project.names(), ["shop.web"]);
}

#[test]
fn problems_name_the_job_and_the_line() {
    let bad = "project = \"shop\"\n[[jobs]]\nname = \"web\"\ncommand = \"true\"\nrestrat = 1\n";
    let errors = ProjectSpec::read(bad, ConfigFormat::Toml, &file()).unwrap_err();
    assert_eq!(errors[0].field, "line 5", "{errors:?}");
    assert!(errors[0].message.contains("restrat"), "{errors:?}");

    let twice =
        "[[jobs]]\nname = \"a\"\ncommand = \"true\"\n[[jobs]]\nname = \"a\"\ncommand = \"true\"\n";
    let errors = ProjectSpec::read(twice, ConfigFormat::Toml, &file()).unwrap_err();
    assert!(errors[0].message.contains("defined twice"), "{errors:?}");

    let long = format!(
        "project = \"{}\"\n[[jobs]]\nname = \"{}\"\ncommand = \"true\"\n",
        "p".repeat(32),
        "j".repeat(40)
    );
    let errors = ProjectSpec::read(&long, ConfigFormat::Toml, &file()).unwrap_err();
    assert!(errors[0].field.ends_with(".name"), "{errors:?}");

    let dotted = "project = \"a.b\"\n";
    let errors = ProjectSpec::read(dotted, ConfigFormat::Toml, &file()).unwrap_err();
    assert_eq!(errors[0].field, "project");

    let relative = ProjectSpec::read("", ConfigFormat::Toml, Path::new("sentinel.toml"));
    assert_eq!(relative.unwrap_err()[0].field, "file");
}

#[test]
fn a_job_of_a_project_carries_its_prefix() {
    let mut job = JobSpec::new("web", "true");
    job.project = Some(ProjectRef {
        name: "shop".into(),
        file: file(),
    });
    let errors = job.validate().unwrap_err();
    assert_eq!(errors.0[0].field, "name");
    job.name = "shop.web".into();
    assert!(job.validate().is_ok());
    job.name = "shop.".into();
    assert!(job.validate().is_err());
    job.name = "shop.web".into();
    job.project.as_mut().unwrap().file = "relative.toml".into();
    assert_eq!(job.validate().unwrap_err().0[0].field, "project.file");
}
