//! Command-line and environment configuration. The original's `.env` names keep working
//! (`AUTH_USERNAME`, `AUTH_PASSWORD`, `CLAUDE_PROJECT_PATH`); a `.env` file in the working
//! directory is read first, and the real environment wins over it.

use crate::console::say;
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

    /// A folder under which any folder may be a project: chosen per session from the app, or
    /// found among the projects the CLI already knows. Repeatable; PROJECTS_ROOTS takes several,
    /// `:`-separated. Without one, only --project is used.
    #[arg(long = "projects-root", env = "PROJECTS_ROOTS", value_name = "DIR", value_delimiter = ':')]
    pub projects_roots: Vec<PathBuf>,

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

    /// User name for sign-in (an empty value counts as unset).
    #[arg(long, env = "AUTH_USERNAME", default_value = DEFAULT_USERNAME)]
    pub username: String,

    /// Password for sign-in. When neither this nor AUTH_PASSWORD_HASH is set (an empty value counts
    /// as unset), a strong password is generated on first start, printed once, and only its hash
    /// is kept in the data directory.
    #[arg(long, env = "AUTH_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// An argon2id hash (PHC string) of the password, instead of AUTH_PASSWORD.
    #[arg(long, env = "AUTH_PASSWORD_HASH", hide_env_values = true)]
    pub password_hash: Option<String>,

    /// Serve the web app from this folder (a built dist/) instead of the one built into the
    /// binary: for frontend work.
    #[arg(long, env = "SITE_DIR", value_name = "DIR")]
    pub site_dir: Option<PathBuf>,

    /// The most the database may grow to, in MB (0: no limit but the disk's). Past it, a running
    /// task whose output cannot be stored ends "disk full", as on a full disk; sign-in and polls
    /// go on working, and deleting tasks makes room again.
    #[arg(long, env = "MAX_DATABASE_MB", default_value_t = 0)]
    pub max_database_mb: u64,

    /// Finished tasks, their output and audit entries are deleted after this many days (0 keeps
    /// them; tasks until DELETE).
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,

    /// How long the legacy synchronous POST /api/chat waits before answering that the task is
    /// still running (stay under the tunnel's ~100 s cut).
    #[arg(long, env = "SYNC_CHAT_TIMEOUT_SECS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sync_chat_timeout_secs: u64,

    /// A reverse proxy on this machine forwards the clients: take a client's address (for sign-in
    /// throttling and the audit log) from the right-most `X-Forwarded-For` hop, which that proxy
    /// appended. Believed only from loopback peers. (`--tunnel` reads `CF-Connecting-IP` instead.)
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

    /// Run the named Cloudflare tunnel of this token (`cloudflared tunnel run`): your own
    /// hostname, routed in Cloudflare's dashboard to this server. Implies what --tunnel does for
    /// client addresses. Prefer the environment variable: a flag shows in `ps`.
    #[arg(long, env = "CLOUDFLARE_TUNNEL_TOKEN", hide_env_values = true, value_name = "TOKEN", conflicts_with = "tunnel")]
    pub tunnel_token: Option<String>,

    /// The cloudflared binary for --tunnel and --tunnel-token.
    #[arg(long, env = "CLOUDFLARED_BIN", default_value = "cloudflared", value_name = "PATH")]
    pub cloudflared_bin: std::path::PathBuf,

    /// A browser sign-in lasts this many days.
    #[arg(long, env = "SESSION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_days: u32,

    /// Seconds a client has to send a whole request head: from connecting (TLS handshake
    /// included) for its first request, from the first byte of each next one on a kept-alive
    /// connection. A slower client is disconnected, so half-sent requests cannot pile up.
    #[arg(long, env = "HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_secs: u64,

    /// Seconds a kept-alive connection may sit with no request in flight before it is closed. An
    /// answer still being sent (an event stream, a long poll) is in flight however long it lasts.
    /// Above cloudflared's 90 s keep-alive, so that the tunnel closes its idle connections before
    /// the server does and never sends a request down one the server is closing.
    #[arg(long, env = "IDLE_TIMEOUT_SECS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_secs: u64,

    /// Client connections open at once; one more is closed as soon as it is accepted. Lowered at
    /// start, if need be, to fit under the open-file limit with room kept for the database, the
    /// CLIs and their output files (the limit is first raised to its hard maximum).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Connections open at once from one client address (an IPv6 /64 counts as one), and never
    /// more than half of MAX_CONNECTIONS, so that one source cannot take every slot. Behind a
    /// tunnel every connection comes from the tunnel, so this bounds the tunnel as a whole
    /// (cloudflared keeps up to 100 idle).
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections_per_client: u32,

    /// Seconds between the interrupt and the kill when a task is stopped.
    #[arg(long, env = "STOP_GRACE_SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=60))]
    pub stop_grace_secs: u64,

    /// A tool use left waiting for a decision this long is denied, with a message saying so
    /// (`90s`, `30m`, `24h`, …).
    #[arg(long, env = "APPROVAL_TIMEOUT", default_value = "24h", value_name = "DURATION")]
    pub approval_timeout: humantime::Duration,

    /// Who runs this server, for Web Push services (the VAPID `sub` claim): a `mailto:` or
    /// `https:` URL they may write to about the pushes it sends.
    #[arg(long, env = "PUSH_CONTACT", default_value = "mailto:claude-remote@example.invalid", value_name = "URL")]
    pub push_contact: String,

    /// Variables that only `.env` set (filled by [`Config::load`]): kept from the CLI.
    #[arg(skip)]
    pub dotenv_only: Vec<String>,
}

