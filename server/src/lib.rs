//! The server: REST routes and the app's server functions over one task runner, plus the built
//! frontend. `main.rs` only loads the configuration and calls [`run`].

mod auth;
mod console;
mod backend;
pub mod changes;
pub mod claude;
pub mod config;
mod http;
mod projects;
mod push;
mod runner;
mod serve;
pub mod site;
mod state;
mod store;
mod tunnel;

pub use auth::hash_password;
pub use http::router;
use http::edge::{ClientAddressSource, EdgePolicy};

use auth::{AuthService, AuthSettings, Credentials, CredentialsError, PasswordSource};
use claude::paths::ClaudeHome;
use config::Config;
use console::say;
use runner::{CliSettings, Runner, RunnerError, RunnerSettings};
use state::{AppState, CliProbe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError, StoreLimits};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("CLAUDE_PROJECT_PATH / --project: {path} is not a directory ({source})")]
    Project { path: PathBuf, source: std::io::Error },
    #[error("DATA_DIR / --data-dir: another server already runs on {0}; stop it, or give this one another --data-dir")]
    AlreadyRunning(PathBuf),
    #[error("DATA_DIR / --data-dir: cannot prepare {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error(transparent)]
    Push(#[from] push::PushError),
    #[error(transparent)]
    Projects(#[from] projects::ProjectError),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
    #[error("TLS_CERT / TLS_KEY: {0}")]
    Tls(#[from] serve::tls::TlsError),
    #[error(transparent)]
    Tunnel(#[from] tunnel::TunnelError),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

pub async fn run(config: Config) -> Result<(), StartError> {
    // First, so that the database, the CLIs and the connections all get the higher limit.
    let file_limit = serve::file_limit::raise();
    let project_raw = match &config.project {
        Some(path) => path.clone(),
        None => std::env::current_dir().map_err(|source| StartError::Project { path: PathBuf::from("."), source })?,
    };
    let project = std::fs::canonicalize(&project_raw)
        .and_then(|p| if p.is_dir() { Ok(p) } else { Err(std::io::Error::other("not a directory")) })
        .map_err(|source| StartError::Project { path: project_raw.clone(), source })?;
    prepare_data_dir(&config.data_dir)?;
    // Held for as long as this server runs: a second server on the same data directory would
    // take over the first one's tasks and end them as interrupted.
    let _one_server = lock_data_dir(&config.data_dir)?;
    // The CLI runs in the project directory: a relative path to it must mean what it meant where
    // the server was started.
    let claude_bin = match std::env::current_dir() {
        Ok(here) if config.claude_bin.is_relative() && config.claude_bin.components().count() > 1 => here.join(&config.claude_bin),
        _ => config.claude_bin.clone(),
    };

    let (credentials, source) = Credentials::resolve(
        &config.username,
        config.password.as_deref(),
        config.password_hash.as_deref(),
        &config.data_dir,
    )?;
    announce_credentials(&credentials, &source, &config.data_dir);

    if matches!(source, PasswordSource::Configured) {
        say!("warning: AUTH_PASSWORD is kept in plain text; prefer AUTH_PASSWORD_HASH (`claude-remote hash-password`)");
    }
    let limits = StoreLimits { max_bytes: (config.max_database_mb > 0).then(|| config.max_database_mb.saturating_mul(1 << 20)) };
    let store = Arc::new(Store::open_with(&config.data_dir.join("claude-remote.db"), limits)?);
    let auth_settings = AuthSettings {
        session_ttl: Duration::from_secs(u64::from(config.session_days) * 86_400),
        binding_key: auth::binding_key(&config.data_dir)?,
        tls: config.tls_cert.is_some(),
    };
    let auth = Arc::new(AuthService::new(credentials, store.clone(), auth_settings));
    let claude_home = ClaudeHome::from_env(config.claude_config_dir.clone());
    // The server's own settings (and whatever only `.env` set) stay with the server.
    let mut withheld: Vec<String> = Config::option_env_names();
    withheld.extend(config.dotenv_only.iter().cloned());
    let mut cli_env = claude::environment::for_cli(std::env::vars_os(), &withheld);
    if let Some(dir) = &config.claude_config_dir {
        cli_env.push(("CLAUDE_CONFIG_DIR".into(), dir.clone().into_os_string()));
    }
    let push = Arc::new(push::Push::start(&config.data_dir, store.clone(), config.push_contact.clone())?);
    let added = store.added_projects()?;
    let projects = Arc::new(projects::Projects::new(claude_home, project.clone(), &config.projects_roots, added)?);
    let runner = Runner::start(
        store.clone(),
        RunnerSettings {
            cli: CliSettings { bin: claude_bin.clone(), project: project.clone(), env: cli_env },
            projects: projects.clone(),
            spool_dir: config.data_dir.join("spool"),
            max_concurrent: usize::from(config.max_concurrent),
            stop_grace: Duration::from_secs(config.stop_grace_secs),
            approval_timeout: config.approval_timeout.into(),
            max_queued_per_session: config.max_queued_per_session as usize,
            max_queued_total: config.max_queued_total as usize,
        },
        push.notifier(),
    )?;
    runner.spawn_approval_timeouts();
    let cli = Arc::new(CliProbe::new(claude_bin.clone()).await);
    let status = cli.status().await;
    match (&status.path, &status.version) {
        (Some(path), Some(version)) if status.tested => say!("claude CLI {version} at {}", path.display()),
        (Some(path), Some(version)) => say!(
            "warning: claude CLI {version} at {} is outside the tested range {}: its output may have changed; report problems",
            path.display(),
            claude::version::TESTED_RANGE
        ),
        (Some(path), None) => say!("warning: {} did not answer --version", path.display()),
        _ => say!("warning: the claude CLI was not found ({}); {}", claude_bin.display(), claude::version::INSTALL_HINT),
    }
    if config.retention_days > 0 {
        spawn_retention(runner.clone(), Duration::from_secs(u64::from(config.retention_days) * 86_400));
    }

    let state = AppState {
        runner,
        auth,
        store,
        push,
        cli,
        project: project.clone(),
        sync_timeout: Duration::from_secs(config.sync_chat_timeout_secs),
    };
    let site = site::Site::new(config.site_dir.clone());
    let index = site.index_html();
    if index.is_none() {
        say!("warning: {}", site.missing_hint());
    }
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            Some(serve::tls::load(cert, key).await?)
        }
        _ => None,
    };
    let address = std::net::SocketAddr::new(config.host, config.port);
    let listener = serve::bind(address).map_err(|source| StartError::Bind { address: address.to_string(), source })?;
    let bound = listener.local_addr().map_err(StartError::Serve)?;
    let policy = EdgePolicy {
        // Through a tunnel every client comes from loopback: only the tunnel's header tells them
        // apart (for throttling and the audit log).
        client_address: if config.tunnel || config.tunnel_token.is_some() {
            ClientAddressSource::CfConnectingIp
        } else if config.trust_proxy {
            ClientAddressSource::XForwardedFor
        } else {
            ClientAddressSource::Socket
        },
        tls: tls.is_some(),
        content_security_policy: http::edge::content_security_policy(index.as_deref()),
    };
    let app = router(state, &site, policy).into_make_service_with_connect_info::<std::net::SocketAddr>();
    if !bound.ip().is_loopback() && tls.is_none() {
        say!("warning: listening on {bound} without TLS: passwords cross the network in clear; use --tls-cert/--tls-key or a tunnel");
    }
    let limits = connection_limits(&config, file_limit);
    let scheme = if tls.is_some() { "https" } else { "http" };
    say!("project {}", project.display());
    for root in projects.roots() {
        say!("projects under {}", root.display());
    }
    say!("listening on {scheme}://{bound}");
    let local = format!("{scheme}://{}", if bound.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], bound.port())) } else { bound });
    let tunnel = start_tunnel(&config, &local).await?;

    serve::serve(listener, app, tls, limits, shutdown_signal()).await;
    if let Some(tunnel) = tunnel {
        tunnel.stop().await;
    }
    Ok(())
}

