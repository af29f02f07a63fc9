//! The read-only file browser: a directory's entries (what `.gitignore` leaves out is left out
//! here too, by the `ignore` crate, ripgrep's), a text file with its language, and a file's
//! working-tree diff against `HEAD`. Blocking file work runs on the blocking pool.

use super::guard::{is_secret, resolve};
use super::{diff, git, ChangesError};
use app::api::{DirEntry, DirListing, FileChange, FileText};
use std::path::{Path, PathBuf};

/// The most entries one listing holds.
pub const MAX_ENTRIES: usize = 2000;

/// Files larger than this are not shown.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, ChangesError> + Send + 'static) -> Result<T, ChangesError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ChangesError::Git(format!("a file task stopped: {e}")))?
}

/// The entries of the directory `raw` (relative to `project`, which is canonical).
pub async fn list(project: PathBuf, raw: String) -> Result<DirListing, ChangesError> {
    blocking(move || {
        let (dir, shown) = resolve(&project, &raw)?;
        if !dir.is_dir() {
            return Err(ChangesError::NotADirectory(shown));
        }
        let mut entries = Vec::new();
        let mut truncated = false;
        let walk = ignore::WalkBuilder::new(&dir)
            .max_depth(Some(1))
            .hidden(false)
            .parents(true)
            .follow_links(false)
            // The project need not be a repository for its `.gitignore` to count.
            .require_git(false)
            .filter_entry(|entry| entry.file_name() != ".git")
            .build();
        for entry in walk.flatten().filter(|entry| entry.depth() == 1) {
            if entries.len() >= MAX_ENTRIES {
                truncated = true;
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = match entry.file_type() {
                Some(t) if t.is_symlink() => "symlink",
                Some(t) if t.is_dir() => "dir",
                _ => "file",
            };
            let size = if kind == "file" { entry.metadata().map_or(0, |m| m.len()) } else { 0 };
            let path = if shown.is_empty() { name.clone() } else { format!("{shown}/{name}") };
            entries.push(DirEntry { name, path, kind: kind.to_owned(), size });
        }
        entries.sort_by(|a, b| (a.kind != "dir", &a.name).cmp(&(b.kind != "dir", &b.name)));
        Ok(DirListing { path: shown, entries, truncated })
    })
    .await
}

/// The text file `raw`, if it is one and not too large.
pub async fn read(project: PathBuf, raw: String) -> Result<FileText, ChangesError> {
    blocking(move || {
        let (file, shown) = resolve(&project, &raw)?;
        let content = read_text(&file, &shown)?;
        Ok(FileText { language: language(&shown).map(str::to_owned), size: content.len() as u64, path: shown, content })
    })
    .await
}

fn read_text(file: &Path, shown: &str) -> Result<String, ChangesError> {
    let bytes = read_bytes(file, shown, MAX_FILE_BYTES)?;
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return Err(ChangesError::Binary(shown.to_owned()));
    }
    String::from_utf8(bytes).map_err(|_| ChangesError::Binary(shown.to_owned()))
}

