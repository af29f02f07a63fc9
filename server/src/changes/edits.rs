//! The file edits a task's output lines record: each Write, Edit, MultiEdit or NotebookEdit
//! tool use (its input) that succeeded, with the file as it was before (the `originalFile` of
//! the CLI's `tool_use_result`, `null` for a new file). Read a line at a time, so a task's
//! output is never held whole.
//!
//! Write, Edit and NotebookEdit are checked against the real CLI 2.1 (server/tests/real_cli.rs);
//! 2.1 has no MultiEdit tool, which older CLIs had and is read from its input alone.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// A file as the task's edits leave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdit {
    /// Before the task's first edit of it; `None`: it did not exist.
    pub before: Option<String>,
    pub after: String,
}

/// What a task's lines say it did to files.
#[derive(Debug, Default)]
pub struct ToolEdits {
    /// By absolute path, in the order first edited.
    pub files: Vec<(String, FileEdit)>,
    /// It ran a shell command (Bash), which may have changed files no edit records.
    pub ran_commands: bool,
    /// Edit tool uses seen, waiting for their result: id → (tool, input).
    waiting: HashMap<String, (String, Value)>,
}

const EDIT_TOOLS: [&str; 4] = ["Write", "Edit", "MultiEdit", "NotebookEdit"];

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    message: Option<Message>,
    tool_use_result: Option<Value>,
}

