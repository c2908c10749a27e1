//! Projects: `sentinel up`'s definition sent whole, and the projects the engine knows.

use hyper::Method;
use sentinel_proto::project::{ProjectSpec, ProjectSummary, ProjectUp};

use crate::path::Route;
use crate::{Client, Result};

impl Client {
    /// `GET /api/projects`: every project, with its file and its jobs.
    pub async fn projects(&self) -> Result<Vec<ProjectSummary>> {
        self.get(Route::new("/api/projects")).await
    }

    /// `POST /api/projects/up`: makes the project's jobs what `project` says and starts them.
    pub async fn project_up(&self, project: &ProjectSpec) -> Result<ProjectUp> {
        self.call(Method::POST, Route::new("/api/projects/up"), Some(project))
            .await
    }
}
