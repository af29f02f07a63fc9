//! The CLI's `stream-json` lines (and its single `json` result object).
//!
//! Only the fields this service acts on are typed; unknown line types and fields are normal (new
//! ones appear between CLI versions) and a line that is not JSON at all is kept as text, never
//! dropped.

use serde::Deserialize;
use serde_json::Value;

/// The last line of every run that reached a conclusion. It decides the task's outcome.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ResultLine {
    pub subtype: String,
    #[serde(default)]
    pub is_error: bool,
    /// Reply text on success; the API error message when `is_error` with subtype `success`.
    #[serde(default)]
    pub result: Option<String>,
    /// Present on `error_*` subtypes.
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub total_cost_usd: Option<f64>,
    #[serde(default)]
    pub num_turns: Option<u64>,
    #[serde(default)]
    pub api_error_status: Option<u16>,
}

impl ResultLine {
    /// A sentence saying why a result is an error, in the CLI's own words where it gave any.
    pub fn error_reason(&self) -> String {
        if let Some(text) = self.result.as_deref().filter(|t| !t.trim().is_empty()) {
            return text.trim().to_owned();
        }
        if !self.errors.is_empty() {
            return self.errors.join("; ");
        }
        match self.subtype.as_str() {
            "error_max_turns" => "reached the maximum number of turns".to_owned(),
            "error_max_budget_usd" => "reached the maximum budget".to_owned(),
            "error_during_execution" => "interrupted during execution".to_owned(),
            other => format!("the CLI reported an error ({other})"),
        }
    }
}

/// One line of output, classified.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamLine {
    /// The final result: typed fields plus the untouched object to hand back to clients.
    Result(Box<ResultLine>, Value),
    /// Any other JSON line (`system`, `assistant`, `user`, unknown types).
    Event(Value),
    /// Not JSON: a crash trace or a plain-text error that went to stdout.
    Text(String),
}

pub fn parse_line(line: &str) -> StreamLine {
    let trimmed = line.trim();
    let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
        return StreamLine::Text(trimmed.to_owned());
    };
    if value.get("type").and_then(Value::as_str) == Some("result")
        && let Ok(result) = serde_json::from_value::<ResultLine>(value.clone()) {
        return StreamLine::Result(Box::new(result), value);
    }
    StreamLine::Event(value)
}

pub use app::api::timeline::{summarize_tool, truncate_chars};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli")
    }

    fn fixture_files(prefix: &str) -> Vec<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(fixtures())
            .expect("fixtures folder")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_stream_fixture_parses_and_ends_in_at_most_one_result() {
        let files = fixture_files("stream_");
        assert!(files.len() >= 9, "stream fixtures missing: {files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable fixture");
            let lines: Vec<_> = text.lines().filter(|l| !l.trim().is_empty()).map(parse_line).collect();
            let results: Vec<_> = lines.iter().filter(|l| matches!(l, StreamLine::Result(..))).collect();
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            assert!(lines.iter().all(|l| !matches!(l, StreamLine::Text(_))), "{name}: a JSON line read as text");
            if name == "stream_sigint_waiting_api.jsonl" {
                assert!(results.is_empty(), "{name}: SIGINT while waiting has no result line");
            } else {
                assert_eq!(results.len(), 1, "{name}: one result line");
                assert!(matches!(lines.last(), Some(StreamLine::Result(..))), "{name}: result is last");
            }
        }
    }

    #[test]
    fn every_json_output_fixture_is_a_result_with_a_reason_when_it_failed() {
        for file in fixture_files("out_json_") {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&file).expect("readable fixture");
            if name == "out_json_verbose_is_array.json" {
                // `json` + `--verbose` prints an array: the result is its last element.
                let all: Vec<Value> = serde_json::from_str(&text).expect("array");
                let last = all.last().expect("non-empty").to_string();
                assert!(matches!(parse_line(&last), StreamLine::Result(..)), "{name}");
                continue;
            }
            let StreamLine::Result(result, raw) = parse_line(&text) else {
                panic!("{name}: not read as a result");
            };
            assert_eq!(raw["session_id"].as_str(), result.session_id.as_deref(), "{name}");
            if name.contains("error") {
                assert!(result.is_error, "{name}: is_error");
                assert!(!result.error_reason().is_empty(), "{name}: reason");
            }
        }
    }

    #[test]
    fn api_errors_keep_the_cli_message_and_status() {
        let text = std::fs::read_to_string(fixtures().join("out_json_error_529.json")).expect("fixture");
        let StreamLine::Result(result, _) = parse_line(&text) else { panic!("not a result") };
        assert_eq!(result.api_error_status, Some(529));
        assert!(result.error_reason().starts_with("API Error: 529"), "{}", result.error_reason());
        let text = std::fs::read_to_string(fixtures().join("out_json_error_max_turns.json")).expect("fixture");
        let StreamLine::Result(result, _) = parse_line(&text) else { panic!("not a result") };
        assert_eq!(result.error_reason(), "Reached maximum number of turns (1)");
    }

    #[test]
    fn plain_text_lines_are_kept_as_text() {
        assert_eq!(parse_line("Error: boom\n"), StreamLine::Text("Error: boom".into()));
        assert!(matches!(parse_line(r#"{"type":"future_kind","x":1}"#), StreamLine::Event(_)));
    }

}
