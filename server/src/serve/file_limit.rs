//! The process's open-file limit. Many systems start processes with a soft limit of 1024 and a
//! much higher hard one; any process may raise its own soft limit up to the hard one.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit now in effect, or
/// `None` when it cannot be read (then the connection cap alone bounds connections).
///
/// CLI children inherit the raised limit; the CLI (Node) does not mind.
pub fn raise() -> Option<u64> {
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "cannot read the open-file limit");
            return None;
        }
    };
    if soft >= hard {
        return Some(soft);
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => Some(hard),
        Err(error) => {
            tracing::warn!(%error, soft, hard, "cannot raise the open-file limit");
            Some(soft)
        }
    }
}
