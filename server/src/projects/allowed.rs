//! Which folders may be projects: the configured default, and any folder under an allowed root.
//! A path is canonicalised (symlinks and `..` resolved) before it is compared with the roots,
//! so neither `root/../elsewhere` nor a symlink under a root that points out of it passes.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("a project is an id from /api/projects or an absolute path; {0:?} is neither")]
    NotAbsolute(String),
    #[error("no project {0:?}: give an id from /api/projects or an absolute path under an allowed root")]
    UnknownId(String),
    #[error("{0} is not a folder on this machine")]
    Missing(String),
    #[error("cannot list the folders in {0}: {1}")]
    Unreadable(String, std::io::Error),
    #[error("{0} is outside the allowed project roots ({1}); see --projects-root")]
    OutsideRoots(String, String),
    #[error("no project roots are configured (--projects-root): only the default project can be used")]
    NoRoots,
    #[error("a project path must be valid UTF-8 text, at most 4096 bytes, without control characters")]
    BadPath,
    #[error("PROJECTS_ROOTS / --projects-root: {path} is not a folder ({source})")]
    Root { path: PathBuf, source: std::io::Error },
}

/// The allowed roots (canonical) and the default project (canonical, allowed wherever it is).
#[derive(Clone, Debug)]
pub struct Allowed {
    roots: Vec<PathBuf>,
    default: PathBuf,
}

/// The longest project path accepted.
const MAX_PATH_BYTES: usize = 4096;

impl Allowed {
    /// Canonicalises each root; one that is not a folder stops the start.
    pub fn new(roots: &[PathBuf], default: PathBuf) -> Result<Self, ProjectError> {
        let mut canonical = Vec::with_capacity(roots.len());
        for root in roots {
            let real = std::fs::canonicalize(root)
                .and_then(|p| if p.is_dir() { Ok(p) } else { Err(std::io::Error::other("not a directory")) })
                .map_err(|source| ProjectError::Root { path: root.clone(), source })?;
            if !canonical.contains(&real) {
                canonical.push(real);
            }
        }
        Ok(Self { roots: canonical, default })
    }

    pub fn default_project(&self) -> &Path {
        &self.default
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The canonical folder `raw` names, if it may be a project (blocking: touches the disk).
    pub fn check(&self, raw: &Path) -> Result<PathBuf, ProjectError> {
        let shown = || raw.to_string_lossy().into_owned();
        let text = raw.to_str().ok_or(ProjectError::BadPath)?;
        if text.len() > MAX_PATH_BYTES || text.chars().any(char::is_control) {
            return Err(ProjectError::BadPath);
        }
        if !raw.is_absolute() {
            return Err(ProjectError::NotAbsolute(shown()));
        }
        let real = std::fs::canonicalize(raw).ok().filter(|p| p.is_dir()).ok_or_else(|| ProjectError::Missing(shown()))?;
        if real == self.default {
            return Ok(real);
        }
        if self.roots.is_empty() {
            return Err(ProjectError::NoRoots);
        }
        if self.root_of(&real).is_some() {
            // A canonical path is valid UTF-8 when what named it was, bar a symlink to a
            // non-UTF-8 name: refused, as it could not be stored or shown faithfully.
            real.to_str().ok_or(ProjectError::BadPath)?;
            return Ok(real);
        }
        Err(self.outside(shown()))
    }

    /// Whether an already canonical path may be a project (no disk access).
    pub fn contains(&self, real: &Path) -> bool {
        real == self.default || self.root_of(real).is_some()
    }

    /// The root an already canonical path lies under (or is).
    pub fn root_of(&self, real: &Path) -> Option<&Path> {
        // Component-wise: /srv/app is not under /srv/ap.
        self.roots.iter().find(|root| real.starts_with(root)).map(PathBuf::as_path)
    }

    /// Why `shown` may not be a project: it is outside the roots, naming them, or there are none.
    pub fn outside(&self, shown: String) -> ProjectError {
        if self.roots.is_empty() {
            return ProjectError::NoRoots;
        }
        let roots = self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
        ProjectError::OutsideRoots(shown, roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_under_a_root_pass_whatever_the_path_says() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = std::fs::canonicalize(dir.path()).expect("canonical");
        for sub in ["root/app", "root/lib", "rooted", "outside", "default"] {
            std::fs::create_dir_all(base.join(sub)).expect("mkdir");
        }
        std::os::unix::fs::symlink(base.join("outside"), base.join("root/escape")).expect("symlink");
        std::os::unix::fs::symlink(base.join("root/lib"), base.join("outside/inward")).expect("symlink");
        let allowed = Allowed::new(&[base.join("root")], base.join("default")).expect("roots");

        assert_eq!(allowed.check(&base.join("root/app")).expect("under"), base.join("root/app"));
        assert_eq!(allowed.check(&base.join("root/app/../lib")).expect("still under"), base.join("root/lib"));
        assert_eq!(allowed.check(&base.join("outside/inward")).expect("a link into a root"), base.join("root/lib"));
        assert_eq!(allowed.check(&base.join("default")).expect("the default"), base.join("default"));
        assert!(matches!(allowed.check(&base.join("root/../outside")), Err(ProjectError::OutsideRoots(..))));
        assert!(matches!(allowed.check(&base.join("root/escape")), Err(ProjectError::OutsideRoots(..))));
        assert!(matches!(allowed.check(&base.join("rooted")), Err(ProjectError::OutsideRoots(..))), "a prefix is not a parent");
        assert!(matches!(allowed.check(Path::new("root/app")), Err(ProjectError::NotAbsolute(_))));
        assert!(matches!(allowed.check(&base.join("root/none")), Err(ProjectError::Missing(_))));
        assert!(matches!(allowed.check(Path::new("/tmp/a\nb")), Err(ProjectError::BadPath)));
        let none = Allowed::new(&[], base.join("default")).expect("no roots");
        assert!(matches!(none.check(&base.join("root/app")), Err(ProjectError::NoRoots)));
        assert!(Allowed::new(&[base.join("missing")], base.join("default")).is_err());
    }
}
