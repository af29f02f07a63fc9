//! How a run ended, decided by one rule from CONTRACT.md: the outcome is the `result` line; with
//! no result line the run was interrupted or crashed, whatever its exit code.

use super::stream::ResultLine;
use serde_json::Value;

/// What the process did at the end, as far as we could observe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Not our child (re-attached after a restart), or it could not be waited for.
    Unknown,
}

/// The evidence a finished run leaves.
#[derive(Debug, Default)]
pub struct RunEnd<'a> {
    pub result: Option<(&'a ResultLine, &'a Value)>,
    pub exit: Option<Exit>,
    /// The last non-empty stderr line, or a non-JSON stdout line.
    pub last_words: Option<&'a str>,
    /// The user asked for the run to stop.
    pub cancelled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Completed { result: Value },
    Failed { reason: String, result: Option<Value> },
    Cancelled { reason: String, result: Option<Value> },
}

pub fn decide(end: RunEnd<'_>) -> Outcome {
    if let Some((line, raw)) = end.result {
        if !line.is_error {
            return Outcome::Completed { result: raw.clone() };
        }
        let reason = line.error_reason();
        return if end.cancelled {
            Outcome::Cancelled { reason: format!("cancelled: {reason}"), result: Some(raw.clone()) }
        } else {
            Outcome::Failed { reason, result: Some(raw.clone()) }
        };
    }
    if end.cancelled {
        return Outcome::Cancelled { reason: "cancelled".to_owned(), result: None };
    }
    let words = end.last_words.map(str::trim).filter(|w| !w.is_empty());
    let reason = match (end.exit, words) {
        (Some(Exit::Code(code)), Some(words)) if code != 0 => format!("{words} (exit status {code})"),
        (Some(Exit::Code(code)), None) if code != 0 => format!("the CLI exited with status {code} without a result"),
        (Some(Exit::Signal(signal)), _) => format!("interrupted: the CLI was killed by signal {signal}"),
        (_, Some(words)) => format!("interrupted: {words}"),
        _ => "interrupted: the CLI ended without a result".to_owned(),
    };
    Outcome::Failed { reason, result: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::stream::{parse_line, StreamLine};

    fn result_of(text: &str) -> (ResultLine, Value) {
        match parse_line(text) {
            StreamLine::Result(line, raw) => (*line, raw),
            other => panic!("not a result: {other:?}"),
        }
    }

    #[test]
    fn a_success_result_completes_even_with_denied_tools() {
        let (line, raw) = result_of(include_str!("../../tests/fixtures/claude-cli/out_json_permission_denied.json"));
        let outcome = decide(RunEnd { result: Some((&line, &raw)), exit: Some(Exit::Code(0)), ..Default::default() });
        assert_eq!(outcome, Outcome::Completed { result: raw.clone() });
        assert!(!raw["permission_denials"].as_array().is_none_or(Vec::is_empty));
    }

    #[test]
    fn an_api_error_fails_with_the_api_message() {
        let (line, raw) = result_of(include_str!("../../tests/fixtures/claude-cli/out_json_error_401.json"));
        let Outcome::Failed { reason, result } = decide(RunEnd { result: Some((&line, &raw)), exit: Some(Exit::Code(1)), ..Default::default() }) else {
            panic!("not failed");
        };
        assert_eq!(reason, "Invalid API key · Fix external API key");
        assert!(result.is_some());
    }

    #[test]
    fn no_result_line_is_never_a_success() {
        // SIGINT while waiting on the API: exit 0 and no result line.
        let outcome = decide(RunEnd { exit: Some(Exit::Code(0)), ..Default::default() });
        assert!(matches!(outcome, Outcome::Failed { ref reason, .. } if reason.starts_with("interrupted")), "{outcome:?}");
        // A plain-text usage error.
        let outcome = decide(RunEnd {
            exit: Some(Exit::Code(1)),
            last_words: Some("No conversation found with session ID: 123"),
            ..Default::default()
        });
        assert_eq!(
            outcome,
            Outcome::Failed { reason: "No conversation found with session ID: 123 (exit status 1)".into(), result: None }
        );
        let outcome = decide(RunEnd { exit: Some(Exit::Signal(9)), ..Default::default() });
        assert!(matches!(outcome, Outcome::Failed { ref reason, .. } if reason.contains("signal 9")));
        let outcome = decide(RunEnd { exit: Some(Exit::Code(143)), cancelled: true, ..Default::default() });
        assert!(matches!(outcome, Outcome::Cancelled { .. }));
    }
}
