//! The projects the CLI already knows: its `projects/<enc>/` folders (each transcript records
//! the `cwd` it ran in; a folder's name cannot be decoded) and the `projects` keys of its
//! `.claude.json`. Only those whose real path lies under an allowed root are kept.

use super::allowed::Allowed;
use crate::claude::meta_cache::FileStamp;
use crate::claude::paths::{encode_project_dir, ClaudeHome};
use crate::claude::transcript::read_cwd;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Transcripts of a folder tried for its `cwd` (each read for its first lines only): some hold
/// no message line at all (only a queued prompt), so more than one is tried.
const TRANSCRIPTS_TRIED: usize = 64;

/// The most of `.claude.json` read: it grows with every project and setting, but stays far below.
const MAX_CONFIG_BYTES: u64 = 32 * 1024 * 1024;

/// What earlier scans learned, so that a scan reads only what changed.
#[derive(Default)]
pub struct Discovery {
    /// A CLI folder's name → the canonical project it belongs to, or `None` when its `cwd` is
    /// not a project here (outside the roots, gone).
    folders: HashMap<OsString, Option<PathBuf>>,
    /// Folders where no transcript said its `cwd`, with their modification time then: tried
    /// again once a transcript was added.
    unknown: HashMap<OsString, Option<std::time::SystemTime>>,
    config: Option<(FileStamp, Vec<PathBuf>)>,
}

impl Discovery {
    /// Canonical project folders under the roots, from the CLI's folders and `.claude.json`
    /// (blocking).
    pub fn scan(&mut self, home: &ClaudeHome, allowed: &Allowed) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if let Ok(entries) = std::fs::read_dir(home.projects_dir()) {
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                if let Some(known) = self.folders.get(&name) {
                    found.extend(known.clone());
                    continue;
                }
                if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                if self.unknown.get(&name).is_some_and(|seen| *seen == modified) {
                    continue;
                }
                let Some(cwd) = folder_cwd(&entry.path()) else {
                    self.unknown.insert(name, modified);
                    continue;
                };
                self.unknown.remove(&name);
                let project = allowed
                    .check(Path::new(&cwd))
                    .ok()
                    // The folder must be the one the CLI uses for that path, or its index would
                    // read another.
                    .filter(|real| real.to_str().is_some_and(|real| encode_project_dir(real).as_str() == name));
                found.extend(project.clone());
                self.folders.insert(name, project);
            }
        }
        found.extend(self.config_projects(home.config_file(), allowed));
        found
    }

    fn config_projects(&mut self, file: &Path, allowed: &Allowed) -> Vec<PathBuf> {
        let Some(stamp) = stamp(file) else { return Vec::new() };
        if let Some((cached, projects)) = &self.config
            && *cached == stamp {
            return projects.clone();
        }
        let projects: Vec<PathBuf> = read_config_projects(file).iter().filter_map(|path| allowed.check(Path::new(path)).ok()).collect();
        self.config = Some((stamp, projects.clone()));
        projects
    }
}

pub fn stamp(path: &Path) -> Option<FileStamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some(FileStamp { modified: metadata.modified().ok()?, len: metadata.len() })
}

/// The `cwd` one of the folder's transcripts records.
fn folder_cwd(folder: &Path) -> Option<String> {
    let entries = std::fs::read_dir(folder).ok()?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .take(TRANSCRIPTS_TRIED)
        .find_map(|path| read_cwd(BufReader::new(std::fs::File::open(path).ok()?)))
}

/// The keys of `projects` in the CLI's `.claude.json`: the folders it ran in.
fn read_config_projects(file: &Path) -> Vec<String> {
    use std::io::Read;
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(default)]
        projects: HashMap<String, serde::de::IgnoredAny>,
    }
    let mut text = Vec::new();
    let Ok(handle) = std::fs::File::open(file) else { return Vec::new() };
    if handle.take(MAX_CONFIG_BYTES).read_to_end(&mut text).is_err() {
        return Vec::new();
    }
    serde_json::from_slice::<Config>(&text).map(|c| c.projects.into_keys().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_come_from_the_cli_folders_and_its_config_when_under_a_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = std::fs::canonicalize(dir.path()).expect("canonical");
        for sub in ["root/a", "root/b", "root/c", "outside", "home/projects"] {
            std::fs::create_dir_all(base.join(sub)).expect("mkdir");
        }
        let home = ClaudeHome::new(base.join("home"));
        let folder = |path: &Path| home.projects_dir().join(encode_project_dir(path.to_str().expect("utf-8")));
        for project in [base.join("root/a"), base.join("outside")] {
            std::fs::create_dir_all(folder(&project)).expect("mkdir");
            let line = serde_json::json!({"type": "user", "cwd": project, "message": {"content": "hi"}});
            std::fs::write(folder(&project).join("0034f1dd-f202-420b-92e7-8a4b27c7b4fa.jsonl"), format!("{line}\n")).expect("write");
        }
        // A folder whose transcripts do not say where they ran yet is tried again once one does.
        std::fs::create_dir_all(folder(&base.join("root/c"))).expect("mkdir");
        std::fs::write(folder(&base.join("root/c")).join("queued-only.jsonl"), "{\"type\":\"queue-operation\"}\n").expect("write");
        let config = serde_json::json!({"projects": {base.join("root/b").to_str().expect("utf-8"): {}, "/elsewhere": {}}});
        std::fs::write(home.config_file(), config.to_string()).expect("write");

        let allowed = Allowed::new(&[base.join("root")], base.join("outside/default")).expect("roots");
        let mut discovery = Discovery::default();
        let mut found = discovery.scan(&home, &allowed);
        found.sort();
        assert_eq!(found, [base.join("root/a"), base.join("root/b")]);
        let line = serde_json::json!({"type": "user", "cwd": base.join("root/c")});
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(folder(&base.join("root/c")).join("x.jsonl"), format!("{line}\n")).expect("write");
        let mut again = discovery.scan(&home, &allowed);
        again.sort();
        assert_eq!(again, [base.join("root/a"), base.join("root/b"), base.join("root/c")]);
    }
}
