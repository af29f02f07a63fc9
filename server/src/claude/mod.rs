//! Everything we know about the `claude` CLI: how to invoke it, how to read what it prints, and
//! how to read the files it keeps under `~/.claude`. Pure parsing lives here; processes and the
//! database do not.

pub mod control;
pub mod environment;
pub mod history;
pub mod invocation;
pub mod meta_cache;
pub mod search_cache;
pub mod outcome;
pub mod partial;
pub mod paths;
pub mod sessions;
pub mod stream;
pub mod transcript;
pub mod version;
