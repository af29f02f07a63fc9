//! Failed sign-ins are throttled per client address and globally, in the spirit of code-server:
//! a few per minute and a couple of dozen per hour per address. Past the global budget (a
//! distributed guess), an address that already failed is refused outright, while an address
//! with no recent failure still gets its try: the owner, signing in from elsewhere, is never
//! locked out by someone else's attack.
//!
//! A throttled attempt is refused before its password is checked, so guessing also costs the
//! server nothing.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
pub const PER_ADDRESS_PER_MINUTE: usize = 5;
pub const PER_ADDRESS_PER_HOUR: usize = 20;
pub const GLOBAL_PER_HOUR: usize = 100;
/// Addresses remembered at most (oldest forgotten first), so a flood of addresses cannot grow
/// memory without bound.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Default)]
pub struct SignInThrottle {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    per_address: HashMap<IpAddr, VecDeque<Instant>>,
    global: VecDeque<Instant>,
}

impl SignInThrottle {
    /// `Err(retry_after)` when this address must wait before trying again.
    pub fn check(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut state) = self.state.lock() else { return Ok(()) };
        state.prune(now);
        let failures = state.per_address.get(&address);
        if let Some(failures) = failures {
            let in_minute: Vec<&Instant> = failures.iter().filter(|t| now.duration_since(**t) < MINUTE).collect();
            if in_minute.len() >= PER_ADDRESS_PER_MINUTE {
                return Err(MINUTE.saturating_sub(now.duration_since(*in_minute[0])).max(Duration::from_secs(1)));
            }
            if failures.len() >= PER_ADDRESS_PER_HOUR {
                return Err(HOUR.saturating_sub(now.duration_since(failures[0])).max(Duration::from_secs(1)));
            }
        }
        if state.global.len() >= GLOBAL_PER_HOUR && failures.is_some_and(|f| !f.is_empty()) {
            return Err(HOUR.saturating_sub(now.duration_since(state.global[0])).max(Duration::from_secs(1)));
        }
        Ok(())
    }

    pub fn failed(&self, address: IpAddr, now: Instant) {
        let Ok(mut state) = self.state.lock() else { return };
        state.prune(now);
        if !state.per_address.contains_key(&address) && state.per_address.len() >= MAX_ADDRESSES {
            let oldest = state.per_address.iter().min_by_key(|(_, f)| f.back().copied()).map(|(a, _)| *a);
            if let Some(oldest) = oldest {
                state.per_address.remove(&oldest);
            }
        }
        state.per_address.entry(address).or_default().push_back(now);
        state.global.push_back(now);
    }

    /// A right password clears its address's record.
    pub fn succeeded(&self, address: IpAddr) {
        if let Ok(mut state) = self.state.lock() {
            state.per_address.remove(&address);
        }
    }
}

impl State {
    fn prune(&mut self, now: Instant) {
        let fresh = |t: &Instant| now.duration_since(*t) < HOUR;
        while self.global.front().is_some_and(|t| !fresh(t)) {
            self.global.pop_front();
        }
        self.per_address.retain(|_, failures| {
            while failures.front().is_some_and(|t| !fresh(t)) {
                failures.pop_front();
            }
            !failures.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_few_failures_a_minute_then_a_wait() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for _ in 0..PER_ADDRESS_PER_MINUTE {
            assert!(throttle.check(ip(1), start).is_ok());
            throttle.failed(ip(1), start);
        }
        let wait = throttle.check(ip(1), start).expect_err("throttled");
        assert!(wait <= MINUTE && wait >= Duration::from_secs(59), "{wait:?}");
        assert!(throttle.check(ip(2), start).is_ok(), "another address is not affected");
        assert!(throttle.check(ip(1), start + MINUTE).is_ok(), "a minute later it may try again");
    }

    #[test]
    fn a_couple_dozen_an_hour_per_address() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for n in 0..PER_ADDRESS_PER_HOUR {
            let at = start + MINUTE * (n as u32 / PER_ADDRESS_PER_MINUTE as u32) + Duration::from_secs(n as u64);
            assert!(throttle.check(ip(1), at).is_ok(), "attempt {n}");
            throttle.failed(ip(1), at);
        }
        assert!(throttle.check(ip(1), start + MINUTE * 10).is_err());
        assert!(throttle.check(ip(1), start + HOUR + MINUTE * 5).is_ok());
    }

    #[test]
    fn past_the_global_budget_only_clean_addresses_may_try() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for n in 0..GLOBAL_PER_HOUR {
            throttle.failed(IpAddr::from([10, 1, (n / 256) as u8, (n % 256) as u8]), now);
        }
        assert!(throttle.check(IpAddr::from([10, 1, 0, 7]), now).is_err(), "a guessing address waits");
        assert!(throttle.check(ip(200), now).is_ok(), "the owner from a clean address still signs in");
        throttle.failed(ip(1), now);
        throttle.succeeded(ip(1));
        assert!(throttle.check(ip(1), now).is_ok(), "success clears the record");
    }
}
