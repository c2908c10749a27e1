use sentinel_proto::ValidationErrors;

/// Everything an engine operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no job named {0:?}")]
    NotFound(String),
    #[error("no job is in group {0:?}")]
    EmptyGroup(String),
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
            EngineError::NotFound(_) | EngineError::EmptyGroup(_) => "not_found",
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

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> EngineError {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
