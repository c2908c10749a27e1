//! Dev-stack routes: who holds a job's ports, freeing them, and where its environment comes
//! from.

use hyper::Method;
use sentinel_proto::secret::Secrets;
use sentinel_proto::stack::{EnvVar, FreedPorts, JobPorts};

use crate::path::Route;
use crate::{Client, Result, NO_BODY};

impl Client {
    /// `GET /api/ports`: every job that declares ports, with who listens on each.
    pub async fn ports(&self) -> Result<Vec<JobPorts>> {
        self.get(Route::new("/api/ports")).await
    }

    /// `GET /api/jobs/{name}/ports`: its declared ports and who listens on each.
    pub async fn job_ports(&self, name: &str) -> Result<JobPorts> {
        self.get(Route::new("/api/jobs").segment(name).segment("ports"))
            .await
    }

    /// `POST /api/jobs/{name}/ports/free`: stops the leftovers of its earlier runs that hold
    /// its ports.
    pub async fn free_ports(&self, name: &str) -> Result<FreedPorts> {
        let route = Route::new("/api/jobs")
            .segment(name)
            .segment("ports")
            .segment("free");
        self.call(Method::POST, route, NO_BODY).await
    }

    /// `GET /api/jobs/{name}/env`: the variables its next run gets, each with its source.
    pub async fn env(&self, name: &str, secrets: Secrets) -> Result<Vec<EnvVar>> {
        let route = Route::new("/api/jobs")
            .segment(name)
            .segment("env")
            .flag("show_secrets", secrets == Secrets::Shown);
        self.get(route).await
    }
}
