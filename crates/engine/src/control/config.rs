//! Job files: export and import (merge or replace, all or nothing, with a dry run).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use sentinel_proto::api::{ErrorBody, INVALID_FILE};
use sentinel_proto::config::{ConfigFile, ConfigFormat, ImportPlan};
use sentinel_proto::secret::Secrets;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, QueryParams};
use super::ApiState;
use crate::error::capped;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this group.
    pub group: Option<String>,
    /// Only these jobs, comma-separated.
    pub names: Option<String>,
    /// `toml` (default) or `json`.
    pub format: Option<ConfigFormat>,
    /// Write the values of secret variables instead of masking them.
    #[serde(default)]
    pub show_secrets: bool,
}

/// Every job (or a group, or named jobs) as a versioned job file.
#[utoipa::path(get, path = "/api/config/export", tag = "config", params(ExportQuery),
    responses((status = 200, description = "The job file, TOML or JSON", body = ConfigFile), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(api): State<ApiState>,
    QueryParams(query): QueryParams<ExportQuery>,
) -> Result<Response, ApiError> {
    let names: Vec<String> = query
        .names
        .as_deref()
        .map(|n| {
            n.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let file = api.engine.export(
        query.group.as_deref(),
        &names,
        Secrets::shown(query.show_secrets),
    )?;
    let format = query.format.unwrap_or(ConfigFormat::Toml);
    let content_type = match format {
        ConfigFormat::Toml => "application/toml",
        ConfigFormat::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], file.render(format)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `toml` (default) or `json`.
    pub format: Option<ConfigFormat>,
    /// Also remove the jobs the file does not have.
    #[serde(default)]
    pub replace: bool,
    /// Only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports a job file (the request body): adds new jobs, updates changed ones, and with
/// `replace` removes the others. Any problem in any job changes nothing and lists every one.
#[utoipa::path(post, path = "/api/config/import", tag = "config", params(ImportQuery), request_body(content = String, description = "The job file"),
    responses((status = 200, body = ImportPlan), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(api): State<ApiState>,
    QueryParams(query): QueryParams<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportPlan>, ApiError> {
    let body = std::str::from_utf8(&body).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the job file is not UTF-8 text: {err}"),
        )
    })?;
    let file =
        ConfigFile::parse(body, query.format.unwrap_or(ConfigFormat::Toml)).map_err(|errors| {
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                INVALID_FILE,
                format!(
                    "the file has {} problem{}; nothing was changed",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
            );
            error.body.field = errors
                .first()
                .map(|e| e.field.clone())
                .filter(|f| !f.is_empty());
            let (listed, more) = capped(errors);
            if more > 0 {
                error.body.message = format!(
                    "{}; the first {} are listed",
                    error.body.message,
                    listed.len()
                );
            }
            error.body.errors = listed;
            error
        })?;
    Ok(Json(
        api.engine
            .import(file, query.replace, query.dry_run)
            .await?,
    ))
}
