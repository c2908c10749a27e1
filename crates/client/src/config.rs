//! Job files (export and import) and schedule previews.

use hyper::Method;
use sentinel_proto::api::SchedulePreview;
use sentinel_proto::config::{ConfigFormat, ImportPlan};
use sentinel_proto::secret::Secrets;

use crate::path::Route;
use crate::{transport, Client, Result};

/// Which jobs to export, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportQuery {
    /// Only this group.
    pub group: Option<String>,
    /// Only these jobs (none: every job).
    pub names: Vec<String>,
    pub format: ConfigFormat,
    pub secrets: Secrets,
}

impl Default for ExportQuery {
    /// Every job, as TOML, secrets masked.
    fn default() -> ExportQuery {
        ExportQuery {
            group: None,
            names: Vec::new(),
            format: ConfigFormat::Toml,
            secrets: Secrets::Masked,
        }
    }
}

/// How to import a job file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    pub format: ConfigFormat,
    /// Also remove the jobs the file does not have.
    pub replace: bool,
    /// Only say what would change.
    pub dry_run: bool,
}

/// A schedule to preview, as the user wrote it (the engine reads it and says what is wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpr {
    /// 5 fields, 6 with seconds first, or `@daily`…
    Cron(String),
    /// An interval such as `15m`.
    Every(String),
    /// A one-time instant.
    At(String),
}

fn format_word(format: ConfigFormat) -> &'static str {
    match format {
        ConfigFormat::Toml => "toml",
        ConfigFormat::Json => "json",
    }
}

impl Client {
    /// `GET /api/config/export`: the selected jobs as a versioned job file.
    pub async fn export(&self, query: &ExportQuery) -> Result<String> {
        let names = (!query.names.is_empty()).then(|| query.names.join(","));
        let route = Route::new("/api/config/export")
            .query("format", format_word(query.format))
            .flag("show_secrets", query.secrets == Secrets::Shown)
            .query_some("group", query.group.as_deref())
            .query_some("names", names);
        self.get_text(route).await
    }

    /// `POST /api/config/import`: adds, updates (and with `replace` removes) jobs as the file
    /// says, all or nothing; a refused file changes nothing and lists every problem.
    pub async fn import(&self, file: String, options: ImportOptions) -> Result<ImportPlan> {
        let route = Route::new("/api/config/import")
            .query("format", format_word(options.format))
            .flag("replace", options.replace)
            .flag("dry_run", options.dry_run);
        let response = self.send(Method::POST, &route, file.into_bytes()).await?;
        transport::json(response).await
    }

    /// `GET /api/schedule/preview`: what a schedule means and its next `count` fire times.
    pub async fn schedule_preview(
        &self,
        schedule: &ScheduleExpr,
        count: usize,
    ) -> Result<SchedulePreview> {
        let (key, value) = match schedule {
            ScheduleExpr::Cron(cron) => ("cron", cron),
            ScheduleExpr::Every(every) => ("every", every),
            ScheduleExpr::At(at) => ("at", at),
        };
        let route = Route::new("/api/schedule/preview")
            .query("n", count)
            .query(key, value);
        self.get(route).await
    }
}
