//! Small text formats: relative times and money.

/// "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then "12 Mar"-less fallbacks
/// in days/weeks (no locale data in the bundle).
pub fn relative_time(then_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - then_ms).max(0) / 1000;
    match seconds {
        0..=44 => "just now".to_owned(),
        45..=3599 => format!("{} min ago", (seconds + 30) / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=1_209_599 => format!("{} days ago", seconds / 86_400),
        _ => format!("{} weeks ago", seconds / 604_800),
    }
}

/// Dollars with enough precision for tiny amounts: $0.0002, $0.42, $12.30.
pub fn usd(amount: f64) -> String {
    if amount > 0.0 && amount < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

/// "0:07", "2:05", "1:02:03".
pub fn elapsed(ms: f64) -> String {
    let total = (ms.max(0.0) / 1000.0) as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_a_person_would_say_them() {
        let now = 1_000_000_000_000;
        assert_eq!(relative_time(now - 10_000, now), "just now");
        assert_eq!(relative_time(now - 5 * 60_000, now), "5 min ago");
        assert_eq!(relative_time(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative_time(now - 30 * 3_600_000, now), "yesterday");
        assert_eq!(relative_time(now - 4 * 86_400_000, now), "4 days ago");
        assert_eq!(relative_time(now + 5_000, now), "just now", "clock skew is not the future");
        assert_eq!(usd(0.000175), "$0.0002");
        assert_eq!(usd(1.5), "$1.50");
        assert_eq!(elapsed(7_400.0), "0:07");
        assert_eq!(elapsed(3_723_000.0), "1:02:03");
    }
}
