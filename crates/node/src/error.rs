use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use zkpool_backend::BackendError;
use zkpool_ledger::{AdmissionError, EpochError, LedgerError, QuoteError};
use zkpool_store::StoreError;
use zkpool_types::api::ErrorBody;

/// Every error the HTTP API returns: a status, a stable `code`, and a message for people.
/// Client errors are not logged (they are the client's story); internal errors are logged once
/// here and shown to the client without their details.
#[derive(Clone, Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for a `Retry-After` header (429, 503).
    retry_after: Option<u64>,
}

impl ApiError {
    /// A client error with a stable code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error with `what` in front of its message (`leg 1: …`); an internal error's
    /// message is not shown to clients anyway.
    pub fn context(mut self, what: impl std::fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The same error, telling the client to retry after `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for a missing thing.
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} {id} not found"),
        )
    }

    /// 403 for a key of the wrong role or owner.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500; the detail goes to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the node's log",
        )
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_string(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::StaleLease { .. } => {
                ApiError::new(StatusCode::CONFLICT, "stale_lease", e.to_string())
            }
            StoreError::NotFound { what, id } => ApiError::not_found(what, id),
            StoreError::LastAdmin => {
                ApiError::new(StatusCode::CONFLICT, "last_admin", e.to_string())
            }
            StoreError::QuotaExceeded { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota_exceeded",
                format!("{e} (node flag --requester-quota)"),
            ),
            StoreError::MissingBlob(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_artifact",
                e.to_string(),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        if matches!(e, BackendError::Internal(_)) {
            return ApiError::internal(e);
        }
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        let status = match &e {
            LedgerError::Journal(_) => return ApiError::internal(e),
            LedgerError::InsufficientFunds { .. } => StatusCode::PAYMENT_REQUIRED,
            LedgerError::UnknownTask(_) | LedgerError::UnknownAccount(_) => StatusCode::NOT_FOUND,
            LedgerError::AlreadySettled(_)
            | LedgerError::AlreadyBonded(_)
            | LedgerError::DuplicateTask(_)
            | LedgerError::EpochSettled(_)
            | LedgerError::WindowNotClosed { .. }
            | LedgerError::WindowClosed { .. } => StatusCode::CONFLICT,
            LedgerError::WrongAccount { .. } | LedgerError::Overflow | LedgerError::Invalid(_) => {
                StatusCode::BAD_REQUEST
            }
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<QuoteError> for ApiError {
    fn from(e: QuoteError) -> Self {
        let status = match &e {
            QuoteError::BadKey => return ApiError::internal(e),
            QuoteError::NonceReused(_) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        // Prefix the codes that would be ambiguous on their own.
        let code = match &e {
            QuoteError::Expired { .. } => "quote_expired",
            QuoteError::BadSignature => "bad_signature",
            other => other.code(),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<AdmissionError> for ApiError {
    fn from(e: AdmissionError) -> Self {
        let status = match &e {
            AdmissionError::NoCapacity => StatusCode::SERVICE_UNAVAILABLE,
            AdmissionError::DeadlineUnreachable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AdmissionError::Invalid(_) | AdmissionError::Overflow => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), format!("quote refused: {e}"))
    }
}

impl From<EpochError> for ApiError {
    fn from(e: EpochError) -> Self {
        ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string())
    }
}