/// How the working-tree file `raw` differs from `HEAD` (`None`: it does not).
pub async fn git_diff(project: PathBuf, raw: String) -> Result<Option<FileChange>, ChangesError> {
    if !git::is_repository(&project).await {
        return Err(ChangesError::NotARepository);
    }
    let clean = super::guard::relative(&raw)?.to_string_lossy().into_owned();
    if is_secret(&clean) {
        return Err(ChangesError::Secret(clean));
    }
    let before = git::blob(&project, "HEAD", &clean).await?;
    let (root, wanted) = (project.clone(), clean.clone());
    // A deleted file is no error: its diff removes every line.
    let after = blocking(move || match resolve(&root, &wanted) {
        Ok((file, shown)) => read_bytes(&file, &shown, git::MAX_OUTPUT as u64).map(Some),
        Err(ChangesError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    })
    .await?;
    if before.is_none() && after.is_none() {
        return Err(ChangesError::NotFound(clean));
    }
    Ok(diff::file_change(&clean, before.as_deref(), after.as_deref()))
}

/// A regular file's bytes, if it has at most `limit` of them.
fn read_bytes(file: &Path, shown: &str, limit: u64) -> Result<Vec<u8>, ChangesError> {
    let io = |source| ChangesError::Io { path: shown.to_owned(), source };
    let metadata = std::fs::metadata(file).map_err(io)?;
    if !metadata.is_file() {
        return Err(ChangesError::NotAFile(shown.to_owned()));
    }
    if metadata.len() > limit {
        return Err(ChangesError::TooLarge { path: shown.to_owned(), size: metadata.len(), limit });
    }
    std::fs::read(file).map_err(io)
}

/// highlight.js's name for a file's language, from its name; `None` for plain text.
pub fn language(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    match name.as_str() {
        "makefile" | "gnumakefile" => return Some("makefile"),
        "dockerfile" => return Some("bash"),
        "cmakelists.txt" => return None,
        _ => {}
    }
    let extension = name.rsplit_once('.')?.1;
    Some(match extension {
        "rs" => "rust",
        "ts" | "mts" | "cts" => "typescript",
        "tsx" | "jsx" | "js" | "mjs" | "cjs" => "javascript",
        "py" | "pyi" => "python",
        "go" => "go",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "cpp",
        "cs" => "csharp",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "swift" => "swift",
        "rb" => "ruby",
        "php" => "php",
        "pl" | "pm" => "perl",
        "lua" => "lua",
        "r" => "r",
        "sh" | "bash" | "zsh" => "bash",
        "json" | "jsonc" => "json",
        "toml" => "toml",
        "yaml" | "yml" => "yaml",
        "ini" | "cfg" | "conf" => "ini",
        "xml" | "svg" | "html" | "htm" | "xhtml" | "plist" => "xml",
        "css" => "css",
        "scss" => "scss",
        "less" => "less",
        "md" | "markdown" => "markdown",
        "sql" => "sql",
        "graphql" | "gql" => "graphql",
        "diff" | "patch" => "diff",
        "m" | "mm" => "objectivec",
        "vb" => "vbnet",
        "wat" | "wast" => "wasm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_named_as_highlight_js_names_them() {
        assert_eq!(language("server/src/main.rs"), Some("rust"));
        assert_eq!(language("Makefile"), Some("makefile"));
        assert_eq!(language("app.tsx"), Some("javascript"));
        assert_eq!(language("notes.txt"), None);
        assert_eq!(language("LICENSE"), None);
    }

    #[tokio::test]
    async fn a_listing_leaves_out_what_gitignore_does_and_git_s_folder() -> Result<(), Box<dyn std::error::Error>> {
        let project = tempfile::tempdir()?;
        let root = std::fs::canonicalize(project.path())?;
        std::fs::create_dir_all(root.join(".git"))?;
        std::fs::create_dir_all(root.join("target/debug"))?;
        std::fs::create_dir_all(root.join("src"))?;
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n")?;
        std::fs::write(root.join("build.log"), "x")?;
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n")?;
        let listing = list(root.clone(), String::new()).await?;
        let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["src", ".gitignore"]);
        let inner = list(root.clone(), "src".into()).await?;
        assert_eq!(inner.entries[0].path, "src/main.rs");
        let file = read(root.clone(), "src/main.rs".into()).await?;
        assert_eq!((file.language.as_deref(), file.content.as_str()), (Some("rust"), "fn main() {}\n"));
        std::fs::write(root.join("blob.bin"), [0u8, 1, 2])?;
        assert!(matches!(read(root.clone(), "blob.bin".into()).await, Err(ChangesError::Binary(_))));
        std::fs::write(root.join("big.txt"), "x".repeat(MAX_FILE_BYTES as usize + 1))?;
        assert!(matches!(read(root, "big.txt".into()).await, Err(ChangesError::TooLarge { .. })));
        Ok(())
    }
}
