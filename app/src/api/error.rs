//! A failed call as the app sees it: the HTTP status the server answered with, and a message for
//! the user. Every error answer, REST route or server function, refused at the edge or by the
//! runner, has the body [`ErrorBody`] `{"error": "...", "code": <status>}`: the browser's fetch
//! hands server_fn only the body, so the status travels in it too. The app tells "signed out"
//! (401) or "already decided" (409) by that status, never by the wording.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Deserialize, Serialize};

/// The body of every error answer (REST 404s also carry `"status": "not_found"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: String,
    /// The answer's HTTP status.
    pub code: u16,
}

/// Why a server function failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The server answered with this HTTP status (400 and up).
    #[error("{message}")]
    Refused { status: u16, message: String },
    /// The machine was not reached: offline, or the tunnel is down.
    #[error("Can't reach your machine.")]
    Unreachable,
    /// Arguments or an answer that could not be encoded or decoded (a bug, or an app older than
    /// its server).
    #[error("{0}")]
    Broken(String),
}

impl CallError {
    pub fn refused(status: u16, message: impl Into<String>) -> Self {
        CallError::Refused { status, message: message.into() }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Refused { status, .. } => Some(*status),
            CallError::Unreachable | CallError::Broken(_) => None,
        }
    }

    /// No session (never signed in, expired, signed out elsewhere): show the sign-in screen.
    pub fn is_signed_out(&self) -> bool {
        self.status() == Some(401)
    }
}

impl FromServerFnError for CallError {
    type Encoder = ErrorBodyEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Request(_) => CallError::Unreachable,
            // Arguments the server could not read: the caller's mistake.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => CallError::refused(400, message),
            other => CallError::Broken(other.to_string()),
        }
    }
}

/// [`CallError`] as [`ErrorBody`] JSON. Only a `Refused` error is ever sent (the others happen
/// on the client); anything else is sent as a 500.
pub struct ErrorBodyEncoding;

impl ContentType for ErrorBodyEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for ErrorBodyEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl Encodes<CallError> for ErrorBodyEncoding {
    type Error = serde_json::Error;

    fn encode(error: &CallError) -> Result<Bytes, Self::Error> {
        let body = ErrorBody { error: error.to_string(), code: error.status().unwrap_or(500) };
        serde_json::to_vec(&body).map(Bytes::from)
    }
}

impl Decodes<CallError> for ErrorBodyEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<CallError, Self::Error> {
        let body: ErrorBody = serde_json::from_slice(&bytes)?;
        Ok(CallError::refused(body.code, body.error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_keeps_its_status_and_message() {
        let sent = CallError::refused(401, "sign in first");
        let received = CallError::de(sent.ser());
        assert_eq!(received, sent);
        assert!(received.is_signed_out());
    }

    #[test]
    fn the_edges_answer_is_read_by_its_status_whatever_its_wording() {
        let edge = Bytes::from_static(br#"{"error":"whatever the words","code":401}"#);
        assert!(CallError::de(edge).is_signed_out());
        let not_found = Bytes::from_static(br#"{"status":"not_found","error":"no task","code":404}"#);
        assert_eq!(CallError::de(not_found).status(), Some(404));
    }

    #[test]
    fn an_answer_that_is_not_an_error_body_is_broken_not_signed_out() {
        let received = CallError::de(Bytes::from_static(b"<html>Unauthorized</html>"));
        assert!(matches!(received, CallError::Broken(_)), "{received:?}");
        assert!(!received.is_signed_out());
    }
}
