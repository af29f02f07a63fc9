//! The bounds on client connections, and how many connections fit under the open-file limit.

use std::time::Duration;

/// How long a client may take and how many connections it may hold. The defaults, and why, are
/// on the options in `config.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A whole request head must arrive within this: counted from the accept for a connection's
    /// first request (the TLS handshake included), from the first byte of each next request on a
    /// kept-alive connection. A slower client is disconnected.
    pub header_timeout: Duration,
    /// A connection with no request in flight and nothing arriving is closed after this. A
    /// response still being sent is in flight, however long it lasts.
    pub idle_timeout: Duration,
    /// Connections open at once, in total. One over the cap is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 /64 counts as one).
    pub max_connections_per_client: usize,
}

/// Descriptors kept for everything but client connections: stdio, the runtime's epoll and
/// wake-up descriptors, the listener, SQLite (database, WAL, shared memory), the tunnel's pipe,
/// the CLI version probe, and the transcript and session files that listing reads on the
/// blocking pool. An idle server holds 15 (measured), so this leaves room to spare.
pub const BASE_RESERVE: u64 = 64;

/// Descriptors per CLI that may run at once: its output and error spool files, its process
/// handle, and the `/proc` and spool reads that follow it. About 3 are held while one runs
/// (measured with 4 running); 8 leaves room for the reads.
pub const PER_CLI_RESERVE: u64 = 8;

/// A connection's socket, plus the one file its request may hold open while it is answered (a
/// static asset, a transcript).
pub const DESCRIPTORS_PER_CONNECTION: u64 = 2;

impl Limits {
    /// These limits with the connection caps lowered, if need be, to fit under the open-file
    /// limit `nofile` next to `cli_processes` CLIs; and with the per-client cap at most half the
    /// total, so that another address always finds a slot.
    pub fn fitted(self, nofile: Option<u64>, cli_processes: usize) -> Limits {
        let max_connections = match nofile {
            Some(nofile) => self.max_connections.min(connections_under(nofile, cli_processes)),
            None => self.max_connections,
        };
        let max_connections_per_client = self.max_connections_per_client.min(max_connections / 2).max(1);
        Limits { max_connections, max_connections_per_client, ..self }
    }
}

/// How many connections fit under the file limit `nofile` with the reserve kept (at least one:
/// a server that cannot hold a single connection is of no use, and the accept loop survives
/// running out).
pub fn connections_under(nofile: u64, cli_processes: usize) -> usize {
    let reserve = BASE_RESERVE.saturating_add(PER_CLI_RESERVE.saturating_mul(cli_processes as u64));
    let connections = nofile.saturating_sub(reserve) / DESCRIPTORS_PER_CONNECTION;
    usize::try_from(connections).unwrap_or(usize::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIGURED: Limits = Limits {
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(100),
        max_connections: 1024,
        max_connections_per_client: 256,
    };

    #[test]
    fn a_generous_file_limit_keeps_the_configured_caps() {
        assert_eq!(CONFIGURED.fitted(Some(1 << 20), 4), CONFIGURED);
        assert_eq!(CONFIGURED.fitted(None, 4), CONFIGURED);
    }

    #[test]
    fn a_low_file_limit_lowers_the_caps_and_keeps_the_reserve() {
        let fitted = CONFIGURED.fitted(Some(256), 4);
        // 256 - (64 + 4 × 8) = 160 descriptors, 2 per connection.
        assert_eq!((fitted.max_connections, fitted.max_connections_per_client), (80, 40));
        let used = fitted.max_connections as u64 * DESCRIPTORS_PER_CONNECTION + BASE_RESERVE + 4 * PER_CLI_RESERVE;
        assert!(used <= 256);
        assert_eq!(fitted.header_timeout, CONFIGURED.header_timeout);
    }

    #[test]
    fn even_an_absurd_file_limit_leaves_one_connection() {
        let fitted = CONFIGURED.fitted(Some(10), 256);
        assert_eq!((fitted.max_connections, fitted.max_connections_per_client), (1, 1));
    }
}
