//! What a permission request shows (a command, a file, an edit as a diff, questions, a plan) and
//! what an answer sends back: pure, so it is tested without a browser.

use crate::api::timeline::{request_summary, truncate_chars};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Characters of a file's content or an edit's text shown on the card; the rest is cut with a
/// note (the phone's DOM stays small; the tool still runs with the whole input).
pub const MAX_SHOWN: usize = 20_000;
/// Above this many line pairs, a diff is shown as the old lines then the new ones.
const MAX_DIFF_CELLS: usize = 250_000;

/// A request, read once from its tool and input.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Command { command: String },
    File { path: String, content: String },
    Edits { path: String, edits: Vec<EditDiff> },
    Questions(Vec<Question>),
    Plan { markdown: String },
    Other { summary: String, input: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct EditDiff {
    pub lines: Vec<DiffLine>,
    pub replace_all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Same,
    Removed,
    Added,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub change: Change,
    pub text: String,
}

/// One of `AskUserQuestion`'s questions.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Question {
    pub question: String,
    #[serde(default)]
    pub header: String,
    #[serde(default)]
    pub options: Vec<QuestionOption>,
    #[serde(default, rename = "multiSelect")]
    pub multi_select: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QuestionOption {
    pub label: String,
    #[serde(default)]
    pub description: String,
}

pub fn shown(tool: &str, input: &Value) -> Shown {
    let field = |key: &str| input.get(key).and_then(Value::as_str);
    let cut = |text: &str| cut_for_display(text);
    match (tool, field("command"), field("file_path")) {
        ("Bash", Some(command), _) => return Shown::Command { command: cut(command) },
        ("Write", _, Some(path)) => return Shown::File { path: path.to_owned(), content: cut(field("content").unwrap_or("")) },
        ("Edit", _, Some(path)) => {
            let edit = one_edit(input);
            return Shown::Edits { path: path.to_owned(), edits: vec![edit] };
        }
        ("MultiEdit", _, Some(path)) => {
            let edits = input.get("edits").and_then(Value::as_array).map(|e| e.iter().map(one_edit).collect()).unwrap_or_default();
            return Shown::Edits { path: path.to_owned(), edits };
        }
        _ => {}
    }
    match tool {
        "AskUserQuestion" => {
            let questions: Vec<Question> = input
                .get("questions")
                .and_then(|q| serde_json::from_value(q.clone()).ok())
                .unwrap_or_default();
            if !questions.is_empty() {
                return Shown::Questions(questions);
            }
        }
        "ExitPlanMode" => return Shown::Plan { markdown: cut(field("plan").unwrap_or("")) },
        _ => {}
    }
    let pretty = serde_json::to_string_pretty(input).unwrap_or_default();
    Shown::Other { summary: request_summary(tool, input), input: cut(&pretty) }
}

fn cut_for_display(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN) {
        Some((at, _)) => format!("{}\n… ({} more characters not shown)", &text[..at], text[at..].chars().count()),
        None => text.to_owned(),
    }
}

fn one_edit(edit: &Value) -> EditDiff {
    let text = |key: &str| cut_for_display(edit.get(key).and_then(Value::as_str).unwrap_or(""));
    EditDiff {
        lines: line_diff(&text("old_string"), &text("new_string")),
        replace_all: edit.get("replace_all").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// A line diff of `old` → `new` (longest common subsequence): unchanged lines, then what goes
/// and what comes, in order. A huge pair falls back to all old lines then all new ones.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let line = |change, text: &str| DiffLine { change, text: text.to_owned() };
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
    let (a, b) = (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix]);
    let mut out: Vec<DiffLine> = old[..prefix].iter().map(|t| line(Change::Same, t)).collect();
    if a.len().saturating_mul(b.len()) > MAX_DIFF_CELLS {
        out.extend(a.iter().map(|t| line(Change::Removed, t)));
        out.extend(b.iter().map(|t| line(Change::Added, t)));
    } else {
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let width = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * width];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * width + j] =
                    if a[i] == b[j] { lcs[(i + 1) * width + j + 1] + 1 } else { lcs[(i + 1) * width + j].max(lcs[i * width + j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                out.push(line(Change::Same, a[i]));
                (i, j) = (i + 1, j + 1);
            } else if j == b.len() || (i < a.len() && lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
                out.push(line(Change::Removed, a[i]));
                i += 1;
            } else {
                out.push(line(Change::Added, b[j]));
                j += 1;
            }
        }
    }
    out.extend(old[old.len() - suffix..].iter().map(|t| line(Change::Same, t)));
    out
}

