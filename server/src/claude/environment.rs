//! The environment the CLI, and every tool it runs, starts with: the server's own, less the
//! server's settings and secrets. A model that runs `env` writes what it sees into a transcript,
//! so the sign-in password, its hash, TLS key paths and the tunnel's token must never be there.

use std::ffi::OsString;

/// Prefixes of variables that belong to the tunnel: cloudflared reads `TUNNEL_TOKEN` and
/// friends from the environment.
const WITHHELD_PREFIXES: &[&str] = &["TUNNEL_", "CLOUDFLARED_"];

/// `vars` (the server's environment) less every name in `withheld` and every name under a
/// withheld prefix.
pub fn for_cli(vars: impl IntoIterator<Item = (OsString, OsString)>, withheld: &[String]) -> Vec<(OsString, OsString)> {
    vars.into_iter()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !withheld.iter().any(|w| *w == name) && !WITHHELD_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_settings_and_the_tunnel_token_are_withheld_and_the_rest_passes() {
        let vars = [
            ("AUTH_PASSWORD", "hunter2"),
            ("AUTH_PASSWORD_HASH", "$argon2id$..."),
            ("TLS_KEY", "/etc/key.pem"),
            ("TUNNEL_TOKEN", "eyJ..."),
            ("FROM_DOTENV", "x"),
            ("ANTHROPIC_API_KEY", "sk-ant-..."),
            ("PATH", "/usr/bin"),
            ("HOME", "/home/dev"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let withheld: Vec<String> = ["AUTH_PASSWORD", "AUTH_PASSWORD_HASH", "TLS_KEY", "FROM_DOTENV"].map(String::from).to_vec();
        let passed: Vec<String> = for_cli(vars, &withheld).into_iter().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
        assert_eq!(passed, ["ANTHROPIC_API_KEY", "PATH", "HOME"]);
    }

    #[test]
    fn every_option_of_the_server_that_holds_a_secret_is_withheld() {
        let names = crate::config::Config::option_env_names();
        for secret in ["AUTH_PASSWORD", "AUTH_PASSWORD_HASH", "AUTH_USERNAME", "TLS_CERT", "TLS_KEY", "DATA_DIR", "CLOUDFLARE_TUNNEL_TOKEN"] {
            assert!(names.iter().any(|n| n == secret), "{secret} is read by the server: {names:?}");
        }
    }
}