/// The tunnel asked for, if any, once it is up: a quick one's URL and QR code are printed, a
/// named one's hostname is the owner's, routed in Cloudflare to `local`.
async fn start_tunnel(config: &Config, local: &str) -> Result<Option<tunnel::Tunnel>, StartError> {
    if config.tunnel {
        let tunnel = tunnel::Tunnel::quick(&config.cloudflared_bin, local).await?;
        if let Some(url) = &tunnel.url {
            say!("tunnel: {url}");
            if let Some(code) = tunnel::qr_code(url) {
                say!("{code}");
            }
        }
        return Ok(Some(tunnel));
    }
    let Some(token) = &config.tunnel_token else { return Ok(None) };
    let tunnel = tunnel::Tunnel::named(&config.cloudflared_bin, token).await?;
    say!("tunnel: named tunnel connected; its public hostname must point at {local} (Cloudflare dashboard: the tunnel's public hostnames)");
    Ok(Some(tunnel))
}

/// The connection limits from the configuration, fitted under the open-file limit, and said.
fn connection_limits(config: &Config, file_limit: Option<u64>) -> serve::Limits {
    let configured = serve::Limits {
        header_timeout: Duration::from_secs(config.header_timeout_secs),
        idle_timeout: Duration::from_secs(config.idle_timeout_secs),
        max_connections: config.max_connections as usize,
        max_connections_per_client: config.max_connections_per_client as usize,
    };
    let limits = configured.fitted(file_limit, usize::from(config.max_concurrent));
    if limits.max_connections < configured.max_connections {
        say!(
            "warning: the open-file limit ({}) leaves room for {} connections, not MAX_CONNECTIONS {}; raise it (ulimit -n) to serve more",
            file_limit.unwrap_or_default(),
            limits.max_connections,
            configured.max_connections
        );
    }
    say!(
        "connections: at most {} ({} per client address); a request head within {} s, idle keep-alive {} s; open-file limit {}",
        limits.max_connections,
        limits.max_connections_per_client,
        limits.header_timeout.as_secs(),
        limits.idle_timeout.as_secs(),
        file_limit.map_or_else(|| "unknown".to_owned(), |n| n.to_string()),
    );
    limits
}

