//! Small text formats: relative times, money, folder names.

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// When something happened, as a person would say it: "just now", "5 min ago", "3 h ago" (the
/// same day), "yesterday" (the calendar day before, at any hour), "4 days ago", "2 weeks ago",
/// "3 months ago", "2 years ago". Days are the user's, whose clock is `utc_offset_minutes` ahead
/// of UTC (no locale data in the bundle).
pub fn relative_time(then_ms: i64, now_ms: i64, utc_offset_minutes: i32) -> String {
    let ago = (now_ms - then_ms).max(0);
    let offset = i64::from(utc_offset_minutes) * MINUTE_MS;
    let days = (now_ms + offset).div_euclid(DAY_MS) - (then_ms.min(now_ms) + offset).div_euclid(DAY_MS);
    match (ago, days) {
        (0..45_000, _) => "just now".to_owned(),
        (..HOUR_MS, _) => format!("{} min ago", (ago / MINUTE_MS).max(1)),
        (_, 0) => format!("{} h ago", ago / HOUR_MS),
        (_, 1) => "yesterday".to_owned(),
        (_, 2..14) => format!("{days} days ago"),
        (_, 14..61) => format!("{} weeks ago", days / 7),
        (_, 61..730) => format!("{} months ago", days / 30),
        _ => format!("{} years ago", days / 365),
    }
}

/// The last component of a path: a project's folder name.
pub fn folder_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().filter(|name| !name.is_empty()).unwrap_or(path)
}

/// Dollars with enough precision for tiny amounts: $0.0002, $0.42, $12.30. In whole
/// hundredths (or ten-thousandths) of a dollar: formatting the float with a precision brings
/// its own printing code into the app's WebAssembly (1.2 KB of the first load, compressed).
pub fn usd(amount: f64) -> String {
    let places: u32 = if amount > 0.0 && amount < 0.01 { 4 } else { 2 };
    let scale = 10_u64.pow(places);
    // A cost is never negative; `as` turns one (or NaN) into 0.
    let units = (amount * scale as f64).round() as u64;
    format!("${}.{:0width$}", units / scale, units % scale, width = places as usize)
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
        // 2026-03-15 10:00 UTC.
        let now = 1_773_568_800_000;
        let (min, hour, day) = (60_000, 3_600_000, 86_400_000);
        let at = |ago: i64| relative_time(now - ago, now, 0);
        assert_eq!(at(10_000), "just now");
        assert_eq!(at(50_000), "1 min ago");
        assert_eq!(at(2 * min + 50_000), "2 min ago", "whole minutes, never rounded up");
        assert_eq!(at(59 * min + 59_000), "59 min ago", "never \"60 min ago\"");
        assert_eq!(at(hour), "1 h ago");
        assert_eq!(at(9 * hour), "9 h ago", "01:00 the same day");
        assert_eq!(at(11 * hour), "yesterday", "23:00 the day before");
        assert_eq!(at(30 * hour), "yesterday");
        assert_eq!(at(35 * hour), "2 days ago", "23:00 two days before is not yesterday");
        assert_eq!(at(4 * day), "4 days ago");
        assert_eq!(at(20 * day), "2 weeks ago");
        assert_eq!(at(90 * day), "3 months ago");
        assert_eq!(at(800 * day), "2 years ago");
        assert_eq!(relative_time(now + 5_000, now, 0), "just now", "clock skew is not the future");
        // At UTC-10 it is midnight starting the 15th: 11 h ago was yesterday there.
        assert_eq!(relative_time(now - 11 * hour, now, -600), "yesterday");
        // At UTC+13 it is 23:00 on the 15th: 11 h ago was the same day.
        assert_eq!(relative_time(now - 11 * hour, now, 780), "11 h ago");
        assert_eq!(folder_name("/home/dev/my-project"), "my-project");
        assert_eq!(folder_name("/home/dev/my-project/"), "my-project");
        assert_eq!(folder_name("/"), "/");
        assert_eq!(usd(0.000175), "$0.0002");
        assert_eq!(usd(1.5), "$1.50");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.005), "$0.0050");
        assert_eq!(usd(0.42), "$0.42");
        assert_eq!(usd(0.999), "$1.00");
        assert_eq!(usd(1234.567), "$1234.57");
        assert_eq!(elapsed(7_400.0), "0:07");
        assert_eq!(elapsed(3_723_000.0), "1:02:03");
    }
}