/// A question's input with the user's answers, as `AskUserQuestion` takes it back:
/// `"answers": {"<question>": "<label>"}`, several labels of a multi-select joined with ", ".
pub fn answers_input(input: &Value, answers: &[(String, Vec<String>)]) -> Value {
    let mut updated = match input {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    let answers: Map<String, Value> = answers.iter().map(|(question, labels)| (question.clone(), Value::from(labels.join(", ")))).collect();
    updated.insert("answers".into(), Value::Object(answers));
    Value::Object(updated)
}

/// The labels chosen for one question, in the order the options are listed.
pub fn chosen_labels(question: &Question, selected: &[bool]) -> Vec<String> {
    question.options.iter().zip(selected).filter(|(_, on)| **on).map(|(o, _)| o.label.clone()).collect()
}

/// The card's heading.
pub fn card_title(tool: &str) -> String {
    match tool {
        "Bash" => "Run a command".to_owned(),
        "Write" => "Write a file".to_owned(),
        "Edit" | "MultiEdit" | "NotebookEdit" => "Edit a file".to_owned(),
        "AskUserQuestion" => "Claude has a question".to_owned(),
        "ExitPlanMode" => "Review the plan".to_owned(),
        other => format!("Use {other}"),
    }
}

/// A background notification's title: "Claude wants to run `npm test`".
pub fn headline(tool: &str, input: &Value) -> String {
    let field = |key: &str| input.get(key).and_then(Value::as_str).map(str::trim);
    let first_line = |text: &str| truncate_chars(text.lines().next().unwrap_or(""), 80);
    let text = match (tool, field("command"), field("file_path").or_else(|| field("notebook_path"))) {
        ("Bash", Some(command), _) => format!("Claude wants to run `{}`", first_line(command)),
        ("Write", _, Some(path)) => format!("Claude wants to write {path}"),
        ("Edit" | "MultiEdit" | "NotebookEdit", _, Some(path)) => format!("Claude wants to edit {path}"),
        ("AskUserQuestion", ..) => match input.pointer("/questions/0/question").and_then(Value::as_str) {
            Some(question) => format!("Claude asks: {}", first_line(question)),
            None => "Claude has a question".to_owned(),
        },
        ("ExitPlanMode", ..) => "Claude has a plan for you to review".to_owned(),
        _ => format!("Claude wants to use {}", request_summary(tool, input)),
    };
    truncate_chars(&text, 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff_text(lines: &[DiffLine]) -> String {
        lines
            .iter()
            .map(|l| {
                let mark = match l.change {
                    Change::Same => ' ',
                    Change::Removed => '-',
                    Change::Added => '+',
                };
                format!("{mark}{}", l.text)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn an_edit_is_a_line_diff_of_old_and_new() {
        let diff = line_diff("fn main() {\n    println!(\"hi\");\n}\n", "fn main() {\n    println!(\"hello\");\n    run();\n}\n");
        assert_eq!(diff_text(&diff), " fn main() {\n-    println!(\"hi\");\n+    println!(\"hello\");\n+    run();\n }");
        assert_eq!(diff_text(&line_diff("a\nb\nc", "a\nc")), " a\n-b\n c");
        assert_eq!(diff_text(&line_diff("", "new")), "+new");
        assert_eq!(diff_text(&line_diff("x\ny", "y\nx")), "-x\n y\n+x");
        assert!(line_diff("same", "same").iter().all(|l| l.change == Change::Same));
    }

    #[test]
    fn a_huge_edit_is_old_lines_then_new_ones() {
        let old: String = (0..1000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..1000).map(|i| format!("new {i}\n")).collect();
        let diff = line_diff(&old, &new);
        assert_eq!(diff.len(), 2000);
        assert!(diff[..1000].iter().all(|l| l.change == Change::Removed));
        assert!(diff[1000..].iter().all(|l| l.change == Change::Added));
    }

    #[test]
    fn tools_are_read_into_what_the_card_shows() {
        assert_eq!(shown("Bash", &json!({"command": "npm test", "description": "Run tests"})), Shown::Command { command: "npm test".into() });
        assert_eq!(
            shown("Write", &json!({"file_path": "/p/a.txt", "content": "hi\n"})),
            Shown::File { path: "/p/a.txt".into(), content: "hi\n".into() }
        );
        let Shown::Edits { path, edits } = shown("Edit", &json!({"file_path": "/p/a.rs", "old_string": "a", "new_string": "b", "replace_all": true}))
        else {
            panic!("an edit")
        };
        assert_eq!(path, "/p/a.rs");
        assert!(edits[0].replace_all);
        assert_eq!(diff_text(&edits[0].lines), "-a\n+b");
        let Shown::Edits { edits, .. } =
            shown("MultiEdit", &json!({"file_path": "/p/a.rs", "edits": [{"old_string": "a", "new_string": "b"}, {"old_string": "c", "new_string": "d"}]}))
        else {
            panic!("edits")
        };
        assert_eq!(edits.len(), 2);
        assert_eq!(shown("ExitPlanMode", &json!({"plan": "## Plan"})), Shown::Plan { markdown: "## Plan".into() });
        let Shown::Other { summary, input } = shown("WebFetch", &json!({"url": "https://example.com"})) else { panic!("other") };
        assert_eq!(summary, "WebFetch https://example.com");
        assert!(input.contains("\"url\": \"https://example.com\""));
        // Malformed questions are shown as they came.
        assert!(matches!(shown("AskUserQuestion", &json!({"questions": "?"})), Shown::Other { .. }));
        let long = "x".repeat(MAX_SHOWN + 5);
        let Shown::File { content, .. } = shown("Write", &json!({"file_path": "/p/big", "content": long})) else { panic!("file") };
        assert!(content.ends_with("… (5 more characters not shown)"), "{}", &content[content.len() - 60..]);
    }

    #[test]
    fn answers_go_back_in_the_questions_input() {
        let input = json!({"questions": [
            {"question": "Which colour should the button be?", "header": "Colour", "multiSelect": false,
             "options": [{"label": "Red", "description": "A warm red"}, {"label": "Blue", "description": "A calm blue"}]},
            {"question": "Which sizes?", "header": "Size", "multiSelect": true,
             "options": [{"label": "S"}, {"label": "M"}, {"label": "L"}]}
        ]});
        let Shown::Questions(questions) = shown("AskUserQuestion", &input) else { panic!("questions") };
        assert_eq!(questions.len(), 2);
        assert!(!questions[0].multi_select && questions[1].multi_select);
        assert_eq!(questions[0].options[1].description, "A calm blue");
        let answers = [
            (questions[0].question.clone(), chosen_labels(&questions[0], &[false, true])),
            (questions[1].question.clone(), chosen_labels(&questions[1], &[true, false, true])),
        ];
        let updated = answers_input(&input, &answers);
        assert_eq!(updated["questions"], input["questions"], "the input is kept");
        assert_eq!(updated["answers"], json!({"Which colour should the button be?": "Blue", "Which sizes?": "S, L"}));
    }

    #[test]
    fn headlines_say_what_claude_wants() {
        assert_eq!(headline("Bash", &json!({"command": "npm test\nnpm run lint"})), "Claude wants to run `npm test`");
        assert_eq!(headline("Write", &json!({"file_path": "/p/hello.txt"})), "Claude wants to write /p/hello.txt");
        assert_eq!(headline("Edit", &json!({"file_path": "/p/a.rs"})), "Claude wants to edit /p/a.rs");
        assert_eq!(
            headline("AskUserQuestion", &json!({"questions": [{"question": "Which colour?"}]})),
            "Claude asks: Which colour?"
        );
        assert_eq!(headline("ExitPlanMode", &json!({"plan": "x"})), "Claude has a plan for you to review");
        assert_eq!(headline("WebFetch", &json!({"url": "https://example.com"})), "Claude wants to use WebFetch https://example.com");
        assert_eq!(card_title("mcp__db__query"), "Use mcp__db__query");
    }
}
