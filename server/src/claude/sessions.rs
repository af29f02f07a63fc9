//! A project's sessions, newest first, built from the CLI's own transcripts.
//!
//! Listing is on the hot path of the app's session switcher, so transcripts are parsed only for
//! the sessions that will be shown, and their metadata is cached by (modification time, size):
//! a warm listing costs one `read_dir` and one `stat` per session. The caches are bounded (see
//! `meta_cache`, `search_cache`) and shared by every project's index (session ids are UUIDs).

use super::history::{read_project_history, HistoryEntry};
use super::meta_cache::{FileStamp, MetaCache};
use super::paths::ClaudeHome;
use super::search_cache::{searchable, SearchCache};
use super::transcript::{read_meta, SessionMeta};
use app::api::SessionSummary;
use std::collections::HashMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

type Cached<T> = Option<(FileStamp, Arc<T>)>;

/// The caches every project's index shares.
#[derive(Clone, Default)]
pub struct SharedCaches {
    pub meta: Arc<Mutex<MetaCache>>,
    pub search: Arc<Mutex<SearchCache>>,
}

pub struct SessionIndex {
    home: ClaudeHome,
    /// The canonical project path, as the CLI records it in `cwd` and history.
    project: PathBuf,
    /// The project's id and name, as listings show them.
    project_id: String,
    project_name: String,
    transcripts: Arc<Mutex<MetaCache>>,
    search: Arc<Mutex<SearchCache>>,
    history: Mutex<Cached<HashMap<Uuid, HistoryEntry>>>,
    /// The folder's transcripts as last read: (the folder's modification time, when read, them).
    files: Mutex<Option<(Option<SystemTime>, Instant, Arc<Vec<TranscriptFile>>)>>,
}

/// How long a project's list of transcripts is reused while its folder is unchanged (no session
/// added or removed): a transcript being written elsewhere shows its new time at most this late.
/// Tasks run here refresh their project's list when they start and end (`forget_files`). Across
/// 50 projects and 10,000 sessions this saves 10,000 `stat`s a listing (BENCHMARKS.md).
const FILES_FRESH: Duration = Duration::from_secs(1);

/// A transcript file of the project: what listing and search work from.
#[derive(Clone, Debug)]
pub struct TranscriptFile {
    pub id: Uuid,
    pub stamp: FileStamp,
    pub path: PathBuf,
}

/// A session the service knows of before the CLI has written its transcript.
#[derive(Clone, Debug)]
pub struct PendingSession {
    pub session_id: Uuid,
    /// Its first prompt's first line, cut by [`title_line`].
    pub first_prompt: String,
    pub timestamp: i64,
    /// The canonical folder it runs in (`None`: the default project, for tasks stored before
    /// there were several).
    pub project: Option<PathBuf>,
}

/// The most characters of a prompt a listing shows as a session's title.
pub const TITLE_CHARS: usize = 200;

/// A prompt as a listing shows it: its first non-blank line, at most [`TITLE_CHARS`] characters
/// (cut on a character boundary, with an ellipsis).
pub fn title_line(prompt: &str) -> String {
    let line = prompt.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    super::stream::truncate_chars(line, TITLE_CHARS)
}

impl SessionIndex {
    pub fn new(home: ClaudeHome, project: PathBuf) -> Self {
        let id = crate::projects::project_id(&project);
        let name = crate::projects::project_name(&project);
        Self::with_caches(home, project, id, name, &SharedCaches::default())
    }

    pub fn with_caches(home: ClaudeHome, project: PathBuf, project_id: String, project_name: String, caches: &SharedCaches) -> Self {
        Self {
            home,
            project,
            project_id,
            project_name,
            transcripts: caches.meta.clone(),
            search: caches.search.clone(),
            history: Mutex::default(),
            files: Mutex::default(),
        }
    }

    pub fn project(&self) -> &Path {
        &self.project
    }

    pub fn transcript_path(&self, session_id: Uuid) -> PathBuf {
        self.home.transcript(&self.project, session_id)
    }

