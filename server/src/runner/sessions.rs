//! Sessions as the user manages them: the list (with each session's state and cost, and what was
//! spent today and this month), a title of their own, archive, delete.
//!
//! The CLI's transcripts stay the CLI's: renaming or archiving writes only our own table
//! (`store::session_meta`), and deleting forgets our tasks and hides the session, leaving the
//! transcript file alone unless the user asks for it to go too.

use super::{now_ms, off_runtime, Runner, RunnerError, SESSION_TASKS_SHOWN};
use crate::claude::sessions::{title_line, PendingSession, TITLE_CHARS};
use crate::projects::{Listing, Project};
use crate::store::{AuditEntry, SessionMark, SessionTasks};
use app::api::{Caller, SessionList, SessionPatch, SessionQuery, SessionSummary, Spend};
use uuid::Uuid;

/// How far from UTC a caller's clock may be: UTC-12:00 to UTC+14:00, with room to spare.
pub const MAX_UTC_OFFSET_MINUTES: i32 = 16 * 60;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("a title may have at most {TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("a title is one line of text, without control characters")]
    TitleNotOneLine,
    #[error("utc_offset_minutes must be a whole number from -{MAX_UTC_OFFSET_MINUTES} to {MAX_UTC_OFFSET_MINUTES}")]
    UtcOffset,
    #[error("a task still runs in session {0}: stop it before deleting its transcript")]
    Busy(Uuid),
    #[error("a search (q) may have at most {MAX_QUERY_CHARS} characters")]
    QueryTooLong,
}

/// The longest search accepted.
pub const MAX_QUERY_CHARS: usize = 200;

/// A search as matched: trimmed and lowercased; blank is no search.
fn clean_query(q: Option<&str>) -> Result<Option<String>, SessionError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(SessionError::QueryTooLong);
    }
    Ok(Some(q.to_lowercase()))
}

