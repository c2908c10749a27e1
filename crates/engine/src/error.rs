use sentinel_proto::action::{ActionResult, Outcome};
use sentinel_proto::api::{ErrorBody, MAX_LISTED_ERRORS};
use sentinel_proto::{FieldError, JobStatus, ValidationErrors};

/// Everything an engine operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no job named {0:?}")]
    NotFound(String),
    #[error("no job is in group {0:?}")]
    EmptyGroup(String),
    #[error("no project named {0:?} (sentinel up creates it from its sentinel.toml)")]
    NoProject(String),
    #[error("a job named {0:?} already exists")]
    AlreadyExists(String),
    #[error("invalid job: {0}")]
    Invalid(ValidationErrors),
    #[error("job {0:?} is disabled; enable it first")]
    Disabled(String),
    #[error("another SentinelZero engine is already running with {}{}", home.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    AlreadyRunning {
        home: std::path::PathBuf,
        pid: Option<u32>,
    },
    #[error("{}: {errors}", path.display())]
    Settings {
        path: std::path::PathBuf,
        errors: ValidationErrors,
    },
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// A bug, caught: the message says what failed.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("cannot determine where to keep data: set SENTINEL_HOME")]
    NoHome,
    /// A directory or file of the engine's home that another user controls, or a link.
    #[error("unsafe home: {}", problem.describe(path))]
    UnsafeHome {
        path: std::path::PathBuf,
        problem: crate::home::HomeProblem,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database migration failed: {source}; the database is as it was before (restored from {})", backup.display())]
    MigrationRolledBack {
        #[source]
        source: sqlx::migrate::MigrateError,
        backup: std::path::PathBuf,
    },
}

impl EngineError {
    /// A stable, machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound(_) | EngineError::EmptyGroup(_) | EngineError::NoProject(_) => {
                "not_found"
            }
            EngineError::AlreadyExists(_) => "already_exists",
            EngineError::Invalid(_) | EngineError::Settings { .. } => "invalid",
            EngineError::Disabled(_) => "disabled",
            EngineError::AlreadyRunning { .. } => "already_running",
            EngineError::ShuttingDown => "shutting_down",
            EngineError::Internal(_) => "internal",
            EngineError::NoHome => "no_home",
            EngineError::UnsafeHome { .. } => "unsafe_home",
            EngineError::Io { .. } => "io",
            EngineError::Store(_)
            | EngineError::Migrate(_)
            | EngineError::MigrationRolledBack { .. } => "store",
        }
    }

    /// The error as every client gets it (the API, the app's commands): a code to match on,
    /// a message for people, and for invalid input each field's problem, the first
    /// [`MAX_LISTED_ERRORS`] of them so that an answer stays small.
    pub fn body(&self) -> ErrorBody {
        let code = self.code().to_string();
        match self {
            EngineError::Invalid(errors) => {
                let field = errors.first_field().map(str::to_string);
                let (listed, more) = capped(errors.0.clone());
                let mut message = format!("invalid job: {}", ValidationErrors(listed.clone()));
                if more > 0 {
                    message.push_str(&format!("; and {more} more"));
                }
                ErrorBody {
                    code,
                    message,
                    field,
                    errors: listed,
                }
            }
            error => ErrorBody {
                code,
                message: error.to_string(),
                field: None,
                errors: Vec::new(),
            },
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> EngineError {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The first [`MAX_LISTED_ERRORS`] problems and how many more there are, so an answer stays
/// small however many entries of a request are wrong.
pub fn capped(mut errors: Vec<FieldError>) -> (Vec<FieldError>, usize) {
    let more = errors.len().saturating_sub(MAX_LISTED_ERRORS);
    errors.truncate(MAX_LISTED_ERRORS);
    (errors, more)
}

/// What [`EngineHandle::act`](crate::EngineHandle::act) did, as every client gets it.
pub fn action_results(results: Vec<(String, Result<JobStatus>)>) -> Vec<ActionResult> {
    results
        .into_iter()
        .map(|(name, result)| ActionResult {
            name,
            outcome: match result {
                Ok(status) => Outcome::Status(Box::new(status)),
                Err(error) => Outcome::Error(error.body()),
            },
        })
        .collect()
}
