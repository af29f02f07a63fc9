//! The caps on open connections: in total, and per client address, so that one source cannot
//! take every slot.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refused {
    #[error("{0} connections are open, the cap (MAX_CONNECTIONS)")]
    Full(usize),
    #[error("{0} connections are open from this address, the cap (MAX_CONNECTIONS_PER_CLIENT)")]
    ClientFull(usize),
}

pub(super) struct Slots {
    total: usize,
    per_client: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

impl Slots {
    pub(super) fn new(total: usize, per_client: usize) -> Arc<Self> {
        Arc::new(Self { total, per_client, open: Mutex::new(Open::default()) })
    }

    /// A slot for a connection from `peer`, held until the returned guard is dropped.
    pub(super) fn take(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refused> {
        let client = client_key(peer);
        let mut open = self.open();
        if open.total >= self.total {
            return Err(Refused::Full(open.total));
        }
        let from_client = open.by_client.entry(client).or_insert(0);
        if *from_client >= self.per_client {
            return Err(Refused::ClientFull(*from_client));
        }
        *from_client += 1;
        open.total += 1;
        Ok(Slot { slots: self.clone(), client })
    }

    fn open(&self) -> MutexGuard<'_, Open> {
        // Nothing can panic while the lock is held; were it poisoned, the counts are still whole.
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One open connection's place under the caps.
pub(super) struct Slot {
    slots: Arc<Slots>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_client.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

/// The address a per-client cap counts against: IPv4 as is (also when it arrives mapped into
/// IPv6), IPv6 by its /64, since one host is usually given a whole /64.
fn client_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn one_address_cannot_take_every_slot() {
        let slots = Slots::new(4, 2);
        let attacker: Vec<Slot> = (0..2).map(|_| slots.take(ip("127.0.0.1")).expect("under the cap")).collect();
        assert_eq!(slots.take(ip("127.0.0.1")).err(), Some(Refused::ClientFull(2)));
        assert!(slots.take(ip("127.0.0.2")).is_ok(), "another address still finds a slot");
        drop(attacker);
        assert!(slots.take(ip("127.0.0.1")).is_ok(), "slots come back when connections close");
    }

    #[test]
    fn the_total_cap_holds_across_addresses() {
        let slots = Slots::new(3, 2);
        let _held: Vec<Slot> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].iter().map(|a| slots.take(ip(a)).expect("under the cap")).collect();
        assert_eq!(slots.take(ip("10.0.0.4")).err(), Some(Refused::Full(3)));
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let slots = Slots::new(10, 1);
        let _first = slots.take(ip("2001:db8:1:2::1")).expect("first");
        assert!(slots.take(ip("2001:db8:1:2:ffff::9")).is_err(), "same /64");
        assert!(slots.take(ip("2001:db8:1:3::1")).is_ok(), "another /64");
        let _v4 = slots.take(ip("192.0.2.7")).expect("v4");
        assert!(slots.take(ip("::ffff:192.0.2.7")).is_err(), "the same client over a dual-stack socket");
    }
}
