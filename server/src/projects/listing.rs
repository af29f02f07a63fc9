//! Sessions across projects, newest first, optionally only those matching a search; and each
//! project's count of sessions and last activity.
//!
//! A listing stats every transcript of the projects in scope (one `read_dir` per project, one
//! `stat` per session) and reads metadata only for what it shows; a search also looks at the
//! cached searchable text of the sessions it passes over, newest first, until it has enough.

use super::{git, Project};
use crate::claude::sessions::{PendingSession, TranscriptFile};
use app::api::{ProjectInfo, SessionSummary};
use std::collections::HashSet;
use std::time::UNIX_EPOCH;
use uuid::Uuid;

/// What to list.
pub struct Listing<'a> {
    pub projects: &'a [Project],
    pub limit: usize,
    /// Lowercase; `None` lists everything.
    pub needle: Option<&'a str>,
    /// Sessions started here whose transcript may not exist yet.
    pub pending: &'a [PendingSession],
    /// Whether a session may be listed (archived or not, never deleted).
    pub shown: &'a dyn Fn(Uuid) -> bool,
    /// The user's own title of a session, if they gave one: searched too.
    pub custom_title: &'a dyn Fn(Uuid) -> Option<&'a str>,
    /// The default project's folder: where pending sessions stored without a project run.
    pub default: &'a std::path::Path,
}

impl Listing<'_> {
    /// Blocking: reads folders, and the transcripts the caches do not know.
    pub fn run(&self) -> Vec<SessionSummary> {
        let lists: Vec<_> = self.projects.iter().map(|p| p.index.files()).collect();
        let mut files: Vec<(usize, &TranscriptFile)> = lists.iter().enumerate().flat_map(|(i, list)| list.iter().map(move |f| (i, f))).collect();
        let on_disk: HashSet<Uuid> = files.iter().map(|(_, f)| f.id).collect();
        files.retain(|(_, f)| (self.shown)(f.id));
        files.sort_by_key(|f| std::cmp::Reverse(f.1.stamp.modified));
        let histories: Vec<_> = self.projects.iter().map(|p| p.index.history()).collect();

        let mut out: Vec<SessionSummary> = Vec::with_capacity(self.limit);
        let mut listed: HashSet<Uuid> = HashSet::new();
        for (i, file) in files {
            if out.len() >= self.limit {
                break;
            }
            let index = &self.projects[i].index;
            if let Some(needle) = self.needle
                && !self.title_matches(file.id, needle) && !index.matches(file, needle) {
                continue;
            }
            out.push(index.summary_of_transcript(file.id, file.stamp, &file.path, histories[i].get(&file.id)));
            listed.insert(file.id);
        }
        for session in self.pending {
            if on_disk.contains(&session.session_id) || listed.contains(&session.session_id) || !(self.shown)(session.session_id) {
                continue;
            }
            let folder = session.project.as_deref().unwrap_or(self.default);
            let Some(project) = self.projects.iter().find(|p| p.path == folder) else { continue };
            if self.needle.is_some_and(|n| !self.title_matches(session.session_id, n) && !contains(&session.first_prompt, n)) {
                continue;
            }
            out.push(project.index.summary_of_pending(session));
            listed.insert(session.session_id);
        }
        // Sessions history knows whose transcript is gone (the original listed from history).
        for (project, history) in self.projects.iter().zip(&histories) {
            for (id, entry) in history.iter() {
                if on_disk.contains(id) || listed.contains(id) || !(self.shown)(*id) {
                    continue;
                }
                if self.needle.is_some_and(|n| !self.title_matches(*id, n) && !contains(&entry.first_prompt, n) && !contains(&entry.last_prompt, n)) {
                    continue;
                }
                out.push(project.index.summary_of_history(*id, entry));
                listed.insert(*id);
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.timestamp));
        out.truncate(self.limit);
        out
    }

    fn title_matches(&self, id: Uuid, needle: &str) -> bool {
        (self.custom_title)(id).is_some_and(|title| contains(title, needle))
    }
}

fn contains(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(needle)
}

/// The project as `GET /api/projects` shows it: its sessions (those `shown`) and their latest
/// activity, and its branch (blocking).
pub fn info(project: &Project, shown: &dyn Fn(Uuid) -> bool) -> ProjectInfo {
    let files = project.index.files();
    let shown_files = files.iter().filter(|f| shown(f.id));
    let (mut sessions, mut latest) = (0u64, None);
    for file in shown_files {
        sessions += 1;
        latest = latest.max(Some(file.stamp.modified));
    }
    ProjectInfo {
        id: project.id.clone(),
        name: project.name.clone(),
        path: project.path.to_string_lossy().into_owned(),
        default: project.default,
        sessions,
        last_activity: latest.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64),
        git_branch: git::branch(&project.path),
    }
}
