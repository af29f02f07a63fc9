//! A task's stored output lines: how each is kept (compressed where that saves) and how they are
//! read back, a bounded page at a time.
//!
//! A line is stored as printed (TEXT) when it is short or does not compress, else deflated
//! (BLOB) at deflate's default level: 20 MB of typical stream-json takes 13.4 MB on disk (34 MB
//! before; the fast level gave 15.4 MB, see BENCHMARKS.md). The column's type says which, so
//! lines stored before compression existed read back unchanged.
//!
//! Reading is by pages of at most [`PageLimit::lines`] lines and about [`PageLimit::bytes`] bytes,
//! so no answer, however much a task printed, holds more than one page in memory. A page always
//! carries at least one line: a stored line is at most 2 MiB (`runner::spool::MAX_LINE_BYTES`;
//! a longer one was stored as an `output_truncated` marker), so one line always fits.

use super::{Store, StoreError};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Row};
use std::io::{Read, Write};
use uuid::Uuid;

/// Lines shorter than this are stored as they are: the compressed form would save a few bytes
/// at best.
const COMPRESS_FROM: usize = 256;

/// A compressed line larger than this when inflated is corrupt: nothing that long is stored.
const MAX_LINE: u64 = 4 * 1024 * 1024;

/// How much one page of lines may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit {
    pub lines: usize,
    /// Bytes of line text; a page's first line counts whatever its size.
    pub bytes: usize,
}

impl PageLimit {
    /// The default, and the most any client may ask for: 500 lines or 1 MiB, whichever first.
    pub const MAX: PageLimit = PageLimit { lines: 500, bytes: 1024 * 1024 };

    /// At most `lines` lines (1 to 500), within the 1 MiB budget.
    pub fn lines(lines: usize) -> Self {
        Self { lines: lines.clamp(1, Self::MAX.lines), ..Self::MAX }
    }
}

/// Lines `(seq, text)` in order, and whether more lie beyond them (after the last one for a
/// forward page, before the first one for [`Store::lines_before`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinesPage {
    pub lines: Vec<(u64, String)>,
    pub more: bool,
}

/// What to store for `line`: the text, or its deflated bytes when that is a tenth smaller.
pub fn encode(line: &str) -> Value {
    if line.len() >= COMPRESS_FROM {
        let mut encoder = DeflateEncoder::new(Vec::with_capacity(line.len() / 3), Compression::default());
        // Writing to a Vec cannot fail.
        if encoder.write_all(line.as_bytes()).is_ok()
            && let Ok(packed) = encoder.finish()
            && packed.len() < line.len() - line.len() / 10 {
            return Value::Blob(packed);
        }
    }
    Value::Text(line.to_owned())
}

fn decode(value: ValueRef<'_>) -> Result<String, StoreError> {
    match value {
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).map_err(|e| StoreError::Corrupt(format!("output line: {e}"))),
        ValueRef::Blob(packed) => {
            let mut text = String::new();
            DeflateDecoder::new(packed)
                .take(MAX_LINE + 1)
                .read_to_string(&mut text)
                .map_err(|e| StoreError::Corrupt(format!("compressed output line: {e}")))?;
            if text.len() as u64 > MAX_LINE {
                return Err(StoreError::Corrupt("a compressed output line inflates past 4 MiB".into()));
            }
            Ok(text)
        }
        other => Err(StoreError::Corrupt(format!("output line of type {:?}", other.data_type()))),
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads rows `(seq, line)` until the page is full; one row past it says there is more.
fn fill(rows: &mut rusqlite::Rows<'_>, limit: PageLimit) -> Result<LinesPage, StoreError> {
    let mut page = LinesPage::default();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        if page.lines.len() >= limit.lines {
            page.more = true;
            break;
        }
        let (seq, line) = read_line(row)?;
        if !page.lines.is_empty() && bytes + line.len() > limit.bytes {
            page.more = true;
            break;
        }
        bytes += line.len();
        page.lines.push((seq, line));
    }
    Ok(page)
}

fn read_line(row: &Row<'_>) -> Result<(u64, String), StoreError> {
    let seq: i64 = row.get(0)?;
    Ok((seq.max(0) as u64, decode(row.get_ref(1)?)?))
}

impl Store {
    /// The first page of the task's lines after `after`.
    pub fn lines_after(&self, id: Uuid, after: u64, limit: PageLimit) -> Result<LinesPage, StoreError> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached("SELECT seq, line FROM task_lines WHERE task_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
        let mut rows = statement.query(params![id.to_string(), to_i64(after), (limit.lines + 1) as i64])?;
        fill(&mut rows, limit)
    }

