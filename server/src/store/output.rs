//! A task's output lines together with where the reading of its output file stands.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

/// Where a line is in the output file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineAt {
    pub seq: u64,
    pub offset: u64,
    pub len: u64,
}

/// Once the head of the output is full: the first line not kept, and how much was read since
/// (that line included) without being stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cut {
    pub seq: u64,
    pub offset: u64,
    pub lines: u64,
    pub bytes: u64,
}

/// The reading of one task's output file, as last stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputState {
    /// Bytes of the file consumed (always at a line start).
    pub read_offset: u64,
    /// The position number the next line gets: lines are numbered 1, 2, 3... in file order.
    pub next_seq: u64,
    /// Bytes of lines stored so far.
    pub stored_bytes: u64,
    pub cut: Option<Cut>,
    /// The latest `result` line read, kept whatever was cut.
    pub result: Option<LineAt>,
}

impl Default for OutputState {
    fn default() -> Self {
        Self { read_offset: 0, next_seq: 1, stored_bytes: 0, cut: None, result: None }
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Where the reading of the task's output stood at the last save (`None`: never saved).
    pub fn output_state(&self, id: Uuid) -> Result<Option<OutputState>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT read_offset, next_seq, stored_bytes, cut_seq, cut_offset, cut_lines, cut_bytes,
                    result_seq, result_offset, result_len
             FROM task_output WHERE task_id = ?1",
        )?;
        let row = statement
            .query_row([id.to_string()], |row| {
                let n = |i: usize| -> rusqlite::Result<u64> { Ok(row.get::<_, i64>(i)?.max(0) as u64) };
                let maybe = |i: usize| -> rusqlite::Result<Option<u64>> { Ok(row.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64)) };
                let cut = match (maybe(3)?, maybe(4)?, maybe(5)?, maybe(6)?) {
                    (Some(seq), Some(offset), Some(lines), Some(bytes)) => Some(Cut { seq, offset, lines, bytes }),
                    _ => None,
                };
                let result = match (maybe(7)?, maybe(8)?, maybe(9)?) {
                    (Some(seq), Some(offset), Some(len)) => Some(LineAt { seq, offset, len }),
                    _ => None,
                };
                Ok(OutputState { read_offset: n(0)?, next_seq: n(1)?.max(1), stored_bytes: n(2)?, cut, result })
            })
            .optional()?;
        Ok(row)
    }

    /// Stores output lines (`(seq, line)`; a seq already stored is left as it was) and the state
    /// the reading reached with them, in one transaction.
    pub fn save_output(&self, id: Uuid, lines: &[(u64, String)], state: &OutputState) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        let task = id.to_string();
        {
            let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO task_lines (task_id, seq, line) VALUES (?1, ?2, ?3)")?;
            for (seq, line) in lines {
                insert.execute(params![task, to_i64(*seq), super::lines::encode(line)])?;
            }
            let cut = state.cut;
            let result = state.result;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO task_output (task_id, read_offset, next_seq, stored_bytes, cut_seq, cut_offset,
                    cut_lines, cut_bytes, result_seq, result_offset, result_len)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                task,
                to_i64(state.read_offset),
                to_i64(state.next_seq),
                to_i64(state.stored_bytes),
                cut.map(|c| to_i64(c.seq)),
                cut.map(|c| to_i64(c.offset)),
                cut.map(|c| to_i64(c.lines)),
                cut.map(|c| to_i64(c.bytes)),
                result.map(|r| to_i64(r.seq)),
                result.map(|r| to_i64(r.offset)),
                result.map(|r| to_i64(r.len)),
            ])?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewTask;
    use app::api::ChatRequest;

    #[test]
    fn lines_and_the_reading_state_are_saved_together() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let request = ChatRequest { message: "hello".into(), ..Default::default() };
        let id = Uuid::new_v4();
        store.insert_task(&NewTask { id, session_id: Uuid::new_v4(), creates_session: true, request: &request, created_at: 1, project: "/p" })?;
        assert_eq!(store.output_state(id)?, None);
        let state = OutputState {
            read_offset: 120,
            next_seq: 9,
            stored_bytes: 60,
            cut: Some(Cut { seq: 4, offset: 70, lines: 5, bytes: 50 }),
            result: Some(LineAt { seq: 8, offset: 100, len: 20 }),
        };
        store.save_output(id, &[(1, "a".into()), (3, "c".into())], &state)?;
        store.save_output(id, &[(3, "again".into())], &state)?;
        assert_eq!(store.output_state(id)?, Some(state));
        assert_eq!(store.events_after(id, 0)?, [(1, "a".to_owned()), (3, "c".to_owned())], "gaps are fine, duplicates are not");
        store.delete_task(id)?;
        assert_eq!(store.output_state(id)?, None, "the state goes with its task");
        Ok(())
    }
}
