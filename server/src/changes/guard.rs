//! Which paths the file browser may show: under the project only (no `..`, no absolute path, no
//! symlink leading out), never git's own folder, never a file that may hold secrets.

use super::ChangesError;
use std::path::{Component, Path, PathBuf};

/// Whether a file's name says it may hold secrets: `.env` and its kin, keys, credential files.
/// Their text is never shown, neither in the browser nor in a diff.
pub fn is_secret(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
    let exact = [".env", ".envrc", ".netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass", "credentials", "secrets.json"];
    let key_file = ["pem", "key", "p12", "pfx", "jks", "keystore"].iter().any(|ext| name.ends_with(&format!(".{ext}")));
    exact.contains(&name.as_str())
        || name.starts_with(".env.")
        || name.ends_with(".env")
        || key_file
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].iter().any(|key| name.starts_with(key))
}

/// `raw` (what `?path=` said) as a clean relative path; empty for the project itself.
pub fn relative(raw: &str) -> Result<PathBuf, ChangesError> {
    if raw.contains('\0') {
        return Err(ChangesError::BadPath("a path cannot contain a NUL byte".into()));
    }
    let mut clean = PathBuf::new();
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(part) if part == ".git" => {
                return Err(ChangesError::BadPath("git's own folder is not shown".into()));
            }
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(ChangesError::BadPath(format!("{raw:?}: give a path inside the project, without `..`")));
            }
        }
    }
    Ok(clean)
}

/// `raw` resolved under `project` (canonical): the real path (symlinks followed) and the clean
/// relative one. Blocking (it reads the file system): call it on the blocking pool.
pub fn resolve(project: &Path, raw: &str) -> Result<(PathBuf, String), ChangesError> {
    let relative = relative(raw)?;
    let shown = relative.to_string_lossy().into_owned();
    if is_secret(&shown) {
        return Err(ChangesError::Secret(shown));
    }
    let real = std::fs::canonicalize(project.join(&relative)).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ChangesError::NotFound(shown.clone()),
        _ => ChangesError::Io { path: shown.clone(), source },
    })?;
    let Ok(inside) = real.strip_prefix(project) else { return Err(ChangesError::Outside(shown)) };
    // A symlink inside the project may still lead to a secret or into git's folder.
    if inside.components().any(|c| c.as_os_str() == ".git") {
        return Err(ChangesError::BadPath("git's own folder is not shown".into()));
    }
    if is_secret(&inside.to_string_lossy()) {
        return Err(ChangesError::Secret(shown));
    }
    Ok((real, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_keys_and_credentials_are_secret_and_code_is_not() {
        for name in [".env", "app/.env.local", "prod.env", ".envrc", "id_rsa", "id_ed25519.pub", "tls/server.key", "cert.pem", ".netrc"] {
            assert!(is_secret(name), "{name}");
        }
        for name in ["src/env.rs", "environment.ts", "README.md", "keys.rs", "Cargo.toml"] {
            assert!(!is_secret(name), "{name}");
        }
    }

    #[test]
    fn paths_that_climb_out_or_start_at_the_root_are_refused() {
        for raw in ["../etc/passwd", "a/../../b", "/etc/passwd", ".git/config", "a/.git/HEAD", "a\0b"] {
            assert!(matches!(relative(raw), Err(ChangesError::BadPath(_))), "{raw}");
        }
        assert_eq!(relative("./src/./main.rs").expect("clean"), PathBuf::from("src/main.rs"));
        assert_eq!(relative("").expect("the project"), PathBuf::new());
    }

    #[test]
    fn a_symlink_out_of_the_project_or_to_a_secret_is_refused() -> std::io::Result<()> {
        let outside = tempfile::tempdir()?;
        let project = tempfile::tempdir()?;
        let root = std::fs::canonicalize(project.path())?;
        std::fs::write(outside.path().join("secret.txt"), "x")?;
        std::fs::write(root.join(".env"), "KEY=1")?;
        std::fs::write(root.join("main.rs"), "fn main() {}")?;
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("escape.txt"))?;
        std::os::unix::fs::symlink(root.join(".env"), root.join("config.txt"))?;
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere"))?;
        assert!(matches!(resolve(&root, "escape.txt"), Err(ChangesError::Outside(_))));
        assert!(matches!(resolve(&root, "elsewhere/secret.txt"), Err(ChangesError::Outside(_))));
        assert!(matches!(resolve(&root, "config.txt"), Err(ChangesError::Secret(_))));
        assert!(matches!(resolve(&root, ".env"), Err(ChangesError::Secret(_))));
        assert!(matches!(resolve(&root, "missing.rs"), Err(ChangesError::NotFound(_))));
        assert_eq!(resolve(&root, "main.rs").expect("inside").1, "main.rs");
        Ok(())
    }
}
