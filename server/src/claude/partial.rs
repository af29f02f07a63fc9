//! `--include-partial-messages`: the API's stream as the CLI relays it, one `stream_event` line
//! per server-sent event. Only the words of the reply being written matter here; the complete
//! `assistant` line that follows each message is the record, so these lines are never stored.

use serde_json::Value;

/// What a `stream_event` line means for the reply being written.
#[derive(Debug, PartialEq, Eq)]
pub enum Partial<'a> {
    /// A new API message begins: the words so far belonged to the previous one.
    MessageStart,
    /// A new text block within the message (after a tool call or thinking, say).
    TextBlockStart,
    /// Words of the current text block.
    Text(&'a str),
    /// Anything else the API streams (tool input, thinking, stops, usage).
    Other,
}

/// `None` when `line` is not a `stream_event` (or is a subagent's, which is not the reply).
pub fn classify(line: &Value) -> Option<Partial<'_>> {
    if line.get("type").and_then(Value::as_str) != Some("stream_event") {
        return None;
    }
    if !line.get("parent_tool_use_id").is_none_or(Value::is_null) {
        return Some(Partial::Other);
    }
    let Some(event) = line.get("event") else { return Some(Partial::Other) };
    let kind = |path: &str| event.pointer(path).and_then(Value::as_str);
    Some(match kind("/type") {
        Some("message_start") => Partial::MessageStart,
        Some("content_block_start") if kind("/content_block/type") == Some("text") => Partial::TextBlockStart,
        Some("content_block_delta") if kind("/delta/type") == Some("text_delta") => kind("/delta/text").map_or(Partial::Other, Partial::Text),
        _ => Partial::Other,
    })
}

/// Whether a raw output line is a `stream_event` (the CLI writes `type` first), without parsing
/// the line when it plainly is not one.
pub fn is_stream_event(line: &str) -> bool {
    line.contains("\"stream_event\"")
        && serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("stream_event"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<Value> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    #[test]
    fn the_real_stream_spells_the_reply_word_by_word() {
        let lines = fixture("stdio/partial_messages.stdout.jsonl");
        let words: String = lines
            .iter()
            .filter_map(classify)
            .filter_map(|p| match p {
                Partial::Text(t) => Some(t),
                _ => None,
            })
            .collect();
        let result = lines.iter().find(|l| l["type"] == "result").and_then(|l| l["result"].as_str());
        assert_eq!(Some(words.as_str()), result);
        assert_eq!(lines.iter().filter_map(classify).filter(|p| *p == Partial::MessageStart).count(), 1);
        // Every other line (init, status, the complete assistant message, the result) is no partial.
        assert!(lines.iter().filter(|l| l["type"] != "stream_event").all(|l| classify(l).is_none()));
    }

    #[test]
    fn a_subagents_stream_is_not_the_reply() {
        let line = serde_json::json!({"type":"stream_event","parent_tool_use_id":"toolu_1",
            "event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"inner"}}});
        assert_eq!(classify(&line), Some(Partial::Other));
    }

    #[test]
    fn stream_events_are_told_from_other_lines() {
        let lines = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli/stream_partial.jsonl"))
            .expect("fixture");
        let (events, others): (Vec<&str>, Vec<&str>) = lines.lines().partition(|l| is_stream_event(l));
        assert!(!events.is_empty() && !others.is_empty());
        assert!(others.iter().all(|l| !l.starts_with("{\"type\":\"stream_event\"")));
        assert!(!is_stream_event(r#"{"type":"assistant","message":{"content":[{"type":"text","text":"\"stream_event\""}]}}"#));
    }
}
