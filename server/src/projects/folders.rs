//! Choosing a project folder by browsing rather than typing its path on a phone: the allowed
//! roots, then the folders inside one of them, one level at a time. Only folders under a root are
//! listed; a symlink is listed where it leads, and left out when that is outside the roots.

use super::{Allowed, ProjectError};
use app::api::{Folder, FolderListing};
use std::path::Path;

/// The most folders one listing holds (the first by name): enough for any real parent folder.
pub const MAX_FOLDERS: usize = 500;

/// The most entries of one folder looked at: a folder of a million files answers quickly too.
const MAX_SCANNED: usize = 10_000;

/// The roots (`raw` absent or empty), or the folders in `raw`, which must be under a root
/// (blocking: reads the disk).
pub fn list(allowed: &Allowed, raw: Option<&str>) -> Result<FolderListing, ProjectError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        if allowed.roots().is_empty() {
            return Err(ProjectError::NoRoots);
        }
        let folders = allowed.roots().iter().map(|root| folder(root, root.display().to_string())).collect();
        return Ok(FolderListing { path: None, parent: None, folders, truncated: false });
    };
    let real = allowed.check(Path::new(raw))?;
    // The default project outside every root: nothing inside it may be a project.
    let root = allowed.root_of(&real).ok_or_else(|| allowed.outside(raw.to_owned()))?;
    let parent = if real == root { None } else { real.parent().map(|p| p.display().to_string()) };
    let entries = std::fs::read_dir(&real).map_err(|error| ProjectError::Unreadable(raw.to_owned(), error))?;
    let mut folders = Vec::new();
    let mut truncated = false;
    for (seen, entry) in entries.flatten().enumerate() {
        if seen == MAX_SCANNED {
            truncated = true;
            break;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| !n.starts_with('.')) else { continue };
        // Where it really is: a symlink out of the roots, or to no folder, is not offered.
        let Ok(target) = std::fs::canonicalize(entry.path()) else { continue };
        if !target.is_dir() || !allowed.contains(&target) || target.to_str().is_none() {
            continue;
        }
        folders.push(folder(&target, name.to_owned()));
    }
    folders.sort_by_cached_key(|f: &Folder| f.name.to_lowercase());
    truncated |= folders.len() > MAX_FOLDERS;
    folders.truncate(MAX_FOLDERS);
    Ok(FolderListing { path: Some(real.display().to_string()), parent, folders, truncated })
}

fn folder(path: &Path, name: String) -> Folder {
    Folder { name, path: path.display().to_string(), git: path.join(".git").exists() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_under_the_roots_are_listed_one_level_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = std::fs::canonicalize(dir.path()).expect("canonical");
        for sub in ["root/Zeta/.git", "root/alpha/inner", "root/.hidden", "outside/secret", "default/sub"] {
            std::fs::create_dir_all(base.join(sub)).expect("mkdir");
        }
        std::fs::write(base.join("root/notes.txt"), "not a folder").expect("file");
        std::os::unix::fs::symlink(base.join("outside"), base.join("root/escape")).expect("symlink");
        std::os::unix::fs::symlink(base.join("root/alpha/inner"), base.join("root/shortcut")).expect("symlink");
        let allowed = Allowed::new(&[base.join("root")], base.join("default")).expect("roots");
        let shown = |p: &str| base.join(p).display().to_string();

        let roots = list(&allowed, None).expect("roots");
        assert_eq!((roots.path, roots.parent), (None, None));
        assert_eq!(roots.folders.iter().map(|f| f.path.clone()).collect::<Vec<_>>(), [shown("root")]);

        let root = list(&allowed, Some(&shown("root"))).expect("a root");
        assert_eq!((root.path, root.parent), (Some(shown("root")), None), "above a root are the roots");
        let listed: Vec<(&str, &str, bool)> = root.folders.iter().map(|f| (f.name.as_str(), f.path.as_str(), f.git)).collect();
        let (alpha, inner, zeta) = (shown("root/alpha"), shown("root/alpha/inner"), shown("root/Zeta"));
        assert_eq!(listed, [("alpha", alpha.as_str(), false), ("shortcut", inner.as_str(), false), ("Zeta", zeta.as_str(), true)]);

        let alpha = list(&allowed, Some(&format!("{}/../alpha", shown("root/Zeta")))).expect("under a root");
        assert_eq!((alpha.path.as_deref(), alpha.parent), (Some(shown("root/alpha").as_str()), Some(shown("root"))));
        assert!(matches!(list(&allowed, Some(&shown("root/escape"))), Err(ProjectError::OutsideRoots(..))));
        assert!(matches!(list(&allowed, Some(&shown("default"))), Err(ProjectError::OutsideRoots(..))), "the default's inside is not under a root");
        assert!(matches!(list(&allowed, Some("relative")), Err(ProjectError::NotAbsolute(_))));
        let none = Allowed::new(&[], base.join("default")).expect("no roots");
        assert!(matches!(list(&none, None), Err(ProjectError::NoRoots)));
    }

    #[test]
    fn a_huge_folder_lists_its_first_folders_by_name_and_says_there_are_more() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        for i in 0..=MAX_FOLDERS {
            std::fs::create_dir(root.join(format!("d{i:04}"))).expect("mkdir");
        }
        let allowed = Allowed::new(std::slice::from_ref(&root), root.join("d0000")).expect("roots");
        let listing = list(&allowed, root.to_str()).expect("listed");
        assert!(listing.truncated);
        assert_eq!(listing.folders.len(), MAX_FOLDERS);
        assert_eq!((listing.folders[0].name.as_str(), listing.folders[MAX_FOLDERS - 1].name.as_str()), ("d0000", "d0499"));
    }
}
