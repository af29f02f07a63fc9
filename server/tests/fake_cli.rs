//! The fake CLI every other test drives (`scripts/fake-claude/claude`) against the real CLI's
//! recorded output: each line it prints has the shape of the fixture's line in the same place
//! (type, subtype, keys, the message's keys, each content block's type and keys, a control
//! request's subtype and keys). Values differ (ids, times, texts); shapes must not, or the
//! server's tests would pass against a CLI that does not exist.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{fake_claude, Dirs};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli").join(name)
}

#[derive(Debug, PartialEq, Eq)]
struct Shape {
    kind: (String, Option<String>),
    keys: BTreeSet<String>,
    message_keys: BTreeSet<String>,
    blocks: Vec<(String, BTreeSet<String>)>,
    request: Option<(String, BTreeSet<String>)>,
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn shape(line: &Value) -> Shape {
    let blocks = line["message"]["content"].as_array().map(|blocks| blocks.iter().map(|b| (text(&b["type"]), keys(b))).collect());
    Shape {
        kind: (text(&line["type"]), line["subtype"].as_str().map(str::to_owned)),
        keys: keys(line),
        message_keys: keys(&line["message"]),
        blocks: blocks.unwrap_or_default(),
        request: line["request"].is_object().then(|| (text(&line["request"]["subtype"]), keys(&line["request"]))),
    }
}

fn shapes_of(lines: &str) -> Vec<Shape> {
    lines.lines().filter(|l| !l.trim().is_empty()).map(|l| shape(&serde_json::from_str(l).expect("a JSON line"))).collect()
}

fn assert_same_shapes(fake: &str, fixture_name: &str) {
    let real = std::fs::read_to_string(fixture(fixture_name)).expect("fixture");
    let (fake, real) = (shapes_of(fake), shapes_of(&real));
    for (at, (fake, real)) in fake.iter().zip(&real).enumerate() {
        assert_eq!(fake, real, "line {} differs from {fixture_name}", at + 1);
    }
    assert_eq!(fake.len(), real.len(), "as many lines as {fixture_name}");
}

/// Runs the fake in print mode (`-p <prompt>`, stdin closed), bounded by `timeout` so that a
/// fake that hangs fails the test instead of stalling it.
fn print_mode(dirs: &Dirs, format: &str, extra: &[&str], prompt: &str) -> (i32, String) {
    let mut command = Command::new("timeout");
    command.arg("60").arg(fake_claude()).args(["-p", "--output-format", format]);
    if format == "stream-json" {
        command.arg("--verbose");
    }
    let output = command
        .args(extra)
        .args(["--", prompt])
        .current_dir(dirs.project())
        .env("CLAUDE_CONFIG_DIR", dirs.claude_home())
        .stdin(Stdio::null())
        .output()
        .expect("run the fake CLI");
    (output.status.code().unwrap_or(-1), String::from_utf8(output.stdout).expect("UTF-8"))
}

#[test]
fn a_plain_reply_has_the_real_clis_shape() {
    let (status, out) = print_mode(&Dirs::new(), "stream-json", &[], "say hello");
    assert_eq!(status, 0);
    assert_same_shapes(&out, "stream_simple.jsonl");
}

#[test]
fn an_allowed_tool_run_has_the_real_clis_shape() {
    let (status, out) = print_mode(&Dirs::new(), "stream-json", &[], "#TOOL");
    assert_eq!(status, 0);
    assert_same_shapes(&out, "stream_tool_allowed.jsonl");
}

#[test]
fn a_denied_tool_has_the_real_clis_shape() {
    let (status, out) = print_mode(&Dirs::new(), "stream-json", &[], "#DENY");
    assert_eq!(status, 0);
    assert_same_shapes(&out, "stream_tool_denied.jsonl");
}

#[test]
fn an_api_error_has_the_real_clis_shape() {
    let (status, out) = print_mode(&Dirs::new(), "json", &[], "#ERR400");
    assert_eq!(status, 1);
    assert_same_shapes(&out, "out_json_error_400.json");
}

/// The control protocol: a Write asks over stdout, is allowed over stdin, and the turn ends.
#[test]
fn an_approved_write_over_stdio_has_the_real_clis_shape() {
    let dirs = Dirs::new();
    let target = dirs.project().join("hello.txt");
    let mut child = Command::new("timeout")
        .arg("60")
        .arg(fake_claude())
        .args(["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose", "--permission-prompt-tool", "stdio"])
        .current_dir(dirs.project())
        .env("CLAUDE_CONFIG_DIR", dirs.claude_home())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fake CLI");
    let mut stdin = child.stdin.take().expect("stdin");
    let prompt = serde_json::json!({"type": "user", "message": {"role": "user", "content": format!("#WRITE:{}", target.display())}});
    writeln!(stdin, "{prompt}").expect("write the prompt");
    let mut out = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        let value: Value = serde_json::from_str(&line).expect("JSON");
        out.push_str(&line);
        out.push('\n');
        if value["type"] == "control_request" {
            let answer = serde_json::json!({"type": "control_response", "response": {"subtype": "success", "request_id": value["request_id"],
                "response": {"behavior": "allow", "updatedInput": value["request"]["input"]}}});
            writeln!(stdin, "{answer}").expect("write the answer");
        }
        if value["type"] == "result" {
            break;
        }
    }
    drop(stdin);
    assert!(child.wait().expect("exit").success());
    assert_same_shapes(&out, "stdio/allow_write.stdout.jsonl");
    assert_eq!(std::fs::read_to_string(&target).expect("the file was written"), "written by fake\n");
}

/// A tool printing far more than a pipe holds (64 KiB) neither hangs the fake nor is cut short:
/// the model reads all of it.
#[test]
fn a_tool_printing_a_mebibyte_completes() {
    const SIZE: usize = 1024 * 1024;
    let command = format!("#BASH:head -c {SIZE} /dev/zero | tr '\\0' a");
    let started = std::time::Instant::now();
    let (status, out) = print_mode(&Dirs::new(), "stream-json", &["--allowedTools", "Bash"], &command);
    assert_eq!(status, 0, "the run ended by itself, within the timeout");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let result = lines.iter().find(|l| l["type"] == "user").expect("a tool result");
    let read = result["message"]["content"][0]["content"].as_str().expect("the tool's output");
    assert_eq!(read.bytes().filter(|&b| b == b'a').count(), SIZE, "the whole output reached the model");
    assert!(lines.last().is_some_and(|l| l["type"] == "result" && l["subtype"] == "success"));
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}
