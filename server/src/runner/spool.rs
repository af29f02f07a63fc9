//! Reading the CLI's output file as it grows.
//!
//! The CLI writes to a file in the data directory, not to a pipe held by the server: when the
//! server dies, the CLI keeps running and writing (no SIGPIPE), and the next start reads on from
//! the byte offset stored with the last lines.
//!
//! Reading is plain blocking I/O, meant for the blocking pool: each call reads at most a chunk,
//! touches each byte a bounded number of times (linear in the file, whatever its line lengths),
//! and holds at most one chunk plus one line of [`MAX_LINE_BYTES`] in memory.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The longest line kept whole. A longer one is counted (offset and length) but never buffered:
/// a CLI printing one endless line cannot make the server hold it. 2 MiB is four times the
/// longest reply a model can write in one turn, so a result line always fits.
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// One line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolLine {
    /// Where the line starts in the file.
    pub offset: u64,
    /// Its length in the file, newline included.
    pub len: u64,
    /// Its text without the line ending; `None` when it is over [`MAX_LINE_BYTES`].
    pub text: Option<String>,
}

/// A forward-only reader of complete lines.
pub struct SpoolReader {
    path: PathBuf,
    file: Option<File>,
    /// Where the next read starts.
    read_to: u64,
    /// Where the line being assembled starts: every line before it was returned.
    line_start: u64,
    /// The bytes of the line being assembled (empty while `oversized`).
    partial: Vec<u8>,
    /// The line being assembled is over [`MAX_LINE_BYTES`]: its bytes are skipped.
    oversized: bool,
    /// Bytes up to the first newline are not a line of their own (reading began mid-line).
    skip_to_newline: bool,
}

impl SpoolReader {
    /// Reads from `offset`, which must be the start of a line (0, or an offset this reader's
    /// [`SpoolReader::consumed`] gave).
    pub fn at(path: PathBuf, offset: u64) -> Self {
        Self { path, file: None, read_to: offset, line_start: offset, partial: Vec::new(), oversized: false, skip_to_newline: false }
    }

    /// Reads the lines that start after `offset`: the bytes from `offset` through the next newline
    /// are skipped. (`at(p, n)` equals `after_newline(p, n - 1)` when byte `n - 1` is a newline.)
    pub fn after_newline(path: PathBuf, offset: u64) -> Self {
        Self { skip_to_newline: true, ..Self::at(path, offset) }
    }

    /// Where the first line not yet returned starts: a restart reads on from here.
    pub fn consumed(&self) -> u64 {
        self.line_start
    }

    /// Complete lines among the next `max_bytes` bytes of the file (at least 1). With `at_end`
    /// (the writer is gone), a last line without its newline is returned too once the end of the
    /// file is reached. Returns the lines and whether the file may hold more bytes already.
    /// Blank lines are skipped: they are no line of output.
    pub fn read(&mut self, max_bytes: usize, at_end: bool) -> std::io::Result<(Vec<SpoolLine>, bool)> {
        let base = self.read_to;
        let Some(file) = self.open()? else { return Ok((Vec::new(), false)) };
        file.seek(SeekFrom::Start(base))?;
        let mut chunk = Vec::new();
        (&mut *file).take(max_bytes.max(1) as u64).read_to_end(&mut chunk)?;
        let at_eof = base + chunk.len() as u64 >= file.metadata()?.len();
        self.read_to = base + chunk.len() as u64;

        let mut lines = Vec::new();
        let mut pos = 0;
        while pos < chunk.len() {
            let rest = &chunk[pos..];
            let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                self.append(rest);
                break;
            };
            let end = base + (pos + newline + 1) as u64;
            if self.skip_to_newline {
                self.skip_to_newline = false;
                self.line_start = end;
            } else if self.partial.is_empty() && !self.oversized && newline <= MAX_LINE_BYTES {
                // The common case, a line wholly inside this chunk: no copy into `partial`.
                self.emit(&mut lines, &rest[..newline], end);
            } else {
                self.append(&rest[..newline]);
                let partial = std::mem::take(&mut self.partial);
                self.emit(&mut lines, &partial, end);
            }
            pos += newline + 1;
        }
        if at_end && at_eof && (self.oversized || !self.partial.is_empty()) && !self.skip_to_newline {
            let partial = std::mem::take(&mut self.partial);
            self.emit(&mut lines, &partial, self.read_to);
        }
        Ok((lines, !at_eof))
    }

    fn open(&mut self) -> std::io::Result<Option<&mut File>> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                // Not created yet (or already removed): nothing to read.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(self.file.as_mut())
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.oversized || self.skip_to_newline {
            return;
        }
        if self.partial.len() + bytes.len() > MAX_LINE_BYTES {
            self.oversized = true;
            // Give the memory back, not just the length.
            self.partial = Vec::new();
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    /// Ends the line that started at `line_start` and ends at `end` (after its newline).
    fn emit(&mut self, lines: &mut Vec<SpoolLine>, bytes: &[u8], end: u64) {
        let (offset, len) = (self.line_start, end - self.line_start);
        self.line_start = end;
        if std::mem::take(&mut self.oversized) {
            lines.push(SpoolLine { offset, len, text: None });
            return;
        }
        self.partial.clear();
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches('\r');
        if !text.trim().is_empty() {
            lines.push(SpoolLine { offset, len, text: Some(text.to_owned()) });
        }
    }
}

