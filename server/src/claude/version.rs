//! Finding the CLI and its version, for `/health` and the start-up banner.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

pub const INSTALL_HINT: &str = "install it with `npm install -g @anthropic-ai/claude-code`, run `claude login`, or point --claude-bin at it";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CliStatus {
    pub found: bool,
    pub path: Option<PathBuf>,
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<&'static str>,
}

/// Resolves `bin` (a path, or a name looked up on PATH) and asks it for `--version`.
pub async fn probe(bin: &Path) -> CliStatus {
    let Some(path) = resolve(bin) else {
        return CliStatus { found: false, path: None, version: None, install_hint: Some(INSTALL_HINT) };
    };
    let output = tokio::process::Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let version = match tokio::time::timeout(Duration::from_secs(10), output).await {
        Ok(Ok(out)) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            text.split_whitespace().next().map(str::to_owned)
        }
        _ => None,
    };
    CliStatus { found: true, path: Some(path), version, install_hint: None }
}

fn resolve(bin: &Path) -> Option<PathBuf> {
    if bin.components().count() > 1 {
        return is_executable(bin).then(|| bin.to_path_buf());
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(bin))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_cli_says_how_to_install_it() {
        let status = probe(Path::new("definitely-not-a-claude-binary")).await;
        assert!(!status.found);
        assert_eq!(status.install_hint, Some(INSTALL_HINT));
    }
}
