//! Command-line and environment configuration. The original's `.env` names keep working
//! (`AUTH_USERNAME`, `AUTH_PASSWORD`, `CLAUDE_PROJECT_PATH`); a `.env` file in the working
//! directory is read first, and the real environment wins over it.

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(name = "claude-remote", version, about = "Drive the claude CLI on this machine from a phone or any browser.")]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on. Keep 127.0.0.1 behind a tunnel; other addresses expose the service
    /// on the network.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// The project the CLI works in (its cwd); defaults to the current directory.
    #[arg(long = "project", env = "CLAUDE_PROJECT_PATH", value_name = "DIR")]
    pub project: Option<PathBuf>,

    /// Where the database, generated credentials and CLI output files are kept (created 0700).
    #[arg(long, env = "DATA_DIR", default_value = "data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// The claude CLI: a path, or a name looked up on PATH.
    #[arg(long, env = "CLAUDE_BIN", default_value = "claude", value_name = "PATH")]
    pub claude_bin: PathBuf,

    /// The CLI's configuration folder, where it keeps transcripts (default ~/.claude). Passed to
    /// the CLI as CLAUDE_CONFIG_DIR.
    #[arg(long, env = "CLAUDE_CONFIG_DIR", value_name = "DIR")]
    pub claude_config_dir: Option<PathBuf>,

    /// At most this many CLI processes at once; further tasks wait, queued.
    #[arg(long, env = "MAX_CONCURRENT_TASKS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_concurrent: u16,

    /// At most this many unfinished (queued or running) tasks per session; a further submit is
    /// refused with 429 until one finishes.
    #[arg(long, env = "MAX_QUEUED_PER_SESSION", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_queued_per_session: u32,

    /// At most this many unfinished (queued or running) tasks in all; a further submit is refused
    /// with 429 until one finishes.
    #[arg(long, env = "MAX_QUEUED_TOTAL", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_queued_total: u32,

    /// User name for sign-in (HTTP Basic).
    #[arg(long, env = "AUTH_USERNAME", default_value = "admin")]
    pub username: String,

    /// Password for sign-in. When neither this nor AUTH_PASSWORD_HASH is set, a strong password is
    /// generated on first start, printed once, and only its hash is kept in the data directory.
    #[arg(long, env = "AUTH_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// An argon2id hash (PHC string) of the password, instead of AUTH_PASSWORD.
    #[arg(long, env = "AUTH_PASSWORD_HASH", hide_env_values = true, conflicts_with = "password")]
    pub password_hash: Option<String>,

    /// The built frontend (Trunk's output) to serve at /.
    #[arg(long, env = "SITE_DIR", default_value = "dist", value_name = "DIR")]
    pub site_dir: PathBuf,

    /// Finished tasks, their output and audit entries are deleted after this many days (0 keeps
    /// them; tasks until DELETE).
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,

    /// How long the legacy synchronous POST /api/chat waits before answering that the task is
    /// still running (stay under the tunnel's ~100 s cut).
    #[arg(long, env = "SYNC_CHAT_TIMEOUT_SECS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sync_chat_timeout_secs: u64,

    /// Trust `CF-Connecting-IP` / `X-Forwarded-For` for the client's address (sign-in throttling,
    /// audit). Only behind a tunnel or proxy you run: otherwise anyone can claim any address.
    #[arg(long, env = "TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Start a Cloudflare quick tunnel (cloudflared) to this server and print its URL and a QR
    /// code. Implies --trust-proxy while listening on loopback, since every client then arrives
    /// through the tunnel.
    #[arg(long, env = "TUNNEL", default_value_t = false)]
    pub tunnel: bool,

    /// The cloudflared binary for --tunnel.
    #[arg(long, env = "CLOUDFLARED_BIN", default_value = "cloudflared", value_name = "PATH")]
    pub cloudflared_bin: std::path::PathBuf,

    /// A browser sign-in lasts this many days.
    #[arg(long, env = "SESSION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_days: u32,

    /// Seconds between the interrupt and the kill when a task is stopped.
    #[arg(long, env = "STOP_GRACE_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub stop_grace_secs: u64,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Print the argon2id hash of a password read from standard input, for AUTH_PASSWORD_HASH.
    HashPassword,
}

impl Config {
    /// Reads `.env`, then the environment and arguments. A wrong value is one line naming it.
    pub fn load() -> Result<Self, clap::Error> {
        let _ = dotenvy::dotenv();
        Self::try_parse()
    }
}

/// The first line of a clap error: "error: invalid value 'x' for '--port <PORT>': ...".
pub fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or("error: invalid configuration").to_owned()
}