#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Print the argon2id hash of a password read from standard input, for AUTH_PASSWORD_HASH.
    HashPassword,
}

impl Config {
    /// Reads `.env`, then the environment and arguments. A wrong value is one line naming it.
    pub fn load() -> Result<Self, clap::Error> {
        let from_dotenv = dotenv_only_names();
        let _ = dotenvy::dotenv();
        let mut config = Self::try_parse()?.normalized()?;
        config.dotenv_only = from_dotenv;
        Ok(config)
    }

    /// An empty credential counts as unset: `AUTH_PASSWORD=` as a copied `.env` template leaves
    /// it must never mean "the empty password signs in". Blank values are dropped here, once, so
    /// nothing downstream can mistake them for a choice.
    pub fn normalized(mut self) -> Result<Self, clap::Error> {
        let blank = |value: &Option<String>| value.as_deref().is_some_and(|v| v.trim().is_empty());
        if blank(&self.password) {
            say!("notice: AUTH_PASSWORD / --password is empty and counts as unset");
            self.password = None;
        }
        if blank(&self.password_hash) {
            say!("notice: AUTH_PASSWORD_HASH / --password-hash is empty and counts as unset");
            self.password_hash = None;
        }
        if blank(&self.tunnel_token) {
            say!("notice: CLOUDFLARE_TUNNEL_TOKEN / --tunnel-token is empty and counts as unset: no named tunnel");
            self.tunnel_token = None;
        }
        if self.username.trim().is_empty() {
            say!("notice: AUTH_USERNAME / --username is empty and counts as unset: the user is {DEFAULT_USERNAME}");
            DEFAULT_USERNAME.clone_into(&mut self.username);
        }
        if self.password.is_some() && self.password_hash.is_some() {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                "error: AUTH_PASSWORD (--password) and AUTH_PASSWORD_HASH (--password-hash) are both set: keep one\n",
            ));
        }
        Ok(self)
    }

    /// Every environment variable an option of this server reads: the server's own settings,
    /// which the CLI and its tools have no business seeing.
    pub fn option_env_names() -> Vec<String> {
        use clap::CommandFactory;
        Self::command().get_arguments().filter_map(|arg| arg.get_env()).map(|name| name.to_string_lossy().into_owned()).collect()
    }
}

pub const DEFAULT_USERNAME: &str = "admin";

/// Names that `.env` sets and the real environment does not: `.env` is the server's file.
fn dotenv_only_names() -> Vec<String> {
    let Ok(entries) = dotenvy::dotenv_iter() else { return Vec::new() };
    entries.filter_map(Result::ok).map(|(name, _)| name).filter(|name| std::env::var_os(name).is_none()).collect()
}

/// The first line of a clap error: "error: invalid value 'x' for '--port <PORT>': ...".
pub fn one_line(error: &clap::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or("error: invalid configuration").to_owned()
}