/// The data directory and the CLI's output folder in it, 0700 (also when an earlier version made
/// them with the umask's modes). Its files are made 0600 by whoever writes them.
fn prepare_data_dir(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt;
    for folder in [dir.to_path_buf(), dir.join("spool")] {
        let fail = |source| StartError::DataDir { path: folder.clone(), source };
        std::fs::create_dir_all(&folder).map_err(fail)?;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// An exclusive lock on `server.lock` in the data directory, released when the process ends (the
/// CLIs it starts do not inherit it: Rust opens files close-on-exec).
fn lock_data_dir(dir: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, StartError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("server.lock");
    let fail = |source| StartError::DataDir { path: path.clone(), source };
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&path).map_err(fail)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| match errno {
        nix::errno::Errno::EWOULDBLOCK => StartError::AlreadyRunning(dir.to_path_buf()),
        other => fail(std::io::Error::from(other)),
    })
}

fn announce_credentials(credentials: &Credentials, source: &PasswordSource, data_dir: &Path) {
    let user = credentials.username();
    match source {
        PasswordSource::Generated(password) => {
            say!("generated credentials (shown only this once; only a hash is kept in {}):", data_dir.join("credentials.json").display());
            say!("  user:     {user}");
            say!("  password: {password}");
        }
        PasswordSource::Stored => say!("sign in as {user} with the password generated on first start (delete {} to make a new one)", data_dir.join("credentials.json").display()),
        PasswordSource::Configured => say!("sign in as {user} with AUTH_PASSWORD"),
        PasswordSource::ConfiguredHash => say!("sign in as {user} (AUTH_PASSWORD_HASH)"),
    }
}

fn spawn_retention(runner: Runner, age: Duration) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match runner.purge_older_than(age).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "old finished tasks removed"),
                Err(error) => tracing::warn!(%error, "retention sweep failed"),
            }
        }
    });
}

/// Ctrl-C or SIGTERM. Running CLIs are left to finish: the next start follows them to their end.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    say!("shutting down; running tasks continue and are picked up at the next start");
}
