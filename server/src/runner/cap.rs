//! What one task may store of its output.
//!
//! A task keeps at most [`HEAD_BYTES`] (7 MiB) of its first lines, stored as they come, and at
//! most [`TAIL_BYTES`] (1 MiB) of its last lines, taken from the output file when the CLI is gone:
//! 8 MiB of lines per task. One `output_truncated` line stands in between for what was cut:
//! `{"type":"system","subtype":"output_truncated","lines":N,"bytes":M}` (a `system` line, which
//! clients treat like any other notice). The CLI's `result` line, the task's outcome, is always
//! kept, even when it alone is over the tail's budget (it is at most
//! [`super::spool::MAX_LINE_BYTES`]); a line over that limit is replaced by a marker of its own.
//!
//! Lines are numbered by their position in the file, so the numbers skip what was cut: the marker
//! takes the number of the first line it stands for, and the tail keeps its own numbers.

use super::spool::SpoolLine;
use crate::store::{Cut, LineAt, OutputState};
use crate::claude::partial;

/// The first lines of a task's output stored as they come (7 MiB).
pub const HEAD_BYTES: u64 = 7 * 1024 * 1024;
/// The last lines of a task's output kept when its head was full (1 MiB).
pub const TAIL_BYTES: u64 = 1024 * 1024;

/// The line that stands for `lines` lines (`bytes` bytes of output) that were not kept.
pub fn marker(lines: u64, bytes: u64) -> String {
    serde_json::json!({ "type": "system", "subtype": "output_truncated", "lines": lines, "bytes": bytes }).to_string()
}

/// Decides what to store for the next line read (position `seq`), and counts it: its text while
/// the head has room, a marker for a line too long to keep, nothing once the head is full.
pub fn admit(state: &mut OutputState, seq: u64, line: SpoolLine, is_result: bool) -> Option<String> {
    let at = LineAt { seq, offset: line.offset, len: line.len };
    if is_result {
        // The outcome: re-read from the file at the end when it is not stored now.
        state.result = Some(at);
    }
    if let Some(cut) = &mut state.cut {
        cut.lines += 1;
        cut.bytes += line.len;
        return None;
    }
    let kept = line.text.unwrap_or_else(|| marker(1, line.len));
    if state.stored_bytes + kept.len() as u64 <= HEAD_BYTES {
        state.stored_bytes += kept.len() as u64;
        return Some(kept);
    }
    state.cut = Some(Cut { seq, offset: line.offset, lines: 1, bytes: line.len });
    None
}

/// Where to read the tail from once the CLI is gone and the file was read to `end`: the last
/// [`TAIL_BYTES`] of it, never before the cut. `None` when nothing was cut.
pub fn tail_window(state: &OutputState, end: u64) -> Option<u64> {
    let cut = state.cut?;
    Some(cut.offset.max(end.saturating_sub(TAIL_BYTES)))
}

