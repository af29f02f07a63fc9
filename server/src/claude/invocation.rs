//! Turning a chat request into the CLI's argument list and its first line of input, safely.
//!
//! The message never is an argument: it goes to the CLI's stdin as a JSON line (`--input-format
//! stream-json`), so nothing a user types can become an option; every option value is validated
//! first, and the CLI is never run through a shell.

use app::api::ChatRequest;
use std::ffi::OsString;
use uuid::Uuid;

/// The largest message: a clear 413 past it. (Messages once were arguments, which Linux caps at
/// 128 KiB; they travel on stdin now, and the cap stays where clients know it.)
pub const MAX_MESSAGE_BYTES: usize = 100 * 1024;

const PERMISSION_MODES: [&str; 5] = ["acceptEdits", "bypassPermissions", "default", "dontAsk", "plan"];

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum InvalidRequest {
    #[error("message must not be empty")]
    EmptyMessage,
    #[error("message is {0} bytes; the limit is {MAX_MESSAGE_BYTES} bytes")]
    MessageTooLong(usize),
    #[error("{0} must not contain NUL bytes")]
    NulByte(&'static str),
    #[error("model must be 1-100 letters, digits or . _ - [ ] :")]
    Model,
    #[error("permission_mode must be one of {}", PERMISSION_MODES.join(", "))]
    PermissionMode,
    #[error("allowed_tools entries must be 1-200 chars, not start with '-', and hold no control characters")]
    AllowedTool,
    #[error("max_turns must be between 1 and 1000")]
    MaxTurns,
    #[error("max_budget_usd must be a number above 0 and at most 1000")]
    MaxBudget,
}

/// A request that passed validation, ready to become arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub message: String,
    pub session: SessionMode,
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    pub allowed_tools: Vec<String>,
    pub max_turns: Option<u32>,
    pub max_budget_usd: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionMode {
    /// `--session-id`: we choose the id so it is known at submit.
    Create(Uuid),
    /// `--resume`.
    Resume(Uuid),
}

impl SessionMode {
    pub fn id(self) -> Uuid {
        match self {
            SessionMode::Create(id) | SessionMode::Resume(id) => id,
        }
    }
}

/// Validates everything that will reach the CLI. `session` is decided by the caller.
pub fn validate(request: &ChatRequest) -> Result<(), InvalidRequest> {
    let message = &request.message;
    if message.contains('\0') {
        return Err(InvalidRequest::NulByte("message"));
    }
    if message.trim().is_empty() {
        return Err(InvalidRequest::EmptyMessage);
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(InvalidRequest::MessageTooLong(message.len()));
    }
    if let Some(model) = &request.model {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "._-[]:".contains(c);
        if model.is_empty() || model.len() > 100 || model.starts_with('-') || !model.chars().all(allowed) {
            return Err(InvalidRequest::Model);
        }
    }
    if let Some(mode) = &request.permission_mode
        && !PERMISSION_MODES.contains(&mode.as_str()) {
        return Err(InvalidRequest::PermissionMode);
    }
    for tool in request.allowed_tools.iter().flatten() {
        if tool.is_empty() || tool.len() > 200 || tool.starts_with('-') || tool.chars().any(char::is_control) {
            return Err(InvalidRequest::AllowedTool);
        }
    }
    if let Some(turns) = request.max_turns
        && !(1..=1000).contains(&turns) {
        return Err(InvalidRequest::MaxTurns);
    }
    if let Some(budget) = request.max_budget_usd
        && !(budget.is_finite() && budget > 0.0 && budget <= 1000.0) {
        return Err(InvalidRequest::MaxBudget);
    }
    Ok(())
}

impl Invocation {
    pub fn new(request: ChatRequest, session: SessionMode) -> Result<Self, InvalidRequest> {
        validate(&request)?;
        Ok(Self {
            message: request.message,
            session,
            model: request.model,
            permission_mode: request.permission_mode,
            allowed_tools: request.allowed_tools.unwrap_or_default(),
            max_turns: request.max_turns,
            max_budget_usd: request.max_budget_usd,
        })
    }

    /// The arguments after the program name. stream-json (which requires `--verbose`) so that
    /// progress is captured while it happens, with the reply's words as the API streams them.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> =
            ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose", "--include-partial-messages"]
            .into_iter()
            .map(OsString::from)
            .collect();
        // Tools that need permission are asked about on stdout and answered on stdin. `dontAsk`
        // keeps the non-interactive behaviour: the CLI denies them itself.
        if self.permission_mode.as_deref() != Some("dontAsk") {
            args.extend(["--permission-prompt-tool", "stdio"].map(OsString::from));
        }
        let mut option = |name: &str, value: String| {
            args.push(name.into());
            args.push(value.into());
        };
        match self.session {
            SessionMode::Create(id) => option("--session-id", id.to_string()),
            SessionMode::Resume(id) => option("--resume", id.to_string()),
        }
        if let Some(model) = &self.model {
            option("--model", model.clone());
        }
        if let Some(mode) = &self.permission_mode {
            option("--permission-mode", mode.clone());
        }
        if let Some(turns) = self.max_turns {
            option("--max-turns", turns.to_string());
        }
        if let Some(budget) = self.max_budget_usd {
            option("--max-budget-usd", budget.to_string());
        }
        for tool in &self.allowed_tools {
            // `=` form: one argument per pattern, so a variadic option cannot swallow anything.
            args.push(format!("--allowedTools={tool}").into());
        }
        args
    }

    /// The first line of the CLI's stdin: the user's message.
    pub fn stdin_message(&self) -> String {
        super::control::user_message(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(message: &str) -> ChatRequest {
        ChatRequest { message: message.into(), ..Default::default() }
    }

    fn stdin_text(invocation: &Invocation) -> String {
        let line: serde_json::Value = serde_json::from_str(&invocation.stdin_message()).expect("JSON");
        assert_eq!(line["type"], "user");
        line["message"]["content"].as_str().expect("text").to_owned()
    }

    #[test]
    fn the_message_is_never_an_argument_and_reaches_stdin_as_text() {
        let id = Uuid::new_v4();
        for message in ["--dangerously-skip-permissions", "-p", "--help", "/cost", "hello", "line\n--resume x"] {
            let invocation = Invocation::new(request(message), SessionMode::Create(id)).expect("valid");
            let args = invocation.args();
            let neutral = Invocation::new(request("neutral"), SessionMode::Create(id)).expect("valid").args();
            assert_eq!(args, neutral, "the arguments do not depend on the message");
            assert_eq!(stdin_text(&invocation), message);
            assert!(args.windows(2).any(|w| w[0] == "--permission-prompt-tool" && w[1] == "stdio"), "{args:?}");
        }
        let quiet = Invocation::new(ChatRequest { permission_mode: Some("dontAsk".into()), ..request("hi") }, SessionMode::Create(id)).expect("valid");
        assert!(!quiet.args().iter().any(|a| a == "--permission-prompt-tool"), "dontAsk never asks");
    }

    #[test]
    fn options_are_passed_as_flags_after_validation() {
        let id = Uuid::new_v4();
        let full = ChatRequest {
            message: "go".into(),
            model: Some("claude-sonnet-4-5".into()),
            permission_mode: Some("acceptEdits".into()),
            allowed_tools: Some(vec!["Bash(git *)".into(), "Read".into()]),
            max_turns: Some(3),
            max_budget_usd: Some(0.5),
            client_message_id: Some(Uuid::new_v4()),
            project: Some("/elsewhere".into()),
        };
        let key = full.client_message_id.map(|k| k.to_string()).unwrap_or_default();
        let args: Vec<String> = Invocation::new(full, SessionMode::Resume(id))
            .expect("valid")
            .args()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.contains(&format!("--resume {id}")), "{joined}");
        assert!(joined.contains("--model claude-sonnet-4-5 --permission-mode acceptEdits --max-turns 3 --max-budget-usd 0.5"));
        assert!(args.contains(&"--allowedTools=Bash(git *)".to_owned()));
        assert!(!joined.contains(&key), "the message's key is the server's, never the CLI's");
        assert!(!joined.contains("/elsewhere"), "the project is the CLI's cwd, never an argument");
    }

    #[test]
    fn bad_values_are_refused_before_reaching_the_cli() {
        let bad = [
            ChatRequest { message: "a\0b".into(), ..Default::default() },
            ChatRequest { message: "   ".into(), ..Default::default() },
            ChatRequest { message: "x".repeat(MAX_MESSAGE_BYTES + 1), ..Default::default() },
            ChatRequest { model: Some("--evil".into()), ..request("hi") },
            ChatRequest { model: Some("a b".into()), ..request("hi") },
            ChatRequest { permission_mode: Some("yolo".into()), ..request("hi") },
            ChatRequest { allowed_tools: Some(vec!["--dangerously-skip-permissions".into()]), ..request("hi") },
            ChatRequest { allowed_tools: Some(vec!["Bash\nx".into()]), ..request("hi") },
            ChatRequest { max_turns: Some(0), ..request("hi") },
            ChatRequest { max_budget_usd: Some(f64::NAN), ..request("hi") },
            ChatRequest { max_budget_usd: Some(-1.0), ..request("hi") },
        ];
        for request in bad {
            assert!(validate(&request).is_err(), "accepted {request:?}");
        }
        assert!(validate(&request(&"x".repeat(MAX_MESSAGE_BYTES))).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn a_valid_message_is_never_an_argument_and_reaches_stdin_unchanged(message in "\\PC{1,400}") {
            let request = request(&message);
            if validate(&request).is_ok() {
                let invocation = Invocation::new(request, SessionMode::Create(Uuid::nil())).expect("valid");
                let fixed = invocation.args().len();
                proptest::prop_assert_eq!(fixed, Invocation::new(ChatRequest { message: "x".into(), ..Default::default() }, SessionMode::Create(Uuid::nil())).expect("valid").args().len());
                proptest::prop_assert_eq!(stdin_text(&invocation), message);
            }
        }

        #[test]
        fn session_ids_are_new_or_a_canonical_uuid(raw in "[-a-fA-F0-9new]{0,40}|\\PC{0,40}") {
            use app::api::SessionRef;
            match raw.parse::<SessionRef>() {
                Ok(SessionRef::New) => proptest::prop_assert_eq!(raw.as_str(), "new"),
                Ok(SessionRef::Existing(id)) => proptest::prop_assert_eq!(id.to_string(), raw.to_ascii_lowercase()),
                Err(_) => {}
            }
        }

        #[test]
        fn any_json_body_is_a_request_or_a_clean_refusal(body in "\\PC{0,200}", model in proptest::option::of("\\PC{0,30}")) {
            let text = serde_json::json!({"message": body, "model": model}).to_string();
            if let Ok(request) = serde_json::from_str::<ChatRequest>(&text)
                && validate(&request).is_ok() {
                let model_ok = request.model.as_deref().is_none_or(|m| !m.starts_with('-') && !m.is_empty());
                proptest::prop_assert!(model_ok);
            }
        }
    }
}
