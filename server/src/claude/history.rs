//! `history.jsonl`: prompts typed in the interactive mode (never written by `-p`). Used only where
//! it adds something to the transcripts: the first prompt of a session, or a session whose
//! transcript is gone.

use serde::Deserialize;
use std::collections::HashMap;
use std::io::BufRead;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct HistoryLine {
    display: String,
    timestamp: i64,
    project: String,
    #[serde(rename = "sessionId")]
    session_id: Option<Uuid>,
}

/// What history says about one session of the project.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub first_prompt: String,
    pub last_prompt: String,
    /// Milliseconds since the Unix epoch of its latest prompt.
    pub timestamp: i64,
}

/// The project's sessions as history records them. Lines of other projects and lines that do not
/// parse are skipped.
pub fn read_project_history(reader: impl BufRead, project: &str) -> HashMap<Uuid, HistoryEntry> {
    let mut sessions: HashMap<Uuid, HistoryEntry> = HashMap::new();
    for line in reader.split(b'\n').map_while(Result::ok) {
        let Ok(entry) = serde_json::from_slice::<HistoryLine>(&line) else { continue };
        let Some(id) = entry.session_id.filter(|_| entry.project == project) else { continue };
        // Slash commands (`/exit`, `/cost`) are not what a session is about.
        let is_command = entry.display.starts_with('/');
        sessions
            .entry(id)
            .and_modify(|known| {
                if entry.timestamp >= known.timestamp {
                    known.timestamp = entry.timestamp;
                    if !is_command {
                        known.last_prompt = entry.display.clone();
                    }
                }
            })
            .or_insert_with(|| HistoryEntry {
                first_prompt: entry.display.clone(),
                last_prompt: entry.display.clone(),
                timestamp: entry.timestamp,
            });
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_history_gives_first_and_last_prompt_of_its_project_only() {
        let text = include_str!("../../tests/fixtures/claude-cli/history.jsonl");
        let sessions = read_project_history(text.as_bytes(), "/home/dev/tui-project");
        let id: Uuid = "dff03279-0492-4a52-baa4-f4289e7ad6f5".parse().expect("uuid");
        let entry = sessions.get(&id).expect("the tui session");
        assert_eq!(entry.first_prompt, "hello from the tui");
        assert_eq!(entry.last_prompt, "second tui prompt");
        assert_eq!(entry.timestamp, 1795483034403);
        assert!(read_project_history(text.as_bytes(), "/elsewhere").is_empty());
        let with_garbage = format!("garbage\n{text}\n{{\"display\":1}}\n");
        assert_eq!(read_project_history(with_garbage.as_bytes(), "/home/dev/tui-project").len(), sessions.len());
    }
}
