//! Finding the CLI and its version, for `/health` and the start-up banner.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The CLI versions the real-CLI tests cover (scripts/test.sh pins one of them).
pub const TESTED_RANGE: &str = "2.1.x";
pub const PINNED_FOR_TESTS: &str = "2.1.197";

/// Whether `version` ("2.1.197") is in [`TESTED_RANGE`]: its output formats are known to parse.
pub fn is_tested(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    matches!((parts.next(), parts.next()), (Some(Some(2)), Some(Some(1))))
}

pub const INSTALL_HINT: &str = "install it with `npm install -g @anthropic-ai/claude-code`, run `claude login`, or point --claude-bin at it";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CliStatus {
    pub found: bool,
    pub path: Option<PathBuf>,
    pub version: Option<String>,
    /// The version is one the tests cover.
    pub tested: bool,
    pub tested_range: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<&'static str>,
}

/// Resolves `bin` (a path, or a name looked up on PATH) and asks it for `--version`.
pub async fn probe(bin: &Path) -> CliStatus {
    let Some(path) = resolve(bin) else {
        return CliStatus { found: false, path: None, version: None, tested: false, tested_range: TESTED_RANGE, install_hint: Some(INSTALL_HINT) };
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
    let tested = version.as_deref().is_some_and(is_tested);
    CliStatus { found: true, path: Some(path), version, tested, tested_range: TESTED_RANGE, install_hint: None }
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

    #[test]
    fn only_2_1_versions_are_tested() {
        assert!(is_tested(PINNED_FOR_TESTS));
        assert!(is_tested("2.1.331"));
        assert!(!is_tested("2.2.0") && !is_tested("1.0.9") && !is_tested("garbage"));
    }

    #[tokio::test]
    async fn a_missing_cli_says_how_to_install_it() {
        let status = probe(Path::new("definitely-not-a-claude-binary")).await;
        assert!(!status.found);
        assert_eq!(status.install_hint, Some(INSTALL_HINT));
    }
}