    /// Newest first, at most `limit` of those `shown` lets through. `pending` are sessions
    /// started by this service whose transcript may not exist yet; they appear as soon as their
    /// task starts. Transcripts are read only for the sessions listed.
    pub fn list(&self, limit: usize, pending: &[PendingSession], shown: &dyn Fn(Uuid) -> bool) -> Vec<SessionSummary> {
        let mut files = self.transcript_files();
        files.retain(|(id, _, _)| shown(*id));
        files.sort_by_key(|f| std::cmp::Reverse(f.1.modified));
        let history = self.history();

        let mut seen: HashMap<Uuid, ()> = HashMap::new();
        let mut out: Vec<SessionSummary> = Vec::with_capacity(limit);
        for (id, stamp, path) in files.into_iter().take(limit) {
            out.push(self.summary_of_transcript(id, stamp, &path, history.get(&id)));
            seen.insert(id, ());
        }
        for session in pending.iter().filter(|s| shown(s.session_id)) {
            if seen.contains_key(&session.session_id) || self.transcript_path(session.session_id).exists() {
                continue;
            }
            out.push(self.summary_of_pending(session));
            seen.insert(session.session_id, ());
        }
        // Sessions history knows whose transcript is gone (the original listed from history).
        for (id, entry) in history.iter().filter(|(id, _)| !seen.contains_key(id) && shown(**id)) {
            if !self.transcript_path(*id).exists() {
                out.push(self.summary_of_history(*id, entry));
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.timestamp));
        out.truncate(limit);
        out
    }

    /// One session as a listing shows it: from its transcript, else as `pending` (started here),
    /// else from the CLI's history; `None` when none of them knows it.
    pub fn one(&self, id: Uuid, pending: Option<&PendingSession>) -> Option<SessionSummary> {
        let path = self.transcript_path(id);
        let history = self.history();
        let stamp = fs::metadata(&path).ok().filter(fs::Metadata::is_file).and_then(|m| Some(FileStamp { modified: m.modified().ok()?, len: m.len() }));
        if let Some(stamp) = stamp {
            return Some(self.summary_of_transcript(id, stamp, &path, history.get(&id)));
        }
        if let Some(session) = pending {
            return Some(self.summary_of_pending(session));
        }
        history.get(&id).map(|entry| self.summary_of_history(id, entry))
    }

    fn project_path(&self) -> String {
        self.project.to_string_lossy().into_owned()
    }

    /// A summary with only its id and project: the rest is filled in by the caller, what this
    /// service adds (state, cost, the user's marks) by the runner.
    fn unmarked(&self, session_id: Uuid) -> SessionSummary {
        SessionSummary {
            project_id: Some(self.project_id.clone()),
            project_name: Some(self.project_name.clone()),
            ..unmarked(session_id)
        }
    }

    pub fn summary_of_transcript(&self, id: Uuid, stamp: FileStamp, path: &Path, from_history: Option<&HistoryEntry>) -> SessionSummary {
        let meta = self.meta(id, stamp, path);
        let first = meta
            .first_prompt
            .clone()
            .or_else(|| from_history.map(|h| h.first_prompt.clone()))
            .unwrap_or_default();
        SessionSummary {
            session_id: id,
            title: meta.title.clone().unwrap_or_else(|| first.clone()),
            display: first,
            project: meta.cwd.clone().unwrap_or_else(|| self.project_path()),
            timestamp: millis(stamp.modified),
            last_prompt: meta.last_prompt.clone().or_else(|| from_history.map(|h| h.last_prompt.clone())),
            ..self.unmarked(id)
        }
    }

    pub fn summary_of_pending(&self, session: &PendingSession) -> SessionSummary {
        SessionSummary {
            display: session.first_prompt.clone(),
            project: self.project_path(),
            timestamp: session.timestamp,
            title: session.first_prompt.clone(),
            last_prompt: Some(session.first_prompt.clone()),
            ..self.unmarked(session.session_id)
        }
    }

    pub fn summary_of_history(&self, id: Uuid, entry: &HistoryEntry) -> SessionSummary {
        SessionSummary {
            display: entry.first_prompt.clone(),
            project: self.project_path(),
            timestamp: entry.timestamp,
            title: entry.first_prompt.clone(),
            last_prompt: Some(entry.last_prompt.clone()),
            ..self.unmarked(id)
        }
    }

    /// One session's title as a listing shows it (blocking: may read its transcript's head), or
    /// `None` before the CLI wrote a transcript with a prompt in it.
    pub fn title(&self, id: Uuid) -> Option<String> {
        let path = self.transcript_path(id);
        let metadata = fs::metadata(&path).ok().filter(fs::Metadata::is_file)?;
        let stamp = FileStamp { modified: metadata.modified().ok()?, len: metadata.len() };
        let meta = self.meta(id, stamp, &path);
        meta.title.clone().or_else(|| meta.first_prompt.clone())
    }

