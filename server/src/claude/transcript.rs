//! Reading a session transcript (`projects/<enc>/<session>.jsonl`): its metadata for the session
//! list, and its turns for the history view. A line that does not parse is skipped; it never
//! hides the rest of the file.

use super::stream::summarize_tool;
use app::api::{Role, ToolCall, Turn};
use serde_json::Value;
use std::io::BufRead;

/// What the session list needs from one transcript.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionMeta {
    pub cwd: Option<String>,
    /// `custom-title`, else `ai-title`, else `summary`.
    pub title: Option<String>,
    pub first_prompt: Option<String>,
    pub last_prompt: Option<String>,
}

impl SessionMeta {
    /// The title a person would recognise: an explicit title, else the first prompt.
    pub fn display_title(&self) -> Option<&str> {
        self.title.as_deref().or(self.first_prompt.as_deref())
    }
}

/// Line kinds worth parsing for metadata; other lines (tool output, attachments) can be large and
/// are skipped without parsing.
const META_MARKERS: [&str; 6] = [
    "\"type\":\"user\"",
    "\"custom-title\"",
    "\"ai-title\"",
    "\"summary\"",
    "\"last-prompt\"",
    "\"queue-operation\"",
];

pub fn read_meta(reader: impl BufRead) -> SessionMeta {
    let mut meta = SessionMeta::default();
    let mut custom_title = None;
    let mut ai_title = None;
    let mut summary = None;
    let mut queued_prompt = None;
    for line in reader.split(b'\n').map_while(Result::ok) {
        let Ok(text) = std::str::from_utf8(&line) else { continue };
        let wanted = META_MARKERS.iter().any(|m| text.contains(m)) || (meta.cwd.is_none() && text.contains("\"cwd\""));
        if !wanted {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else { continue };
        if meta.cwd.is_none() {
            meta.cwd = str_field(&value, "cwd").map(str::to_owned);
        }
        match str_field(&value, "type") {
            Some("custom-title") => custom_title = str_field(&value, "customTitle").map(str::to_owned),
            Some("ai-title") => {
                ai_title = str_field(&value, "aiTitle").or_else(|| str_field(&value, "title")).map(str::to_owned)
            }
            Some("summary") => summary = str_field(&value, "summary").map(str::to_owned),
            Some("last-prompt") => meta.last_prompt = str_field(&value, "lastPrompt").map(str::to_owned),
            Some("queue-operation") if queued_prompt.is_none()
                && str_field(&value, "operation") == Some("enqueue") => {
                queued_prompt = str_field(&value, "content").map(str::to_owned);
            }
            Some("user") if meta.first_prompt.is_none() => meta.first_prompt = user_prompt(&value),
            _ => {}
        }
    }
    meta.title = custom_title.or(ai_title).or(summary);
    // Shown as the session's title: one line, as for a session whose transcript is not written yet.
    meta.first_prompt = meta.first_prompt.or(queued_prompt).map(|p| super::sessions::title_line(&p));
    meta
}

/// The folder the session ran in (`cwd`, on the CLI's message lines), from the transcript's
/// first lines: at most `MAX_CWD_LINES` are read, so a large transcript costs little.
pub fn read_cwd(reader: impl BufRead) -> Option<String> {
    const MAX_CWD_LINES: usize = 50;
    for line in reader.split(b'\n').map_while(Result::ok).take(MAX_CWD_LINES) {
        let Ok(text) = std::str::from_utf8(&line) else { continue };
        if !text.contains("\"cwd\"") {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else { continue };
        if let Some(cwd) = str_field(&value, "cwd") {
            return Some(cwd.to_owned());
        }
    }
    None
}

/// The turns of a transcript, in order: each user prompt, then one assistant turn gathering the
/// text and tool calls that answered it (across tool results and several API messages).
pub fn read_turns(reader: impl BufRead) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for line in reader.split(b'\n').map_while(Result::ok) {
        let Ok(value) = serde_json::from_slice::<Value>(&line) else { continue };
        if value.get("isSidechain").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let timestamp = str_field(&value, "timestamp").map(str::to_owned);
        match str_field(&value, "type") {
            Some("user") => {
                if let Some(prompt) = user_prompt(&value) {
                    turns.push(Turn { role: Role::User, text: prompt, tools: Vec::new(), timestamp, synthetic: false });
                }
            }
            Some("assistant") => {
                let blocks = value.pointer("/message/content").and_then(Value::as_array);
                // The CLI's own words stand alone, never merged into the model's reply.
                let synthetic = value.pointer("/message/model").and_then(Value::as_str) == Some("<synthetic>");
                let starts_turn = synthetic || !matches!(turns.last(), Some(Turn { role: Role::Assistant, synthetic: false, .. }));
                if starts_turn {
                    turns.push(Turn { role: Role::Assistant, text: String::new(), tools: Vec::new(), timestamp, synthetic });
                }
                let Some(turn) = turns.last_mut() else { continue };
                for block in blocks.into_iter().flatten() {
                    match str_field(block, "type") {
                        Some("text") => {
                            let text = str_field(block, "text").unwrap_or("").trim();
                            if !text.is_empty() {
                                if !turn.text.is_empty() {
                                    turn.text.push_str("\n\n");
                                }
                                turn.text.push_str(text);
                            }
                        }
                        Some("tool_use") => {
                            let name = str_field(block, "name").unwrap_or("tool");
                            let input = block.get("input").unwrap_or(&Value::Null);
                            turn.tools.push(ToolCall { name: name.to_owned(), summary: summarize_tool(name, input) });
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    turns.retain(|turn| !(turn.text.is_empty() && turn.tools.is_empty()));
    turns
}

/// The text a person typed, or `None` for tool results, meta lines and command echoes.
fn user_prompt(value: &Value) -> Option<String> {
    if value.get("isMeta").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let content = value.pointer("/message/content")?;
    let text = match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => {
            if blocks.iter().any(|b| str_field(b, "type") == Some("tool_result")) {
                return None;
            }
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| str_field(b, "type") == Some("text"))
                .filter_map(|b| str_field(b, "text"))
                .collect();
            texts.join("\n")
        }
        _ => return None,
    };
    let trimmed = text.trim();
    let machine_made = ["<command-", "<local-command", "[Request interrupted", "Caveat:"];
    if trimmed.is_empty() || machine_made.iter().any(|m| trimmed.starts_with(m)) {
        return None;
    }
    Some(trimmed.to_owned())
}

fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli")
    }

    fn transcripts() -> Vec<PathBuf> {
        let dir = fixtures().join("projects_tree/-home-dev-project");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("fixture folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.push(fixtures().join("session_tui_interactive.jsonl"));
        files
    }

    fn open(path: &Path) -> std::io::BufReader<std::fs::File> {
        std::io::BufReader::new(std::fs::File::open(path).expect("fixture"))
    }

    #[test]
    fn every_fixture_transcript_has_a_cwd_a_title_and_alternating_turns() {
        let files = transcripts();
        assert!(files.len() >= 20);
        for file in files {
            let meta = read_meta(open(&file));
            assert!(meta.cwd.as_deref().is_some_and(|c| c.starts_with("/home/dev/")), "{file:?}: {meta:?}");
            assert!(meta.display_title().is_some(), "{file:?} has no title");
            let turns = read_turns(open(&file));
            assert_eq!(turns.first().map(|t| t.role), Some(Role::User), "{file:?}");
            for pair in turns.windows(2) {
                assert_ne!(pair[0].role, pair[1].role, "{file:?}: two turns of one role in a row");
            }
        }
    }

    #[test]
    fn a_custom_title_wins_over_the_first_prompt() {
        let file = fixtures().join("projects_tree/-home-dev-project/496b9a9c-e1f6-4ced-87a6-8c53a0ba74f0.jsonl");
        let meta = read_meta(open(&file));
        assert_eq!(meta.title.as_deref(), Some("my-title"));
        assert!(meta.first_prompt.is_some());
    }

    #[test]
    fn an_interactive_session_reads_as_two_exchanges_with_its_last_prompt() {
        let file = fixtures().join("session_tui_interactive.jsonl");
        let meta = read_meta(open(&file));
        assert_eq!(meta.first_prompt.as_deref(), Some("hello from the tui"));
        assert_eq!(meta.last_prompt.as_deref(), Some("second tui prompt"));
        let turns = read_turns(open(&file));
        let texts: Vec<_> = turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["hello from the tui", "Fake reply to: hello from the tui", "second tui prompt", "Fake reply to: second tui prompt"]
        );
    }

    #[test]
    fn tool_calls_are_summarized_inside_the_assistant_turn() {
        let file = fixtures().join("projects_tree/-home-dev-project/1f6ae251-f7d6-42aa-ba79-063f6a76fa4c.jsonl");
        let turns = read_turns(open(&file));
        let assistant = turns.iter().find(|t| t.role == Role::Assistant).expect("an assistant turn");
        assert_eq!(assistant.tools.first().map(|t| t.summary.as_str()), Some("Bash: echo multi"));
        assert!(assistant.text.contains("Tool said"), "{}", assistant.text);
        assert_eq!(turns.iter().filter(|t| t.role == Role::User).count(), 1, "tool results are not user turns");
    }

    #[test]
    fn the_clis_own_words_are_marked_apart_from_replies() {
        let file = fixtures().join("projects_tree/-home-dev-project/0034f1dd-f202-420b-92e7-8a4b27c7b4fa.jsonl");
        let turns = read_turns(open(&file));
        let error = turns.iter().find(|t| t.role == Role::Assistant).expect("the API error turn");
        assert!(error.synthetic && error.text.starts_with("API Error: 529"), "{error:?}");
        let reply = fixtures().join("session_tui_interactive.jsonl");
        assert!(read_turns(open(&reply)).iter().all(|t| !t.synthetic), "the model's replies are not");
    }

    #[test]
    fn broken_lines_do_not_hide_the_rest() {
        let text = "not json\n{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hi\"},\"cwd\":\"/p\"}\n\u{0}\u{1}garbage{\n{\"type\":\"last-prompt\",\"lastPrompt\":\"hi\"}\n";
        let meta = read_meta(text.as_bytes());
        assert_eq!(meta.first_prompt.as_deref(), Some("hi"));
        assert_eq!(meta.last_prompt.as_deref(), Some("hi"));
        assert_eq!(read_turns(text.as_bytes()).len(), 1);
    }
}
