//! The server: REST routes and the app's server functions over one task runner, plus the built
//! frontend. `main.rs` only loads the configuration and calls [`run`].

mod auth;
mod backend;
pub mod claude;
pub mod config;
mod http;
mod runner;
mod state;
mod store;
mod tunnel;

pub use auth::hash_password;
pub use http::router;
use http::edge::EdgePolicy;

use auth::{AuthService, Credentials, CredentialsError, PasswordSource};
use claude::paths::ClaudeHome;
use config::Config;
use runner::{CliSettings, Runner, RunnerError, RunnerSettings};
use state::{AppState, CliProbe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("CLAUDE_PROJECT_PATH / --project: {path} is not a directory ({source})")]
    Project { path: PathBuf, source: std::io::Error },
    #[error("DATA_DIR / --data-dir: cannot prepare {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error("cannot listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
    #[error("TLS_CERT / TLS_KEY: {0}")]
    Tls(std::io::Error),
    #[error(transparent)]
    Tunnel(#[from] tunnel::TunnelError),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

pub async fn run(config: Config) -> Result<(), StartError> {
    let project_raw = match &config.project {
        Some(path) => path.clone(),
        None => std::env::current_dir().map_err(|source| StartError::Project { path: PathBuf::from("."), source })?,
    };
    let project = std::fs::canonicalize(&project_raw)
        .and_then(|p| if p.is_dir() { Ok(p) } else { Err(std::io::Error::other("not a directory")) })
        .map_err(|source| StartError::Project { path: project_raw.clone(), source })?;
    prepare_data_dir(&config.data_dir)?;
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
        println!("warning: AUTH_PASSWORD is kept in plain text; prefer AUTH_PASSWORD_HASH (`server hash-password`)");
    }
    let store = Arc::new(Store::open(&config.data_dir.join("claude-remote.db"))?);
    let auth = Arc::new(AuthService::new(credentials, store.clone(), Duration::from_secs(u64::from(config.session_days) * 86_400)));
    let claude_home = ClaudeHome::from_env(config.claude_config_dir.clone());
    let mut cli_env = Vec::new();
    if let Some(dir) = &config.claude_config_dir {
        cli_env.push(("CLAUDE_CONFIG_DIR".into(), dir.clone().into_os_string()));
    }
    let runner = Runner::start(
        store.clone(),
        RunnerSettings {
            cli: CliSettings { bin: claude_bin.clone(), project: project.clone(), env: cli_env },
            claude_home,
            spool_dir: config.data_dir.join("spool"),
            max_concurrent: usize::from(config.max_concurrent),
            stop_grace: Duration::from_secs(config.stop_grace_secs),
            max_queued_per_session: config.max_queued_per_session as usize,
            max_queued_total: config.max_queued_total as usize,
        },
    )?;
    let cli = Arc::new(CliProbe::new(claude_bin.clone()).await);
    let status = cli.status().await;
    match (&status.path, &status.version) {
        (Some(path), Some(version)) if status.tested => println!("claude CLI {version} at {}", path.display()),
        (Some(path), Some(version)) => println!(
            "warning: claude CLI {version} at {} is outside the tested range {}: its output may have changed; report problems",
            path.display(),
            claude::version::TESTED_RANGE
        ),
        (Some(path), None) => println!("warning: {} did not answer --version", path.display()),
        _ => println!("warning: the claude CLI was not found ({}); {}", claude_bin.display(), claude::version::INSTALL_HINT),
    }
    if config.retention_days > 0 {
        spawn_retention(runner.clone(), Duration::from_secs(u64::from(config.retention_days) * 86_400));
    }

    let state = AppState {
        runner,
        auth,
        store,
        cli,
        project: project.clone(),
        sync_timeout: Duration::from_secs(config.sync_chat_timeout_secs),
    };
    let index = std::fs::read_to_string(config.site_dir.join("index.html")).ok();
    if index.is_none() {
        println!("warning: no built frontend at {} (run scripts/build.sh); the API works without it", config.site_dir.display());
    }
    let tls = config.tls_cert.clone().zip(config.tls_key.clone());
    let address = std::net::SocketAddr::new(config.host, config.port);
    let listener = std::net::TcpListener::bind(address).map_err(|source| StartError::Bind { address: address.to_string(), source })?;
    let bound = listener.local_addr().map_err(StartError::Serve)?;
    let policy = EdgePolicy {
        // Through a tunnel every client comes from loopback: only the tunnel's header tells them
        // apart (for throttling and the audit log).
        trust_proxy: config.trust_proxy || (config.tunnel && bound.ip().is_loopback()),
        tls: tls.is_some(),
        content_security_policy: http::edge::content_security_policy(index.as_deref()),
    };
    let app = router(state, &config.site_dir, policy).into_make_service_with_connect_info::<std::net::SocketAddr>();
    if !bound.ip().is_loopback() && tls.is_none() {
        println!("warning: listening on {bound} without TLS: passwords cross the network in clear; use --tls-cert/--tls-key or a tunnel");
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("project {}", project.display());
    println!("listening on {scheme}://{bound}");
    let tunnel = if config.tunnel {
        let local = format!("{scheme}://{}", if bound.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], bound.port())) } else { bound });
        let tunnel = tunnel::Tunnel::start(&config.cloudflared_bin, &local).await?;
        println!("tunnel: {}", tunnel.url);
        if let Some(code) = tunnel::qr_code(&tunnel.url) {
            println!("{code}");
        }
        Some(tunnel)
    } else {
        None
    };

    let handle = axum_server::Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        on_signal.graceful_shutdown(Some(Duration::from_secs(5)));
    });
    listener.set_nonblocking(true).map_err(StartError::Serve)?;
    let served = match tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls_config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await.map_err(StartError::Tls)?;
            axum_server::from_tcp_rustls(listener, tls_config).handle(handle).serve(app).await
        }
        None => axum_server::from_tcp(listener).handle(handle).serve(app).await,
    };
    if let Some(tunnel) = tunnel {
        tunnel.stop().await;
    }
    served.map_err(StartError::Serve)
}

fn prepare_data_dir(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |source| StartError::DataDir { path: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)
}

fn announce_credentials(credentials: &Credentials, source: &PasswordSource, data_dir: &Path) {
    let user = credentials.username();
    match source {
        PasswordSource::Generated(password) => {
            println!("generated credentials (shown only this once; only a hash is kept in {}):", data_dir.join("credentials.json").display());
            println!("  user:     {user}");
            println!("  password: {password}");
        }
        PasswordSource::Stored => println!("sign in as {user} with the password generated on first start (delete {} to make a new one)", data_dir.join("credentials.json").display()),
        PasswordSource::Configured => println!("sign in as {user} with AUTH_PASSWORD"),
        PasswordSource::ConfiguredHash => println!("sign in as {user} (AUTH_PASSWORD_HASH)"),
    }
}

fn spawn_retention(runner: Runner, age: Duration) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match runner.purge_older_than(age) {
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
    println!("shutting down; running tasks continue and are picked up at the next start");
}
