//! The polling schedule: quick at first, then backing off, so a short task's reply shows at
//! once and a long one costs few requests.

use std::time::Duration;

pub const FIRST: Duration = Duration::from_millis(500);
pub const MAX: Duration = Duration::from_secs(5);

/// The wait after `current`: ×1.5, capped at 5 s.
pub fn next(current: Duration) -> Duration {
    (current * 3 / 2).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_half_a_second_and_settles_at_five() {
        let mut wait = FIRST;
        let mut seen = vec![wait];
        for _ in 0..10 {
            wait = next(wait);
            seen.push(wait);
        }
        assert_eq!(seen[0], Duration::from_millis(500));
        assert_eq!(seen[1], Duration::from_millis(750));
        assert_eq!(*seen.last().expect("some"), MAX);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    }
}