impl Runner {
    /// Newest first: the archived sessions or the others (never the deleted ones), with what
    /// this service knows of each, and the spend of the caller's today and month.
    pub async fn sessions(&self, query: SessionQuery) -> Result<SessionList, RunnerError> {
        let (day_start, month_start) = spend_starts(now_ms(), query.utc_offset_minutes)?;
        let limit = query.limit.max(1);
        let needle = clean_query(query.q.as_deref())?;
        // Resolved before anything is read: an unknown project is the caller's mistake.
        let scope = self.project_scope(query.project.clone()).await?;
        let (pending, marks, (today_usd, month_usd)) = self
            .inner
            .store
            .run(move |store| Ok((store.sessions_created(limit)?, store.session_marks()?, store.spend_since(day_start, month_start)?)))
            .await?;
        let inner = self.inner.clone();
        let archived = query.archived;
        let (mut sessions, marks) = tokio::task::spawn_blocking(move || {
            let shown = |id: Uuid| match marks.get(&id) {
                Some(mark) => !mark.deleted && mark.archived == archived,
                None => !archived,
            };
            let custom_title = |id: Uuid| marks.get(&id).and_then(|mark| mark.title.as_deref());
            let projects = match scope {
                Some(project) => vec![project],
                None => {
                    let mut all = inner.projects.known().as_ref().clone();
                    // A session started in a folder named by its path, still waiting for its CLI:
                    // its folder is known once the CLI writes the transcript, it is listed now.
                    for folder in pending.iter().filter_map(|session| session.project.as_deref()) {
                        if !all.iter().any(|p| p.path == folder) && inner.projects.allows(folder) {
                            all.push(inner.projects.project_at(folder));
                        }
                    }
                    all
                }
            };
            let default = inner.settings.cli.project.clone();
            let listing = Listing {
                projects: &projects,
                limit,
                needle: needle.as_deref(),
                pending: &pending,
                shown: &shown,
                custom_title: &custom_title,
                default: &default,
            };
            let sessions = listing.run();
            (sessions, marks)
        })
        .await
        .unwrap_or_default();
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.session_id).collect();
        let tasks = self.inner.store.run(move |store| store.sessions_tasks(&ids)).await?;
        for summary in &mut sessions {
            mark(summary, marks.get(&summary.session_id), tasks.get(&summary.session_id));
        }
        Ok(SessionList { sessions, spend: Spend { today_usd, month_usd } })
    }

    /// The one project a listing is limited to (`None`: all of them).
    async fn project_scope(&self, id: Option<String>) -> Result<Option<Project>, RunnerError> {
        let Some(id) = id.filter(|id| !id.is_empty()) else { return Ok(None) };
        let projects = self.inner.projects.clone();
        let project = off_runtime(move || projects.resolve(&id)).await??;
        Ok(Some(project))
    }

    /// Sets or clears the user's title and/or archives or brings back the session; answers the
    /// session as the list now shows it.
    pub async fn update_session(&self, session_id: Uuid, patch: SessionPatch) -> Result<SessionSummary, RunnerError> {
        let title = match patch.title {
            None => None,
            Some(title) => Some(clean_title(title.as_deref().unwrap_or(""))?),
        };
        self.session(session_id).await?;
        let now = now_ms();
        let archived = patch.archived;
        self.inner
            .store
            .run(move |store| store.update_session_mark(session_id, title.as_ref().map(Option::as_deref), archived, now))
            .await?;
        self.session(session_id).await
    }

    /// Stops and forgets the tasks this service ran in the session and hides it. The CLI's
    /// transcript is kept unless `transcript`, which deletes the file too (refused while a task of
    /// the session runs: the CLI would write it again).
    pub async fn delete_session(&self, caller: &Caller, session_id: Uuid, transcript: bool) -> Result<(), RunnerError> {
        // A deleted session is still found here while its transcript was kept: deleting it
        // again may delete the transcript.
        if self.describe(session_id).await?.is_none() {
            return Err(RunnerError::SessionNotFound(session_id));
        }
        let unfinished: Vec<Uuid> = self
            .inner
            .store
            .run(move |store| store.unfinished_tasks())
            .await?
            .into_iter()
            .filter(|task| task.session_id == session_id)
            .map(|task| task.id)
            .collect();
        if transcript && !unfinished.is_empty() {
            return Err(SessionError::Busy(session_id).into());
        }
        for task_id in unfinished {
            self.cancel_and_wait(task_id).await;
        }
        let forgotten = self.inner.store.run(move |store| store.delete_session(session_id, now_ms())).await?;
        self.forget_view(None);
        if transcript
            && let Some(project) = self.session_project(session_id).await? {
            let path = project.index.transcript_path(session_id);
            off_runtime(move || remove_transcript(&path)).await??;
        }
        let kept = if transcript { "deleted" } else { "kept" };
        let entry = AuditEntry::now("session_deleted", caller)
            .session(session_id)
            .detail(format!("{forgotten} tasks forgotten; transcript {kept}"));
        if let Err(error) = self.inner.store.run(move |store| store.append_audit(&entry)).await {
            tracing::warn!(%error, "cannot write the audit log");
        }
        Ok(())
    }

    /// The session as the list shows it; unknown and deleted sessions are not found.
    async fn session(&self, session_id: Uuid) -> Result<SessionSummary, RunnerError> {
        let Some((mut summary, marks)) = self.describe(session_id).await? else {
            return Err(RunnerError::SessionNotFound(session_id));
        };
        if marks.as_ref().is_some_and(|m| m.deleted) {
            return Err(RunnerError::SessionNotFound(session_id));
        }
        let tasks = self.inner.store.run(move |store| store.sessions_tasks(&[session_id])).await?;
        mark(&mut summary, marks.as_ref(), tasks.get(&session_id));
        Ok(summary)
    }

    /// What the CLI's files (or, before they exist, our tasks) say of the session, and the
    /// user's marks on it; `None` when nothing knows it.
    async fn describe(&self, session_id: Uuid) -> Result<Option<(SessionSummary, Option<SessionMark>)>, RunnerError> {
        let (tasks, mark) = self
            .inner
            .store
            .run(move |store| Ok((store.session_tasks(session_id, SESSION_TASKS_SHOWN)?, store.session_mark(session_id)?)))
            .await?;
        let pending = tasks.first().map(|task| PendingSession {
            session_id,
            first_prompt: title_line(&task.request.message),
            timestamp: task.created_at,
            project: task.project.clone(),
        });
        let project = self.session_project(session_id).await?;
        let inner = self.inner.clone();
        let summary = tokio::task::spawn_blocking(move || {
            // Nothing places it: the default project's history may still know it.
            let project = project.unwrap_or_else(|| inner.projects.default_project());
            project.index.one(session_id, pending.as_ref())
        })
        .await
        .ok()
        .flatten();
        Ok(summary.map(|summary| (summary, mark)))
    }
}

/// Adds what this service knows to what the CLI's files said.
fn mark(summary: &mut SessionSummary, mark: Option<&SessionMark>, tasks: Option<&SessionTasks>) {
    if let Some(mark) = mark {
        summary.archived = mark.archived;
        if let Some(title) = &mark.title {
            summary.title.clone_from(title);
            summary.custom_title = Some(title.clone());
        }
    }
    if let Some(tasks) = tasks {
        summary.state = tasks.state;
        summary.cost_usd = tasks.cost_usd;
    }
}