#[derive(Deserialize)]
struct Message {
    content: Content,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Blocks(Vec<Block>),
    #[allow(dead_code)]
    Text(String),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    ToolUse { id: String, name: String, input: Value },
    ToolResult { tool_use_id: String, #[serde(default)] is_error: bool },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Replace {
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

#[derive(Deserialize)]
struct WriteInput {
    content: String,
}

#[derive(Deserialize)]
struct EditInput {
    #[serde(flatten)]
    replace: Replace,
}

#[derive(Deserialize)]
struct MultiEditInput {
    edits: Vec<Replace>,
}

/// The CLI's `tool_use_result` of an edit: the file before, where it says so.
#[derive(Deserialize)]
struct EditResult {
    #[serde(rename = "filePath", alias = "notebook_path")]
    file_path: Option<String>,
    /// Absent: not said; `null`: the file did not exist.
    #[serde(rename = "originalFile", alias = "originalFileContents", alias = "original_file", default, deserialize_with = "present")]
    original: Option<Option<String>>,
    /// A notebook's whole text after the edit.
    #[serde(alias = "updated_file")]
    updated: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl ToolEdits {
    /// Takes one output line (any line: those about no edit are passed over).
    pub fn read_line(&mut self, line: &str) {
        // Cheap test first: most lines are neither a tool use nor a tool result.
        if !line.contains("\"tool_use\"") && !line.contains("\"tool_result\"") {
            return;
        }
        let Ok(line) = serde_json::from_str::<Line>(line) else { return };
        let Some(Message { content: Content::Blocks(blocks) }) = line.message else { return };
        for block in blocks {
            match block {
                Block::ToolUse { id, name, input } if line.kind == "assistant" => {
                    if name == "Bash" {
                        self.ran_commands = true;
                    } else if EDIT_TOOLS.contains(&name.as_str()) {
                        self.waiting.insert(id, (name, input));
                    }
                }
                Block::ToolResult { tool_use_id, is_error } if line.kind == "user" => {
                    let Some((name, input)) = self.waiting.remove(&tool_use_id) else { continue };
                    if is_error {
                        continue;
                    }
                    let result = line.tool_use_result.as_ref().and_then(|r| EditResult::deserialize(r).ok());
                    self.apply(&name, input, result);
                }
                _ => {}
            }
        }
    }

    /// Records one successful edit, when the lines say enough to know the file after it.
    fn apply(&mut self, tool: &str, input: Value, result: Option<EditResult>) {
        let (said_path, original, updated) = match result {
            Some(r) => (r.file_path, r.original, r.updated),
            None => (None, None, None),
        };
        let path = said_path.or_else(|| {
            ["file_path", "notebook_path"].iter().find_map(|key| input.get(*key).and_then(Value::as_str).map(str::to_owned))
        });
        let Some(path) = path else { return };
        let index = self.files.iter().position(|(p, _)| *p == path);
        // The file before this edit: what the result says, else what earlier edits left.
        let current = match (original, index) {
            (Some(original), _) => original,
            (None, Some(i)) => Some(self.files[i].1.after.clone()),
            (None, None) if tool == "Write" => None,
            (None, None) => return,
        };
        let after = match tool {
            "Write" => serde_json::from_value::<WriteInput>(input).ok().map(|w| w.content),
            "Edit" => serde_json::from_value::<EditInput>(input).ok().and_then(|e| replace(current.as_deref(), &e.replace)),
            "MultiEdit" => serde_json::from_value::<MultiEditInput>(input).ok().and_then(|m| {
                m.edits.iter().try_fold(current.clone().unwrap_or_default(), |text, edit| replace(Some(&text), edit))
            }),
            _ => updated,
        };
        let Some(after) = after else { return };
        match index {
            Some(i) => self.files[i].1.after = after,
            None => self.files.push((path, FileEdit { before: current, after })),
        }
    }
}

/// The text after one replacement; `None` when the old string is not there (the tool would
/// have failed), except that an empty old string on no file creates it.
fn replace(text: Option<&str>, edit: &Replace) -> Option<String> {
    let text = match text {
        None if edit.old_string.is_empty() => return Some(edit.new_string.clone()),
        None => return None,
        Some(text) => text,
    };
    if edit.old_string.is_empty() || !text.contains(&edit.old_string) {
        return None;
    }
    Some(if edit.replace_all { text.replace(&edit.old_string, &edit.new_string) } else { text.replacen(&edit.old_string, &edit.new_string, 1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool_use(id: &str, name: &str, input: Value) -> String {
        json!({"type": "assistant", "message": {"content": [{"type": "tool_use", "id": id, "name": name, "input": input}]}}).to_string()
    }

    fn tool_result(id: &str, is_error: bool, result: Value) -> String {
        json!({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": id, "content": "ok", "is_error": is_error}]}, "tool_use_result": result}).to_string()
    }

    fn read(lines: &[String]) -> ToolEdits {
        let mut edits = ToolEdits::default();
        for line in lines {
            edits.read_line(line);
        }
        edits
    }

    /// The real CLI's lines for a Write that created a file (fixtures/stdio/allow_write).
    #[test]
    fn a_write_of_a_new_file_is_read_from_the_real_cli_s_lines() {
        let fixture = include_str!("../../tests/fixtures/claude-cli/stdio/allow_write.stdout.jsonl");
        let edits = read(&fixture.lines().map(str::to_owned).collect::<Vec<_>>());
        let expected = FileEdit { before: None, after: "written by fake\n".into() };
        assert_eq!(edits.files, [("/home/dev/project/hello.txt".to_owned(), expected)]);
        assert!(!edits.ran_commands);
    }

    #[test]
    fn edits_of_one_file_add_up_from_its_first_state() {
        let edits = read(&[
            tool_use("1", "Edit", json!({"file_path": "/p/a.rs", "old_string": "one", "new_string": "1"})),
            tool_result("1", false, json!({"filePath": "/p/a.rs", "oldString": "one", "newString": "1", "originalFile": "one two one\n"})),
            tool_use("2", "MultiEdit", json!({"file_path": "/p/a.rs", "edits": [{"old_string": "two", "new_string": "2"}, {"old_string": "one", "new_string": "I", "replace_all": true}]})),
            tool_result("2", false, json!({"filePath": "/p/a.rs"})),
            tool_use("3", "Edit", json!({"file_path": "/p/b.rs", "old_string": "x", "new_string": "y"})),
            tool_result("3", true, json!("Error: String to replace not found")),
            tool_use("4", "Bash", json!({"command": "ls"})),
        ]);
        assert_eq!(edits.files, [("/p/a.rs".to_owned(), FileEdit { before: Some("one two one\n".into()), after: "1 2 I\n".into() })]);
        assert!(edits.ran_commands);
    }

    #[test]
    fn a_write_over_an_existing_file_keeps_what_it_was() {
        let edits = read(&[
            tool_use("1", "Write", json!({"file_path": "/p/c.txt", "content": "new\n"})),
            tool_result("1", false, json!({"type": "update", "filePath": "/p/c.txt", "content": "new\n", "originalFile": "old\n"})),
        ]);
        assert_eq!(edits.files[0].1, FileEdit { before: Some("old\n".into()), after: "new\n".into() });
    }
}
