//! Jobs: their definitions, actions on them, and their runs.

use hyper::Method;
use sentinel_proto::action::{Action, ActionRequest, ActionResult, Selection};
use sentinel_proto::api::JobDetail;
use sentinel_proto::secret::Secrets;
use sentinel_proto::{JobSpec, JobStatus, RunRecord};

use crate::path::Route;
use crate::{transport, Client, Result, NO_BODY};

impl Client {
    /// `GET /api/jobs`: every job with its status, by name.
    pub async fn jobs(&self) -> Result<Vec<JobStatus>> {
        self.get(Route::new("/api/jobs")).await
    }

    /// `GET /api/jobs/{name}`: its definition (secret values as `secrets` says), status and
    /// log file.
    pub async fn job(&self, name: &str, secrets: Secrets) -> Result<JobDetail> {
        let route = Route::new("/api/jobs")
            .segment(name)
            .flag("show_secrets", secrets == Secrets::Shown);
        self.get(route).await
    }

    /// `POST /api/jobs`: adds a job; an enabled autostart service starts right away.
    pub async fn add(&self, spec: &JobSpec) -> Result<JobStatus> {
        self.call(Method::POST, Route::new("/api/jobs"), Some(spec))
            .await
    }

    /// `PUT /api/jobs/{spec.name}`: replaces the job's whole definition.
    pub async fn update(&self, spec: &JobSpec) -> Result<JobStatus> {
        let route = Route::new("/api/jobs").segment(&spec.name);
        self.call(Method::PUT, route, Some(spec)).await
    }

    /// `DELETE /api/jobs/{name}`: stops the job and removes it with its history.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let route = Route::new("/api/jobs").segment(name);
        let response = self.send(Method::DELETE, &route, Vec::new()).await?;
        transport::success(response).await.map(drop)
    }

    /// `POST /api/actions`: acts on the selected jobs; one result per job, each a status or an
    /// error. The request fails as a whole only when the selection itself is wrong.
    pub async fn act(&self, action: Action, selection: Selection) -> Result<Vec<ActionResult>> {
        let request = ActionRequest { action, selection };
        self.call(Method::POST, Route::new("/api/actions"), Some(&request))
            .await
    }

    /// `POST /api/jobs/{name}/{action}`: acts on one job; answers once done.
    pub async fn act_on(&self, action: Action, name: &str) -> Result<JobStatus> {
        let route = Route::new("/api/jobs")
            .segment(name)
            .segment(action.as_str());
        self.call(Method::POST, route, NO_BODY).await
    }

    /// `GET /api/jobs/{name}/runs`: its runs, newest first (`None`: the engine's default).
    pub async fn runs(&self, name: &str, limit: Option<u32>) -> Result<Vec<RunRecord>> {
        let route = Route::new("/api/jobs")
            .segment(name)
            .segment("runs")
            .query_some("limit", limit);
        self.get(route).await
    }
}