/// A title as stored: trimmed, one line, at most [`TITLE_CHARS`]; empty clears it (`None`).
fn clean_title(raw: &str) -> Result<Option<String>, SessionError> {
    let title = raw.trim();
    if title.chars().any(char::is_control) {
        return Err(SessionError::TitleNotOneLine);
    }
    if title.chars().count() > TITLE_CHARS {
        return Err(SessionError::TitleTooLong);
    }
    Ok((!title.is_empty()).then(|| title.to_owned()))
}

/// Where the caller's today and this calendar month began (ms since the epoch), for a clock
/// `offset_minutes` ahead of UTC.
pub fn spend_starts(now_ms: i64, offset_minutes: i32) -> Result<(i64, i64), SessionError> {
    if offset_minutes.abs() > MAX_UTC_OFFSET_MINUTES {
        return Err(SessionError::UtcOffset);
    }
    let offset = i64::from(offset_minutes) * 60_000;
    let local_day = (now_ms + offset).div_euclid(DAY_MS);
    let day_start = local_day * DAY_MS - offset;
    let month_start = (local_day - (day_of_month(local_day) - 1)) * DAY_MS - offset;
    Ok((day_start, month_start))
}

/// The day of the month (1-31) of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
fn day_of_month(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    day_of_year - (153 * month_index + 2) / 5 + 1
}

/// Deletes the transcript file (only a regular file: never what a symlink points at). Its path
/// is built from the CLI's projects folder, an allowed project and a UUID, so it cannot name
/// anything else. A file already gone is fine.
fn remove_transcript(path: &std::path::Path) -> Result<(), RunnerError> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => {
            std::fs::remove_file(path).map_err(|source| RunnerError::Io { path: path.to_path_buf(), source })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS_2026_03_15_10H: i64 = 1_773_568_800_000;

    #[test]
    fn today_and_this_month_begin_at_the_callers_midnight() {
        let utc = spend_starts(MS_2026_03_15_10H, 0).expect("valid");
        assert_eq!(utc, (MS_2026_03_15_10H - 10 * 3_600_000, MS_2026_03_15_10H - 10 * 3_600_000 - 14 * DAY_MS));
        // At 10:00 UTC it is midnight starting the 16th in Kiritimati (UTC+14).
        let kiritimati = spend_starts(MS_2026_03_15_10H, 14 * 60).expect("valid");
        assert_eq!(kiritimati, (MS_2026_03_15_10H, MS_2026_03_15_10H - 15 * DAY_MS));
        // In Honolulu (UTC-10) it is midnight starting the 15th.
        let honolulu = spend_starts(MS_2026_03_15_10H, -600).expect("valid");
        assert_eq!(honolulu.0, MS_2026_03_15_10H);
        assert_eq!(honolulu.1, MS_2026_03_15_10H - 14 * DAY_MS);
        // Half an hour before midnight UTC at UTC+1 is already the next month.
        let march_first = spend_starts(1_772_321_400_000, 60).expect("valid");
        assert_eq!(march_first.0, march_first.1, "2026-02-28 23:30 UTC is 1 March 00:30 at UTC+1");
        assert!(spend_starts(MS_2026_03_15_10H, 100_000).is_err());
    }

    #[test]
    fn the_month_begins_on_its_first_day_leap_years_included() {
        assert_eq!(day_of_month(0), 1, "1970-01-01");
        assert_eq!(day_of_month(31), 1, "1970-02-01");
        assert_eq!(day_of_month(59), 1, "1970-03-01");
        assert_eq!(day_of_month(19_782), 29, "2024-02-29");
        assert_eq!(day_of_month(19_783), 1, "2024-03-01");
        assert_eq!(day_of_month(-1), 31, "1969-12-31");
    }

    #[test]
    fn a_title_is_trimmed_one_line_and_bounded() {
        assert_eq!(clean_title("  Fix the build \t").expect("ok").as_deref(), Some("Fix the build"));
        assert_eq!(clean_title("   ").expect("ok"), None, "empty clears");
        assert!(matches!(clean_title("two\nlines"), Err(SessionError::TitleNotOneLine)));
        assert!(clean_title(&"é".repeat(TITLE_CHARS)).is_ok());
        assert!(matches!(clean_title(&"é".repeat(TITLE_CHARS + 1)), Err(SessionError::TitleTooLong)));
    }
}
