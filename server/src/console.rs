//! What the server tells the person who started it. Printing never fails the server: a closed or
//! broken stdout (`server | head -1`, a terminal gone, a supervisor that does not read) loses the
//! message, and `println!`, which would panic, is not used.

/// `println!` that ignores a stdout that cannot be written.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub(crate) use say;