    /// Every transcript directly in the project folder (sub-folders hold subagents), as read at
    /// most [`FILES_FRESH`] ago while the folder is unchanged (blocking).
    pub fn files(&self) -> Arc<Vec<TranscriptFile>> {
        let folder = fs::metadata(self.home.project_dir(&self.project)).and_then(|m| m.modified()).ok();
        if let Ok(cached) = self.files.lock()
            && let Some((modified, read, files)) = cached.as_ref()
            && *modified == folder && read.elapsed() < FILES_FRESH {
            return files.clone();
        }
        let files: Arc<Vec<TranscriptFile>> =
            Arc::new(self.transcript_files().into_iter().map(|(id, stamp, path)| TranscriptFile { id, stamp, path }).collect());
        if let Ok(mut cached) = self.files.lock() {
            *cached = Some((folder, Instant::now(), files.clone()));
        }
        files
    }

    /// The next listing reads the folder again: a task of this project started or ended.
    pub fn forget_files(&self) {
        if let Ok(mut cached) = self.files.lock() {
            *cached = None;
        }
    }

    /// Whether the session's words contain `needle` (lowercase): its title, first or last prompt.
    /// Blocking: reads the transcript when the search cache does not know this version of it.
    pub fn matches(&self, file: &TranscriptFile, needle: &str) -> bool {
        let cached = self.search.lock().ok().and_then(|cache| cache.get(file.id, file.stamp));
        let text = match cached {
            Some(text) => text,
            None => {
                let text = searchable(&self.meta(file.id, file.stamp, &file.path));
                if let Ok(mut cache) = self.search.lock() {
                    cache.insert(file.id, file.stamp, text.clone());
                }
                text
            }
        };
        text.contains(needle)
    }

    /// Every `<uuid>.jsonl` directly in the project folder (sub-folders hold subagents).
    fn transcript_files(&self) -> Vec<(Uuid, FileStamp, PathBuf)> {
        let Ok(entries) = fs::read_dir(self.home.project_dir(&self.project)) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                let id = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".jsonl")
                    .and_then(|stem| Uuid::try_parse(stem).ok())?;
                let metadata = entry.metadata().ok().filter(fs::Metadata::is_file)?;
                let stamp = FileStamp { modified: metadata.modified().ok()?, len: metadata.len() };
                Some((id, stamp, path))
            })
            .collect()
    }

    fn meta(&self, id: Uuid, stamp: FileStamp, path: &Path) -> Arc<SessionMeta> {
        if let Some(meta) = self.transcripts.lock().ok().and_then(|mut cache| cache.get(id, stamp)) {
            return meta;
        }
        let meta = Arc::new(match fs::File::open(path) {
            Ok(file) => read_meta(BufReader::new(file)),
            Err(_) => SessionMeta::default(),
        });
        if let Ok(mut cache) = self.transcripts.lock() {
            cache.insert(id, stamp, meta.clone());
        }
        meta
    }

    pub fn history(&self) -> Arc<HashMap<Uuid, HistoryEntry>> {
        let path = self.home.history();
        let stamp = fs::metadata(&path)
            .ok()
            .and_then(|m| Some(FileStamp { modified: m.modified().ok()?, len: m.len() }));
        let Some(stamp) = stamp else { return Arc::default() };
        if let Ok(cache) = self.history.lock()
            && let Some((cached_stamp, entries)) = cache.as_ref()
            && *cached_stamp == stamp {
            return entries.clone();
        }
        let entries = Arc::new(match fs::File::open(&path) {
            Ok(file) => read_project_history(BufReader::new(file), &self.project.to_string_lossy()),
            Err(_) => HashMap::new(),
        });
        if let Ok(mut cache) = self.history.lock() {
            *cache = Some((stamp, entries.clone()));
        }
        entries
    }
}

/// A summary with only its id: what the CLI's files say is filled in by the caller, what this
/// service adds (state, cost, the user's marks) by the runner.
fn unmarked(session_id: Uuid) -> SessionSummary {
    SessionSummary {
        session_id,
        display: String::new(),
        project: String::new(),
        timestamp: 0,
        title: String::new(),
        last_prompt: None,
        state: None,
        cost_usd: None,
        archived: false,
        custom_title: None,
        project_id: None,
        project_name: None,
    }
}

fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_home() -> (tempfile::TempDir, SessionIndex) {
        let dir = tempfile::tempdir().expect("tempdir");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli");
        let project_dir = dir.path().join("projects/-home-dev-project");
        fs::create_dir_all(&project_dir).expect("mkdir");
        for entry in fs::read_dir(fixtures.join("projects_tree/-home-dev-project")).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                fs::copy(&path, project_dir.join(path.file_name().expect("name"))).expect("copy");
            }
        }
        fs::create_dir_all(project_dir.join("103500ba-a3b4-4311-99f6-c5503d727d8d/subagents")).expect("mkdir");
        fs::write(project_dir.join("not-a-session.jsonl"), "{}").expect("write");
        let index = SessionIndex::new(ClaudeHome::new(dir.path().to_path_buf()), PathBuf::from("/home/dev/project"));
        (dir, index)
    }

    #[test]
    fn lists_every_fixture_session_newest_first_with_titles() {
        let (_dir, index) = fixture_home();
        let sessions = index.list(100, &[], &|_| true);
        assert_eq!(sessions.len(), 21, "one per transcript file, sub-folders and non-uuid files skipped");
        assert!(sessions.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
        assert!(sessions.iter().all(|s| !s.title.is_empty() && s.project == "/home/dev/project"));
        assert!(sessions.iter().any(|s| s.title == "my-title"));
        assert_eq!(index.list(5, &[], &|_| true).len(), 5);
    }

    #[test]
    fn hidden_sessions_leave_room_for_others_and_one_is_found_by_id() {
        let (_dir, index) = fixture_home();
        let all = index.list(100, &[], &|_| true);
        let hidden = all[0].session_id;
        let shown = index.list(5, &[], &|id| id != hidden);
        assert_eq!(shown.len(), 5, "the hidden one does not take a place");
        assert!(shown.iter().all(|s| s.session_id != hidden));
        assert_eq!(index.one(hidden, None).as_ref(), Some(&all[0]));
        assert_eq!(index.one(Uuid::new_v4(), None), None);
    }

    #[test]
    fn one_unreadable_transcript_hides_nothing() {
        let (dir, index) = fixture_home();
        let broken = dir.path().join("projects/-home-dev-project/00000000-0000-4000-8000-000000000000.jsonl");
        fs::write(&broken, b"\xff\xfe garbage\n{not json").expect("write");
        let sessions = index.list(100, &[], &|_| true);
        assert_eq!(sessions.len(), 22);
    }

    #[test]
    fn a_pending_session_appears_before_its_transcript_exists() {
        let (_dir, index) = fixture_home();
        let pending = PendingSession { session_id: Uuid::new_v4(), first_prompt: "just started".into(), timestamp: i64::MAX, project: None };
        let sessions = index.list(3, std::slice::from_ref(&pending), &|_| true);
        assert_eq!(sessions[0].session_id, pending.session_id);
        assert_eq!(sessions[0].display, "just started");
    }

    #[test]
    fn a_long_prompt_is_listed_as_its_first_line_cut_short() {
        assert_eq!(title_line("\n  fix the build  \nthen the tests\n"), "fix the build");
        let long = "é".repeat(100_000);
        let title = title_line(&long);
        assert_eq!(title.chars().count(), TITLE_CHARS + 1, "200 characters and an ellipsis");
        assert!(title.ends_with('…'));
        assert_eq!(title_line(""), "");
    }

    #[test]
    fn a_small_cache_lists_the_same_sessions_and_stays_within_its_bound() {
        let (_dir, mut index) = fixture_home();
        let full = index.list(100, &[], &|_| true);
        index.transcripts = Arc::new(Mutex::new(MetaCache::new(5, usize::MAX)));
        for _ in 0..3 {
            assert_eq!(index.list(100, &[], &|_| true), full, "what is listed does not depend on what is cached");
        }
        assert_eq!(index.transcripts.lock().map(|c| c.len()).unwrap_or(0), 5);
    }

    #[test]
    fn a_changed_transcript_is_read_again() {
        let (dir, index) = fixture_home();
        let id: Uuid = "c8672706-d3ae-4704-b798-f8e6faba515c".parse().expect("uuid");
        let before = index.list(100, &[], &|_| true).into_iter().find(|s| s.session_id == id).expect("listed");
        let path = dir.path().join(format!("projects/-home-dev-project/{id}.jsonl"));
        let mut text = fs::read_to_string(&path).expect("read");
        text.push_str("{\"type\":\"custom-title\",\"customTitle\":\"renamed\"}\n");
        fs::write(&path, text).expect("write");
        let after = index.list(100, &[], &|_| true).into_iter().find(|s| s.session_id == id).expect("listed");
        assert_ne!(before.title, "renamed");
        assert_eq!(after.title, "renamed");
    }
}
