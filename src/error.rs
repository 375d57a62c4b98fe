//! The one error type. Each variant is one `extensions.code` of the contract; nothing
//! of a server fault (SQL, panics, file paths) ever reaches a client: it is logged instead.

use async_graphql::ErrorExtensions;

/// The `extensions.code` values of the contract (API.md, "Errors").
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// Apollo's automatic persisted queries: the hash sent is not known (send the document
    /// with it), or, with trusted documents, the operation is not one of them.
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
}

/// Deliberately not `Display`: that keeps async-graphql's blanket `From<impl Display>`
/// away, so `?` in a resolver goes through our conversion and keeps `extensions.code`.
#[derive(Debug)]
pub enum AppError {
    /// No token, a bad or expired token, wrong credentials.
    Unauthenticated(&'static str),
    /// Signed in, but not allowed.
    Forbidden(String),
    /// No such object, or one the viewer may not see.
    NotFound(&'static str),
    /// The input breaks a rule; `field` is the input path, as `input.endsAt`.
    BadInput { field: String, message: String },
    /// The state forbids it now.
    Conflict(String),
    /// Too many attempts.
    RateLimited { retry_after_seconds: u64 },
    /// A fault of the server. The cause is logged, never shown.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict(message.into())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(cause.into())
    }

    /// Prefixes the input path of a `BadInput`, so a domain rule that names `password`
    /// reaches the client as `input.password`.
    pub fn under(self, prefix: &str) -> Self {
        match self {
            AppError::BadInput { field, message } => AppError::BadInput {
                field: format!("{prefix}.{field}"),
                message,
            },
            other => other,
        }
    }

    /// For callers outside a request (the command line): the cause, or the client's message.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            AppError::Internal(cause) => cause,
            other => anyhow::anyhow!(other.message()),
        }
    }

    /// What the client reads in `message`.
    pub fn message(&self) -> String {
        match self {
            AppError::Unauthenticated(m) => (*m).to_owned(),
            AppError::Forbidden(m) | AppError::Conflict(m) => m.clone(),
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::BadInput { message, .. } => message.clone(),
            AppError::RateLimited {
                retry_after_seconds,
            } => format!("too many attempts; try again in {retry_after_seconds} seconds"),
            AppError::Internal(_) => "internal server error".to_owned(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => code::UNAUTHENTICATED,
            AppError::Forbidden(_) => code::FORBIDDEN,
            AppError::NotFound(_) => code::NOT_FOUND,
            AppError::BadInput { .. } => code::BAD_USER_INPUT,
            AppError::Conflict(_) => code::CONFLICT,
            AppError::RateLimited { .. } => code::RATE_LIMITED,
            AppError::Internal(_) => code::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(cause) = &err {
            tracing::error!(error = ?cause, "internal error");
        }
        let code = err.code();
        let extend = async_graphql::Error::new(err.message()).extend_with(|_, e| {
            e.set("code", code);
        });
        match err {
            AppError::BadInput { field, .. } => extend.extend_with(|_, e| e.set("field", field)),
            AppError::RateLimited {
                retry_after_seconds,
            } => extend.extend_with(|_, e| e.set("retryAfterSeconds", retry_after_seconds)),
            _ => extend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err: async_graphql::Error =
            AppError::internal(anyhow::anyhow!("SELECT secret FROM users")).into();
        assert_eq!(err.message, "internal server error");
        let ext = err.extensions.unwrap();
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from(code::INTERNAL_SERVER_ERROR))
        );
    }

    #[test]
    fn bad_input_carries_its_field() {
        let err: async_graphql::Error = AppError::bad_input("password", "too short")
            .under("input")
            .into();
        let ext = err.extensions.unwrap();
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.password"))
        );
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from(code::BAD_USER_INPUT))
        );
    }
}
