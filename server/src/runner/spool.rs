//! Reading the CLI's output file as it grows.
//!
//! The CLI writes to a file in the data directory, not to a pipe held by the server: when the
//! server dies, the CLI keeps running and writing (no SIGPIPE), and the next start reads on.

use std::io::SeekFrom;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

pub struct SpoolTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl SpoolTail {
    pub fn new(path: PathBuf) -> Self {
        Self { path, offset: 0, partial: Vec::new() }
    }

    /// Complete lines written since the last call. With `at_end`, a last line without its newline
    /// is returned too (the writer is gone).
    pub async fn read_lines(&mut self, at_end: bool) -> std::io::Result<Vec<String>> {
        let mut fresh = Vec::new();
        match tokio::fs::File::open(&self.path).await {
            Ok(mut file) => {
                file.seek(SeekFrom::Start(self.offset)).await?;
                file.read_to_end(&mut fresh).await?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.offset += fresh.len() as u64;
        self.partial.extend_from_slice(&fresh);
        let mut lines = Vec::new();
        while let Some(newline) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=newline).collect();
            push_line(&mut lines, &line[..line.len() - 1]);
        }
        if at_end && !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            push_line(&mut lines, &rest);
        }
        Ok(lines)
    }
}

fn push_line(lines: &mut Vec<String>, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches('\r');
    if !text.trim().is_empty() {
        lines.push(text.to_owned());
    }
}

/// The line of a stderr capture that best says what went wrong: the last line that reads like an
/// error, else the last non-empty line.
pub fn last_words(stderr: &str) -> Option<&str> {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("Error") || l.starts_with("error") || l.contains("Error:"))
        .or(lines.last())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn lines_arrive_whole_across_partial_writes() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        let mut tail = SpoolTail::new(path.clone());
        assert!(tail.read_lines(false).await?.is_empty(), "a missing file is just empty");
        let mut file = std::fs::File::create(&path)?;
        file.write_all(b"{\"a\":1}\n{\"b\":")?;
        assert_eq!(tail.read_lines(false).await?, ["{\"a\":1}"]);
        file.write_all(b"2}\n\nlast")?;
        assert_eq!(tail.read_lines(false).await?, ["{\"b\":2}"]);
        assert_eq!(tail.read_lines(true).await?, ["last"]);
        Ok(())
    }

    #[test]
    fn the_error_line_is_preferred_over_trailing_noise() {
        assert_eq!(last_words("at x\nError: fake crash\n    at y (z.js:1)\nNode.js v20\n"), Some("Error: fake crash"));
        assert_eq!(last_words("No conversation found with session ID: 1\n"), Some("No conversation found with session ID: 1"));
        assert_eq!(last_words("\n\n"), None);
    }
}