/// What to store at the end: the marker for what stays cut, the tail (lines read back from the
/// window, numbered so that the last one is `next_seq - 1`), and the result line when the tail
/// does not hold it (`result_line`, read back from the file).
pub fn ending(state: &mut OutputState, tail: Vec<SpoolLine>, result_line: Option<String>) -> Vec<(u64, String)> {
    let Some(cut) = state.cut else { return Vec::new() };
    // Streamed words were never counted, stored nor numbered (see `output`).
    let tail: Vec<SpoolLine> = tail.into_iter().filter(|line| !line.text.as_deref().is_some_and(partial::is_stream_event)).collect();
    let first_tail = state.next_seq.saturating_sub(tail.len() as u64);
    let (mut lines, mut bytes) = (cut.lines, cut.bytes);
    let mut kept = Vec::with_capacity(tail.len() + 2);
    for (seq, line) in (first_tail..).zip(tail) {
        lines = lines.saturating_sub(1);
        bytes = bytes.saturating_sub(line.len);
        if let Some(text) = line.text {
            state.stored_bytes += text.len() as u64;
            kept.push((seq, text));
        }
    }
    let result = state.result.filter(|r| r.seq >= cut.seq && r.seq < first_tail);
    if let (Some(result), Some(text)) = (result, result_line) {
        lines = lines.saturating_sub(1);
        bytes = bytes.saturating_sub(result.len);
        state.stored_bytes += text.len() as u64;
        kept.push((result.seq, text));
    }
    if lines > 0 {
        // The first cut line's number, unless the kept result line took it: then the next one,
        // which is cut since lines remain and the tail comes later.
        let seq = if result.is_some_and(|r| r.seq == cut.seq) { cut.seq + 1 } else { cut.seq };
        let marker = marker(lines, bytes);
        state.stored_bytes += marker.len() as u64;
        kept.push((seq, marker));
    }
    kept.sort_by_key(|(seq, _)| *seq);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Runs `lines` (text, is_result) through the cap as a task whose file holds them in order,
    /// then ends it as the runner does: the tail read back from the file's last bytes.
    fn run(lines: &[(String, bool)]) -> Vec<(u64, String)> {
        let mut state = OutputState::default();
        let mut file: Vec<SpoolLine> = Vec::new();
        let mut stored = Vec::new();
        let mut numbered = Vec::new();
        for (text, is_result) in lines {
            let offset = file.last().map_or(0, |l| l.offset + l.len);
            let line = SpoolLine { offset, len: text.len() as u64 + 1, text: Some(text.clone()) };
            file.push(line.clone());
            // As `output` does: streamed words are not numbered.
            if partial::is_stream_event(text) {
                continue;
            }
            numbered.push(text.clone());
            let seq = state.next_seq;
            state.next_seq += 1;
            if let Some(kept) = admit(&mut state, seq, line, *is_result) {
                stored.push((seq, kept));
            }
        }
        let end = file.last().map_or(0, |l| l.offset + l.len);
        if let Some(window) = tail_window(&state, end) {
            let tail: Vec<SpoolLine> = file.iter().filter(|l| l.offset >= window).cloned().collect();
            let result_line = state.result.map(|r| numbered[(r.seq - 1) as usize].clone());
            stored.extend(ending(&mut state, tail, result_line));
        }
        stored.sort_by_key(|(seq, _)| *seq);
        stored
    }

    fn assistant(n: usize, size: usize) -> (String, bool) {
        (format!("{{\"type\":\"assistant\",\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(size)), false)
    }

    fn result() -> (String, bool) {
        (r#"{"type":"result","subtype":"success","is_error":false,"result":"done"}"#.to_owned(), true)
    }

    fn marker_counts(line: &str) -> (u64, u64) {
        let value: Value = serde_json::from_str(line).expect("the marker is JSON");
        assert_eq!((value["type"].as_str(), value["subtype"].as_str()), (Some("system"), Some("output_truncated")));
        (value["lines"].as_u64().unwrap_or(0), value["bytes"].as_u64().unwrap_or(0))
    }

    #[test]
    fn streamed_words_in_a_cut_output_are_neither_numbered_nor_kept() {
        let word = (r#"{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"w "}}}"#.to_owned(), false);
        let mut lines = Vec::new();
        for n in 0..4_000 {
            lines.push(word.clone());
            lines.push(assistant(n, 4_000));
        }
        lines.push(word);
        lines.push(result());
        let stored = run(&lines);
        let seqs: Vec<u64> = stored.iter().map(|(seq, _)| *seq).collect();
        assert!(seqs.windows(2).all(|w| w[1] > w[0]), "in order");
        assert_eq!(seqs.last(), Some(&4_001), "4,000 messages and the result");
        assert!(stored.iter().all(|(_, line)| !partial::is_stream_event(line)));
        let (cut_lines, _) = stored.iter().find(|(_, l)| l.contains("output_truncated")).map(|(_, l)| marker_counts(l)).expect("a cut");
        assert_eq!(cut_lines as usize + stored.len() - 1, 4_001, "the marker counts only what was numbered");
    }

    #[test]
    fn a_small_output_is_kept_whole_and_numbered_in_order() {
        let mut lines: Vec<_> = (0..100).map(|n| assistant(n, 100)).collect();
        lines.push(result());
        let stored = run(&lines);
        assert_eq!(stored.len(), 101);
        assert!(stored.iter().enumerate().all(|(i, (seq, text))| *seq == i as u64 + 1 && *text == lines[i].0));
    }

    #[test]
    fn an_enormous_output_keeps_head_marker_tail_and_result() {
        // ~20 MiB in 2 KiB lines, then the result.
        let mut lines: Vec<_> = (0..10_000).map(|n| assistant(n, 2000)).collect();
        lines.push(result());
        let stored = run(&lines);
        let total: u64 = stored.iter().map(|(_, t)| t.len() as u64).sum();
        assert!(total <= HEAD_BYTES + TAIL_BYTES + 200, "stored {total} bytes");
        let markers: Vec<_> = stored.iter().filter(|(_, t)| t.contains("output_truncated")).collect();
        assert_eq!(markers.len(), 1, "one marker");
        let (marker_seq, marker) = markers[0];
        let head: Vec<u64> = stored.iter().map(|(s, _)| *s).take_while(|s| s < marker_seq).collect();
        assert_eq!(head, (1..*marker_seq).collect::<Vec<_>>(), "the head is every line up to the marker");
        let bytes_of = |seqs: &[u64]| -> u64 { seqs.iter().map(|s| lines[(*s - 1) as usize].0.len() as u64).sum() };
        let head_bytes = bytes_of(&head);
        assert!(head_bytes <= HEAD_BYTES && head_bytes > HEAD_BYTES - 2100, "the head is full: {head_bytes} bytes");
        let tail: Vec<u64> = stored.iter().map(|(s, _)| *s).skip_while(|s| s <= marker_seq).collect();
        let first_tail = tail[0];
        assert_eq!(tail, (first_tail..=10_001).collect::<Vec<_>>(), "the tail runs to the last line");
        let tail_in_file = bytes_of(&tail) + tail.len() as u64;
        assert!(tail_in_file <= TAIL_BYTES && tail_in_file > TAIL_BYTES - 2100, "the tail is full: {tail_in_file} bytes");
        let (cut_lines, cut_bytes) = marker_counts(marker);
        assert_eq!(cut_lines, first_tail - marker_seq, "the marker counts exactly the lines between");
        let expected_bytes: u64 = lines[(*marker_seq - 1) as usize..(first_tail - 1) as usize].iter().map(|l| l.0.len() as u64 + 1).sum();
        assert_eq!(cut_bytes, expected_bytes);
        assert_eq!(stored.last().map(|(_, t)| t.as_str()), Some(lines[10_000].0.as_str()), "the result line is last");
    }

    #[test]
    fn the_result_line_is_kept_even_when_the_tail_cannot_hold_it() {
        let mut lines: Vec<_> = (0..8_000).map(|n| assistant(n, 1000)).collect();
        let big_result = format!(r#"{{"type":"result","subtype":"success","is_error":false,"result":"{}"}}"#, "r".repeat(1_500_000));
        lines.push((big_result.clone(), true));
        // A line after the result (stream-json input mode keeps the CLI alive after it).
        lines.push(assistant(9_999, 10));
        let stored = run(&lines);
        assert!(stored.iter().any(|(seq, text)| *seq == 8_001 && *text == big_result), "the result is stored at its number");
        assert_eq!(stored.last().map(|(seq, _)| *seq), Some(8_002), "and the line after it too");
        let (cut_lines, _) = marker_counts(&stored.iter().find(|(_, t)| t.contains("output_truncated")).expect("a marker").1);
        let kept = stored.len() as u64 - 1;
        assert_eq!(cut_lines + kept, 8_002, "every line is either kept or counted in the marker");
    }

    #[test]
    fn output_that_fits_head_and_tail_together_has_no_marker() {
        // 7.5 MiB: the head fills, the rest fits in the tail.
        let mut lines: Vec<_> = (0..3_840).map(|n| assistant(n, 2000)).collect();
        lines.push(result());
        let stored = run(&lines);
        assert_eq!(stored.len(), lines.len(), "nothing cut: {} of {}", stored.len(), lines.len());
        assert!(!stored.iter().any(|(_, t)| t.contains("output_truncated")));
    }

    #[test]
    fn a_line_too_long_to_keep_becomes_a_marker_of_its_own() {
        let mut state = OutputState::default();
        let huge = SpoolLine { offset: 0, len: 5_000_000, text: None };
        let kept = admit(&mut state, 1, huge, false).expect("a marker");
        assert_eq!(marker_counts(&kept), (1, 5_000_000));
        let next = SpoolLine { offset: 5_000_000, len: 3, text: Some("{}".into()) };
        assert_eq!(admit(&mut state, 2, next, false).as_deref(), Some("{}"), "the head goes on after it");
    }
}
