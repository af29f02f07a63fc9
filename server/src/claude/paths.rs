//! Where the CLI keeps a project's transcripts: `projects/<encoded cwd>/<session>.jsonl`.

use std::path::{Path, PathBuf};

/// The CLI's longest directory name; longer encodings are cut and suffixed with a hash.
const MAX_ENCODED_LEN: usize = 200;

/// Encodes a real (canonical) project path the way the CLI names its project folder: every char
/// outside `[A-Za-z0-9]` becomes `-`; past 200 chars the name is cut and suffixed with
/// `-` + base36(|javaStringHash(path)|). Like the CLI (JavaScript), it counts UTF-16 code units,
/// so a character outside the BMP becomes two dashes.
pub fn encode_project_dir(real_path: &str) -> String {
    let encoded: String = real_path
        .encode_utf16()
        .map(|unit| match char::from_u32(u32::from(unit)) {
            Some(c) if c.is_ascii_alphanumeric() => c,
            _ => '-',
        })
        .collect();
    if encoded.len() <= MAX_ENCODED_LEN {
        return encoded;
    }
    let cut = &encoded[..MAX_ENCODED_LEN];
    format!("{cut}-{}", base36(java_string_hash(real_path).unsigned_abs()))
}

/// Java's `String.hashCode`: over UTF-16 code units, `h = 31 * h + c` in wrapping i32.
fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16()
        .fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

fn base36(mut value: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if value == 0 {
        return "0".to_owned();
    }
    let mut out = Vec::new();
    while value > 0 {
        out.push(DIGITS[(value % 36) as usize]);
        value /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The CLI's configuration folder and the files in it this service reads.
#[derive(Clone, Debug)]
pub struct ClaudeHome {
    root: PathBuf,
    /// The CLI's global settings (`.claude.json`, with the `projects` it has run in).
    config_file: PathBuf,
}

impl ClaudeHome {
    /// A configuration folder given as `CLAUDE_CONFIG_DIR`: `.claude.json` is inside it.
    pub fn new(root: PathBuf) -> Self {
        Self { config_file: root.join(".claude.json"), root }
    }

    /// `$CLAUDE_CONFIG_DIR`, else `~/.claude` (and then `~/.claude.json`, beside it).
    pub fn from_env(config_dir: Option<PathBuf>) -> Self {
        match config_dir {
            Some(root) => Self::new(root),
            None => {
                let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
                Self { root: home.join(".claude"), config_file: home.join(".claude.json") }
            }
        }
    }

    pub fn config_file(&self) -> &Path {
        &self.config_file
    }

    /// Where the CLI keeps one folder per project it ran in.
    pub fn projects_dir(&self) -> PathBuf {
        self.root.join("projects")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn project_dir(&self, real_project: &Path) -> PathBuf {
        self.root
            .join("projects")
            .join(encode_project_dir(&real_project.to_string_lossy()))
    }

    pub fn transcript(&self, real_project: &Path, session_id: uuid::Uuid) -> PathBuf {
        self.project_dir(real_project).join(format!("{session_id}.jsonl"))
    }

    pub fn history(&self) -> PathBuf {
        self.root.join("history.jsonl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paths_replace_every_non_alphanumeric_char() {
        assert_eq!(encode_project_dir("/home/dev/project"), "-home-dev-project");
        assert_eq!(encode_project_dir("/home/dev/my_app.v2"), "-home-dev-my-app-v2");
        assert_eq!(encode_project_dir("/tmp/été"), "-tmp--t-");
        assert_eq!(encode_project_dir("/a/😀"), "-a---", "one dash per UTF-16 unit");
    }

    #[test]
    fn the_fixture_project_folder_matches_its_transcripts_cwd() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli/projects_tree");
        let folder = fixtures.join(encode_project_dir("/home/dev/project"));
        assert!(folder.is_dir(), "{} is missing", folder.display());
    }

    #[test]
    fn long_paths_are_cut_and_suffixed_with_the_java_hash() {
        assert_eq!(java_string_hash("hello"), 99162322);
        assert_eq!(java_string_hash(""), 0);
        let long = format!("/{}", "a".repeat(250));
        let encoded = encode_project_dir(&long);
        let (head, suffix) = encoded.split_at(200);
        assert_eq!(head, format!("-{}", "a".repeat(199)));
        assert_eq!(suffix, format!("-{}", base36(java_string_hash(&long).unsigned_abs())));
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
