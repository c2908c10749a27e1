//! Errors as the API returns them: JSON `{code, message, field}` with the right status.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use sentinel_proto::api::ErrorBody;
use serde::de::DeserializeOwned;

use crate::error::EngineError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                field: None,
                errors: Vec::new(),
            },
        }
    }

    /// 413 `too_large`: a body over [`BODY_LIMIT`](super::BODY_LIMIT), declared or sent.
    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is larger than {} KiB",
                super::BODY_LIMIT / 1024
            ),
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into()).filter(|f: &String| !f.is_empty());
        self
    }
}

pub fn status_of(error: &EngineError) -> StatusCode {
    match error {
        EngineError::NotFound(_) | EngineError::EmptyGroup(_) | EngineError::NoProject(_) => {
            StatusCode::NOT_FOUND
        }
        EngineError::AlreadyExists(_)
        | EngineError::Disabled(_)
        | EngineError::AlreadyRunning { .. } => StatusCode::CONFLICT,
        EngineError::Invalid(_) | EngineError::Settings { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        EngineError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::NoHome
        | EngineError::UnsafeHome { .. }
        | EngineError::Internal(_)
        | EngineError::Io { .. }
        | EngineError::Store(_)
        | EngineError::Migrate(_)
        | EngineError::MigrationRolledBack { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        ApiError {
            status: status_of(&error),
            body: error.body(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A JSON request body whose errors say where the JSON is wrong and what is wrong there.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Query parameters whose errors are JSON like every other error, naming the parameter
/// (`?limit=lots` → 400 `bad_query`, field `limit`), instead of axum's plain text.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(query_rejection(&rejection.body_text())),
        }
    }
}

/// Path parameters whose errors are JSON like every other error, naming the parameter
/// (`/api/jobs/%FF` → 400 `bad_path`, field `name`), instead of axum's plain text.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParam(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    let field = match rejection {
        PathRejection::FailedToDeserializePathParams(error) => match error.kind() {
            ErrorKind::InvalidUtf8InPathParam { key }
            | ErrorKind::ParseErrorAtKey { key, .. }
            | ErrorKind::DeserializeError { key, .. } => key.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let detail = rejection.body_text();
    let detail = detail.strip_prefix("Invalid URL: ").unwrap_or(&detail);
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_path",
        format!("invalid path: {detail}"),
    )
    .with_field(field)
}

fn query_rejection(text: &str) -> ApiError {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    let field = detail
        .split_once(": ")
        .map(|(name, _)| name)
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or_default();
    let message = if field.is_empty() {
        format!("invalid query: {detail}")
    } else {
        format!("invalid query parameter {detail}")
    };
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message).with_field(field.to_string())
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large()
    } else {
        ApiError::new(status, "bad_request", rejection.body_text())
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let inner = err.into_inner();
        let message = if field.is_empty() {
            format!("invalid JSON: {inner}")
        } else {
            format!("invalid JSON at {field}: {inner}")
        };
        ApiError::new(StatusCode::BAD_REQUEST, "bad_json", message).with_field(field)
    })
}
