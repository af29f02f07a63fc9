//! The CLI's process group: identify it, signal it, tell whether it still lives.
//!
//! Each CLI runs as the leader of its own process group (pgid = pid), so one signal reaches the
//! tools it started too (the CLI leaves a running Bash child orphaned on SIGTERM).

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// The start time of a process (field 22 of `/proc/<pid>/stat`, in clock ticks since boot). With
/// the pid it names one process for good, even after the pid is reused.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    // after_name starts at field 3 (state); start time is field 22.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that was `pid` at `start` is still running (not exited, not a zombie).
pub fn is_running(pid: i32, start: Option<u64>) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let Some(close) = stat.rfind(')') else { return false };
    let mut fields = stat[close + 1..].split_whitespace();
    let state = fields.next().unwrap_or("");
    if state == "Z" || state == "X" {
        return false;
    }
    match start {
        Some(expected) => fields.nth(18).and_then(|f| f.parse::<u64>().ok()) == Some(expected),
        None => true,
    }
}

/// Sends `signal` to every process of the group. `false` when none is left.
pub fn signal_group(pgid: i32, signal: Signal) -> bool {
    if pgid <= 1 {
        // Never signal "every process" (0) or init's group by accident.
        return false;
    }
    !matches!(killpg(Pid::from_raw(pgid), signal), Err(Errno::ESRCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_running_and_a_stale_start_time_is_not() {
        let me = std::process::id() as i32;
        let start = start_time(me).expect("own start time");
        assert!(is_running(me, Some(start)));
        assert!(!is_running(me, Some(start + 1)), "a reused pid is not the same process");
        assert!(!signal_group(0, Signal::SIGTERM), "group 0 is never signalled");
    }
}