    /// The page of the task's lines just before `before`, in order; `more` when there are
    /// earlier ones still.
    pub fn lines_before(&self, id: Uuid, before: u64, limit: PageLimit) -> Result<LinesPage, StoreError> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached("SELECT seq, line FROM task_lines WHERE task_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")?;
        let mut rows = statement.query(params![id.to_string(), to_i64(before), (limit.lines + 1) as i64])?;
        let mut page = fill(&mut rows, limit)?;
        page.lines.reverse();
        Ok(page)
    }

    /// Every line after `after`: for tests, which check whole outputs of bounded size.
    #[cfg(test)]
    pub fn events_after(&self, id: Uuid, after: u64) -> Result<Vec<(u64, String)>, StoreError> {
        let mut all = Vec::new();
        let mut from = after;
        loop {
            let page = self.lines_after(id, from, PageLimit::MAX)?;
            from = page.lines.last().map_or(from, |(seq, _)| *seq);
            all.extend(page.lines);
            if !page.more {
                return Ok(all);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewTask, OutputState};
    use app::api::ChatRequest;

    fn task(store: &Store) -> Uuid {
        let id = Uuid::new_v4();
        let request = ChatRequest { message: "hi".into(), ..Default::default() };
        store.insert_task(&NewTask { id, session_id: Uuid::new_v4(), creates_session: true, request: &request, created_at: 1, project: "/p" }).expect("insert");
        id
    }

    fn tool_result(n: u64, size: usize) -> String {
        let text: String = (0..size / 8).map(|i| format!("w{} ", (i * 7 + n as usize) % 97)).collect();
        serde_json::json!({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": format!("t{n}"), "content": text}]}}).to_string()
    }

    #[test]
    fn lines_come_back_exactly_as_printed_whether_compressed_or_not() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let id = task(&store);
        let lines: Vec<(u64, String)> = vec![
            (1, "{}".into()),
            (2, tool_result(2, 20_000)),
            (3, "é".repeat(300)),
            (4, (0..400).map(|i| char::from(b'!' + (i * 37 % 90) as u8)).collect()),
        ];
        store.save_output(id, &lines, &OutputState::default())?;
        assert_eq!(store.events_after(id, 0)?, lines);
        let conn = store.writer()?;
        let kinds: Vec<String> = conn
            .prepare("SELECT typeof(line) FROM task_lines ORDER BY seq")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        assert_eq!(kinds[..2], ["text", "blob"], "short lines as they are, long ones compressed");
        Ok(())
    }

    #[test]
    fn pages_hold_at_most_their_lines_and_bytes_and_say_where_more_is() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let id = task(&store);
        let lines: Vec<(u64, String)> = (1..=1_200).map(|n| (n, format!("{{\"n\":{n}}}"))).collect();
        store.save_output(id, &lines, &OutputState::default())?;
        let first = store.lines_after(id, 0, PageLimit::MAX)?;
        assert_eq!((first.lines.len(), first.more), (500, true));
        let last = store.lines_after(id, 1_000, PageLimit::MAX)?;
        assert_eq!((last.lines.first().map(|l| l.0), last.lines.len(), last.more), (Some(1_001), 200, false));
        let small = store.lines_after(id, 0, PageLimit { lines: 500, bytes: 100 })?;
        assert!(small.more && small.lines.iter().map(|l| l.1.len()).sum::<usize>() <= 100, "{} lines", small.lines.len());

        let earlier = store.lines_before(id, 601, PageLimit::lines(50))?;
        assert_eq!(earlier.lines.iter().map(|l| l.0).collect::<Vec<_>>(), (551..=600).collect::<Vec<_>>());
        assert!(earlier.more);
        let first_ones = store.lines_before(id, 3, PageLimit::MAX)?;
        assert_eq!((first_ones.lines.len(), first_ones.more), (2, false));
        Ok(())
    }

    #[test]
    fn a_line_over_the_byte_budget_still_comes_alone() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let id = task(&store);
        let big = tool_result(1, 3 * 1024 * 1024);
        assert!(big.len() > PageLimit::MAX.bytes, "{} bytes", big.len());
        store.save_output(id, &[(1, big.clone()), (2, "{}".into())], &OutputState::default())?;
        let page = store.lines_after(id, 0, PageLimit::MAX)?;
        assert_eq!((page.lines.len(), page.more), (1, true));
        assert_eq!(page.lines[0].1, big);
        Ok(())
    }

    /// What ~20 MB of typical output costs on disk, as stored before (`task_events`, WITHOUT
    /// ROWID, TEXT) and now. A measurement, not a check: `python3 scripts/bench/make_output.py
    /// /tmp/corpus.jsonl && STORAGE_CORPUS=/tmp/corpus.jsonl cargo test -p server --release --lib
    /// storage_size -- --ignored --nocapture` (figures in BENCHMARKS.md).
    #[test]
    #[ignore]
    fn storage_size() -> Result<(), Box<dyn std::error::Error>> {
        let corpus = std::fs::read_to_string(std::env::var("STORAGE_CORPUS")?)?;
        let lines: Vec<&str> = corpus.lines().collect();
        // Split into tasks as the cap would: at most 7 MiB of lines each.
        let mut tasks: Vec<Vec<(u64, String)>> = vec![Vec::new()];
        let mut bytes = 0;
        for line in &lines {
            if bytes + line.len() > 7 * 1024 * 1024 {
                tasks.push(Vec::new());
                bytes = 0;
            }
            bytes += line.len();
            let task = tasks.last_mut().ok_or("no task")?;
            task.push((task.len() as u64 + 1, (*line).to_owned()));
        }
        let dir = tempfile::tempdir()?;
        let size = |path: &std::path::Path| -> u64 {
            ["", "-wal"].iter().map(|s| std::fs::metadata(format!("{}{s}", path.display())).map_or(0, |m| m.len())).sum()
        };

        let old = dir.path().join("old.db");
        {
            let mut conn = rusqlite::Connection::open(&old)?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                 CREATE TABLE task_events (task_id TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
                    PRIMARY KEY (task_id, seq)) WITHOUT ROWID;",
            )?;
            for task in &tasks {
                let id = Uuid::new_v4().to_string();
                for chunk in task.chunks(300) {
                    let tx = conn.transaction()?;
                    for (seq, line) in chunk {
                        tx.execute("INSERT INTO task_events VALUES (?1, ?2, ?3)", params![id, *seq as i64, line])?;
                    }
                    tx.commit()?;
                }
            }
        }
        let new = dir.path().join("new.db");
        let started = std::time::Instant::now();
        let ids: Vec<Uuid> = {
            let store = Store::open(&new)?;
            let mut ids = Vec::new();
            for task in &tasks {
                let id = self::task(&store);
                for chunk in task.chunks(300) {
                    store.save_output(id, chunk, &OutputState::default())?;
                }
                ids.push(id);
            }
            ids
        };
        let stored_in = started.elapsed();
        let store = Store::open(&new)?;
        let started = std::time::Instant::now();
        let mut read = 0usize;
        for id in &ids {
            read += store.events_after(*id, 0)?.iter().map(|(_, l)| l.len()).sum::<usize>();
        }
        let read_in = started.elapsed();
        drop(store);
        let output: usize = lines.iter().map(|l| l.len() + 1).sum();
        let (old_size, new_size) = (size(&old), size(&new));
        println!(
            "{} lines, {:.1} MB in {} tasks: before {:.1} MB ({:.2}x), now {:.1} MB ({:.2}x); stored in {stored_in:?}, read back ({:.1} MB) in {read_in:?}",
            lines.len(),
            output as f64 / 1e6,
            tasks.len(),
            old_size as f64 / 1e6,
            old_size as f64 / output as f64,
            new_size as f64 / 1e6,
            new_size as f64 / output as f64,
            read as f64 / 1e6,
        );
        Ok(())
    }

    #[test]
    fn an_older_database_keeps_its_lines_when_the_table_is_replaced() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Io { path: "tempdir".into(), source: e })?;
        let path = dir.path().join("old.db");
        let id = Uuid::new_v4();
        {
            // The tables as the previous version made them, with a task and its lines.
            let conn = rusqlite::Connection::open(&path)?;
            conn.execute_batch(
                "CREATE TABLE tasks (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, creates_session INTEGER NOT NULL,
                    request TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER,
                    finished_at INTEGER, pid INTEGER, proc_start INTEGER, exit_code INTEGER, result TEXT, error TEXT);
                 CREATE TABLE task_events (task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL, line TEXT NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID;",
            )?;
            conn.execute(
                "INSERT INTO tasks (id, session_id, creates_session, request, status, created_at, result)
                 VALUES (?1, ?2, 1, '{\"message\":\"hi\"}', 'completed', 1, '{\"type\":\"result\",\"result\":\"kept\"}')",
                params![id.to_string(), Uuid::new_v4().to_string()],
            )?;
            for seq in 1..=3 {
                conn.execute("INSERT INTO task_events VALUES (?1, ?2, ?3)", params![id.to_string(), seq, format!("{{\"seq\":{seq}}}")])?;
            }
        }
        let store = Store::open(&path)?;
        let task = store.get_task(id)?.expect("the task survives");
        assert_eq!((task.events, task.result.map(|r| r["result"].clone())), (3, Some("kept".into())));
        assert_eq!(store.events_after(id, 1)?, [(2, "{\"seq\":2}".to_owned()), (3, "{\"seq\":3}".to_owned())]);
        drop(store);
        let store = Store::open(&path)?;
        assert_eq!(store.events_after(id, 0)?.len(), 3, "opening again moves nothing twice");
        Ok(())
    }
}
