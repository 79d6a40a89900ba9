//! Turning kube-rs errors into something a person can act on.

use crate::protocol::ErrorReason;

/// A failed cluster call, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: ErrorReason,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One classification of a context that cannot be used, wherever a client is asked for.
impl From<super::clusters::ClusterError> for Failure {
    fn from(e: super::clusters::ClusterError) -> Self {
        use super::clusters::ClusterError;
        let reason = match &e {
            ClusterError::UnknownContext(_) => ErrorReason::NotFound,
            ClusterError::Config(_) => ErrorReason::Unreachable,
            ClusterError::OtherLogin { .. } => ErrorReason::Forbidden,
        };
        Failure::new(reason, e.to_string())
    }
}

impl Failure {
    pub fn new(reason: ErrorReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// A refused HTTP request: the status code for the reason, the sentence as the body.
impl axum::response::IntoResponse for Failure {
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;
        let code = match self.reason {
            ErrorReason::BadRequest | ErrorReason::NotRunning => StatusCode::BAD_REQUEST,
            ErrorReason::Forbidden => StatusCode::FORBIDDEN,
            ErrorReason::NotFound => StatusCode::NOT_FOUND,
            ErrorReason::Unreachable => StatusCode::BAD_GATEWAY,
            ErrorReason::TooMany => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (code, self.message).into_response()
    }
}

pub fn classify(error: &kube::Error) -> Failure {
    match error {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            let reason = match status.code {
                401 => {
                    return Failure::new(
                        ErrorReason::Forbidden,
                        format!("the cluster did not accept podterm's credentials ({message})"),
                    );
                }
                403 => ErrorReason::Forbidden,
                404 => ErrorReason::NotFound,
                400 if message.contains("does not have a host assigned") => ErrorReason::NotRunning,
                400 => ErrorReason::BadRequest,
                500 if message.contains("container not found") => ErrorReason::NotRunning,
                _ => ErrorReason::Internal,
            };
            Failure::new(reason, message)
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => Failure::new(
            ErrorReason::Unreachable,
            format!("cannot reach the cluster: {}", chain(error)),
        ),
        other => Failure::new(ErrorReason::Internal, chain(other)),
    }
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
