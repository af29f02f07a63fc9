//! Sign-in attempts are budgeted before any password is checked, in the spirit of code-server:
//! a few a minute and a couple of dozen an hour per client address, and a hard cap on attempts
//! from all addresses together per hour, whatever the address (a distributed guess cannot buy
//! more checks by rotating addresses). A browser that signed in before carries a device token and
//! has a budget of its own, outside the address and global budgets: the owner's phone signs in
//! even while strangers have used up every other budget.
//!
//! An attempt is counted when it is reserved, before its password is verified, so concurrent
//! guesses cannot all slip in before the first one fails. A right password releases its
//! reservation and clears its key's record.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
pub const PER_KEY_PER_MINUTE: usize = 5;
pub const PER_KEY_PER_HOUR: usize = 20;
/// Attempts per hour from all addresses together (device tokens have their own budgets).
pub const GLOBAL_PER_HOUR: usize = 100;
/// Keys remembered at most (oldest forgotten first), so a flood of addresses cannot grow memory
/// without bound. Forgetting one only forgets its own budget: the global cap still holds.
const MAX_KEYS: usize = 10_000;

/// Who is trying: a client address, or a browser known by its device token (its SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attempter {
    Address(IpAddr),
    Device([u8; 32]),
}

/// A counted attempt, to be released if its password turns out right or it is never checked.
#[must_use]
pub struct Reservation {
    key: Attempter,
    at: Instant,
}

#[derive(Default)]
pub struct SignInThrottle {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    per_key: HashMap<Attempter, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

impl SignInThrottle {
    /// Counts an attempt by `key`, or `Err(retry_after)` when its budget (or the global one) is
    /// spent.
    pub fn reserve(&self, key: Attempter, now: Instant) -> Result<Reservation, Duration> {
        // A poisoned lock refuses: failing closed is the safe way for a sign-in throttle.
        let Ok(mut state) = self.state.lock() else { return Err(MINUTE) };
        state.prune(now);
        if let Some(attempts) = state.per_key.get(&key) {
            let in_minute: Vec<&Instant> = attempts.iter().filter(|t| now.duration_since(**t) < MINUTE).collect();
            if in_minute.len() >= PER_KEY_PER_MINUTE {
                return Err(wait_until(*in_minute[0] + MINUTE, now));
            }
            if attempts.len() >= PER_KEY_PER_HOUR {
                return Err(wait_until(attempts[0] + HOUR, now));
            }
        }
        let counts_globally = matches!(key, Attempter::Address(_));
        if counts_globally && state.global.len() >= GLOBAL_PER_HOUR {
            return Err(wait_until(state.global[0] + HOUR, now));
        }
        if !state.per_key.contains_key(&key) && state.per_key.len() >= MAX_KEYS {
            let oldest = state.per_key.iter().min_by_key(|(_, a)| a.back().copied()).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                state.per_key.remove(&oldest);
            }
        }
        state.per_key.entry(key).or_default().push_back(now);
        if counts_globally {
            state.global.push_back(now);
        }
        Ok(Reservation { key, at: now })
    }

    /// The attempt was never checked (the server was too busy): it does not count.
    pub fn release(&self, reservation: Reservation) {
        let Ok(mut state) = self.state.lock() else { return };
        if let Some(attempts) = state.per_key.get_mut(&reservation.key) {
            remove_one(attempts, reservation.at);
        }
        state.forget_global(&reservation);
    }

    /// A right password: its key's record is cleared and the attempt does not count.
    pub fn succeeded(&self, reservation: Reservation) {
        let Ok(mut state) = self.state.lock() else { return };
        state.per_key.remove(&reservation.key);
        state.forget_global(&reservation);
    }
}

fn wait_until(when: Instant, now: Instant) -> Duration {
    when.saturating_duration_since(now).max(Duration::from_secs(1))
}

fn remove_one(times: &mut VecDeque<Instant>, at: Instant) {
    if let Some(position) = times.iter().rposition(|t| *t == at) {
        times.remove(position);
    }
}

impl State {
    fn forget_global(&mut self, reservation: &Reservation) {
        if matches!(reservation.key, Attempter::Address(_)) {
            remove_one(&mut self.global, reservation.at);
        }
    }

    fn prune(&mut self, now: Instant) {
        let fresh = |t: &Instant| now.duration_since(*t) < HOUR;
        while self.global.front().is_some_and(|t| !fresh(t)) {
            self.global.pop_front();
        }
        self.per_key.retain(|_, attempts| {
            while attempts.front().is_some_and(|t| !fresh(t)) {
                attempts.pop_front();
            }
            !attempts.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Attempter {
        Attempter::Address(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_few_attempts_a_minute_then_a_wait() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..PER_KEY_PER_MINUTE {
            let _failed = throttle.reserve(ip(1), start).expect("allowed");
        }
        let wait = throttle.reserve(ip(1), start).err().expect("throttled");
        assert!(wait <= MINUTE && wait >= Duration::from_secs(59), "{wait:?}");
        assert!(throttle.reserve(ip(2), start).is_ok(), "another address is not affected");
        assert!(throttle.reserve(ip(1), start + MINUTE).is_ok(), "a minute later it may try again");
    }

    #[test]
    fn concurrent_attempts_are_counted_before_any_is_checked() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        // Nothing is released: these are all in flight at once.
        let held: Vec<Reservation> = (0..100).filter_map(|_| throttle.reserve(ip(1), now).ok()).collect();
        assert_eq!(held.len(), PER_KEY_PER_MINUTE);
    }

    #[test]
    fn a_couple_dozen_an_hour_per_address() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..PER_KEY_PER_HOUR {
            let at = start + MINUTE * (n as u32 / PER_KEY_PER_MINUTE as u32) + Duration::from_secs(n as u64);
            assert!(throttle.reserve(ip(1), at).is_ok(), "attempt {n}");
        }
        assert!(throttle.reserve(ip(1), start + MINUTE * 10).is_err());
        assert!(throttle.reserve(ip(1), start + HOUR + MINUTE * 5).is_ok());
    }

    #[test]
    fn the_global_budget_is_a_hard_cap_whatever_the_address_but_known_devices_still_try() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        let mut checked = 0;
        for n in 0..700u32 {
            let address = Attempter::Address(IpAddr::from([10, 1, (n / 256) as u8, (n % 256) as u8]));
            if throttle.reserve(address, now).is_ok() {
                checked += 1;
            }
        }
        assert_eq!(checked, GLOBAL_PER_HOUR, "rotating addresses buys no more checks");
        assert!(throttle.reserve(ip(200), now).is_err(), "a fresh address waits too");
        let device = Attempter::Device([9; 32]);
        let reservation = throttle.reserve(device, now).expect("a known browser has its own budget");
        throttle.succeeded(reservation);
        assert!(throttle.reserve(ip(200), now + HOUR).is_ok(), "an hour later addresses may try again");
    }

    #[test]
    fn success_and_release_give_the_attempt_back() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..PER_KEY_PER_MINUTE - 1 {
            let _ = throttle.reserve(ip(1), now).expect("allowed");
        }
        throttle.succeeded(throttle.reserve(ip(1), now).expect("allowed"));
        for _ in 0..PER_KEY_PER_MINUTE {
            throttle.release(throttle.reserve(ip(1), now).expect("record was cleared, releases give back"));
        }
        assert!(throttle.reserve(ip(1), now).is_ok());
    }
}
