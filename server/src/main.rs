//! `claude-remote`: load the configuration, run the server.

use std::process::ExitCode;
use std::time::Duration;

/// How long an exiting server waits for blocking work in flight (a chunk of a task's output being
/// stored): what it leaves unfinished, the next start reads again.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve());
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    code
}

async fn serve() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let config = match server::config::Config::load() {
        Ok(config) => config,
        Err(error) if !error.use_stderr() => {
            // --help and --version
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{}", server::config::one_line(&error));
            return ExitCode::from(2);
        }
    };
    if let Some(server::config::Command::HashPassword) = config.command {
        return hash_password();
    }
    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `claude-remote hash-password`: reads one line (the password) from stdin, prints its PHC string.
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        eprintln!("error: cannot read the password from standard input");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        eprintln!("error: the password is empty");
        return ExitCode::FAILURE;
    }
    match server::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