/// The last `max_bytes` of a file, as text (empty when it cannot be read): reads only that much.
pub fn file_tail(path: &Path, max_bytes: u64) -> String {
    let read = || -> std::io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(max_bytes)))?;
        let mut bytes = Vec::new();
        file.take(max_bytes).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    read().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
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

    fn texts(lines: &[SpoolLine]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_deref().unwrap_or("<cut>")).collect()
    }

    #[test]
    fn lines_arrive_whole_across_partial_writes() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        let mut spool = SpoolReader::at(path.clone(), 0);
        assert!(spool.read(1024, false)?.0.is_empty(), "a missing file is just empty");
        let mut file = std::fs::File::create(&path)?;
        file.write_all(b"{\"a\":1}\n{\"b\":")?;
        assert_eq!(texts(&spool.read(1024, false)?.0), ["{\"a\":1}"]);
        assert_eq!(spool.consumed(), 8, "a restart reads on from the unfinished line");
        file.write_all(b"2}\n\nlast")?;
        let (lines, _) = spool.read(1024, false)?;
        assert_eq!(texts(&lines), ["{\"b\":2}"]);
        assert_eq!((lines[0].offset, lines[0].len), (8, 8));
        assert!(spool.read(1024, false)?.0.is_empty(), "an unfinished line waits while the CLI runs");
        let (lines, more) = spool.read(1024, true)?;
        assert_eq!(texts(&lines), ["last"], "the writer is gone: the last line counts without its newline");
        assert!(!more);
        assert_eq!(spool.consumed(), 21);
        Ok(())
    }

    #[test]
    fn a_line_split_across_many_small_reads_comes_out_once_and_whole() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        let text: String = (0..50).map(|n| format!("{{\"n\":{n},\"pad\":\"{}\"}}\r\n", "x".repeat(n))).collect();
        std::fs::write(&path, &text)?;
        let mut spool = SpoolReader::at(path, 0);
        let mut lines = Vec::new();
        for _ in 0..text.len() {
            let (mut got, more) = spool.read(7, false)?;
            lines.append(&mut got);
            if !more {
                break;
            }
        }
        let expected: Vec<String> = text.lines().map(str::to_owned).collect();
        assert_eq!(texts(&lines), expected, "CRLF endings are dropped, every line once");
        let ends: Vec<u64> = lines.iter().map(|l| l.offset + l.len).collect();
        assert_eq!(ends.last().copied(), Some(text.len() as u64));
        assert!(lines.windows(2).all(|w| w[0].offset + w[0].len == w[1].offset), "offsets tile the file");
        Ok(())
    }

    #[test]
    fn a_huge_line_is_counted_but_never_held() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        let huge = MAX_LINE_BYTES + 10;
        let mut bytes = b"first\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'y', huge));
        bytes.extend_from_slice(b"\nafter\n");
        bytes.extend(std::iter::repeat_n(b'z', huge));
        std::fs::write(&path, &bytes)?;
        let mut spool = SpoolReader::at(path, 0);
        let mut lines = Vec::new();
        for _ in 0..100 {
            let (mut got, more) = spool.read(64 * 1024, true)?;
            assert!(spool.partial.len() <= MAX_LINE_BYTES, "never more than one kept line in memory");
            lines.append(&mut got);
            if !more {
                break;
            }
        }
        assert_eq!(texts(&lines), ["first", "<cut>", "after", "<cut>"]);
        assert_eq!(lines[1].len, huge as u64 + 1);
        assert_eq!(lines[3].len, huge as u64, "the last line has no newline");
        Ok(())
    }

    #[test]
    fn reading_from_inside_a_line_starts_at_the_next_one() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("out");
        std::fs::write(&path, "abc\ndef\nghi")?;
        let (lines, _) = SpoolReader::after_newline(path.clone(), 1).read(100, true)?;
        assert_eq!(texts(&lines), ["def", "ghi"]);
        // Byte 3 is the newline ending "abc": the next line starts right after it.
        let (lines, _) = SpoolReader::after_newline(path, 3).read(100, true)?;
        assert_eq!(texts(&lines), ["def", "ghi"]);
        Ok(())
    }

    #[test]
    fn only_the_end_of_a_long_stderr_is_read() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("err");
        std::fs::write(&path, format!("{}\nError: the real one\n", "noise ".repeat(100_000)))?;
        let tail = file_tail(&path, 1024);
        assert_eq!(tail.len(), 1024);
        assert_eq!(last_words(&tail), Some("Error: the real one"));
        assert_eq!(file_tail(&dir.path().join("missing"), 10), "");
        Ok(())
    }

    #[test]
    fn the_error_line_is_preferred_over_trailing_noise() {
        assert_eq!(last_words("at x\nError: fake crash\n    at y (z.js:1)\nNode.js v20\n"), Some("Error: fake crash"));
        assert_eq!(last_words("No conversation found with session ID: 1\n"), Some("No conversation found with session ID: 1"));
        assert_eq!(last_words("\n\n"), None);
    }
}
