//! Web Push subscriptions: where to send a notification, and the keys to encrypt it with.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;

/// Subscriptions kept at most (a phone, a laptop, a few browsers); the oldest go first.
pub const MAX_SUBSCRIPTIONS: i64 = 20;

/// A subscription as validated at the edge (`push::subscription`).
#[derive(Clone, Debug)]
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRecord {
    pub id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
}

const SELECT: &str = "SELECT id, endpoint, p256dh, auth, name, created_at, last_success_at FROM push_subscriptions";

fn read(row: &Row<'_>) -> rusqlite::Result<SubscriptionRecord> {
    let id: String = row.get(0)?;
    Ok(SubscriptionRecord {
        id: id.parse().unwrap_or_default(),
        endpoint: row.get(1)?,
        p256dh: row.get(2)?,
        auth: row.get(3)?,
        name: row.get(4)?,
        created_at: row.get(5)?,
        last_success_at: row.get(6)?,
    })
}

impl Store {
    /// Stores a subscription; the same endpoint again (a browser renewing its keys) keeps its id
    /// and takes the new keys and name.
    pub fn upsert_push_subscription(&self, new: &NewSubscription, now: i64) -> Result<SubscriptionRecord, StoreError> {
        let conn = self.writer()?;
        conn.execute(
            "INSERT INTO push_subscriptions (id, endpoint, p256dh, auth, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, name = excluded.name",
            params![Uuid::new_v4().to_string(), new.endpoint, new.p256dh, new.auth, new.name, now],
        )?;
        conn.execute(
            "DELETE FROM push_subscriptions WHERE id NOT IN
                (SELECT id FROM push_subscriptions ORDER BY created_at DESC, id LIMIT ?1)",
            [MAX_SUBSCRIPTIONS],
        )?;
        let record = conn.query_row(&format!("{SELECT} WHERE endpoint = ?1"), [&new.endpoint], read).optional()?;
        record.ok_or_else(|| StoreError::Corrupt("a subscription just stored is gone".into()))
    }

    /// Every subscription, oldest first.
    pub fn push_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!("{SELECT} ORDER BY created_at, id"))?;
        let rows = statement.query_map([], read)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether there was such a subscription.
    pub fn delete_push_subscription(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM push_subscriptions WHERE id = ?1", [id.to_string()])? > 0)
    }

    pub fn delete_all_push_subscriptions(&self) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM push_subscriptions", [])?)
    }

    /// A push service took a message for this subscription.
    pub fn push_delivered(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        self.writer()?.execute("UPDATE push_subscriptions SET last_success_at = ?2 WHERE id = ?1", params![id.to_string(), now])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(endpoint: &str) -> NewSubscription {
        NewSubscription { endpoint: endpoint.into(), p256dh: "key".into(), auth: "auth".into(), name: None }
    }

    #[test]
    fn the_same_endpoint_keeps_its_id_and_takes_new_keys() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let first = store.upsert_push_subscription(&new("https://push.example/a"), 1)?;
        let renewed = NewSubscription { p256dh: "other".into(), name: Some("phone".into()), ..new("https://push.example/a") };
        let again = store.upsert_push_subscription(&renewed, 2)?;
        assert_eq!((again.id, again.p256dh.as_str(), again.name.as_deref(), again.created_at), (first.id, "other", Some("phone"), 1));
        assert_eq!(store.push_subscriptions()?.len(), 1);
        store.push_delivered(first.id, 9)?;
        assert_eq!(store.push_subscriptions()?[0].last_success_at, Some(9));
        assert!(store.delete_push_subscription(first.id)?);
        assert!(!store.delete_push_subscription(first.id)?);
        Ok(())
    }

    #[test]
    fn only_the_newest_subscriptions_are_kept() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        for n in 0..MAX_SUBSCRIPTIONS + 5 {
            store.upsert_push_subscription(&new(&format!("https://push.example/{n}")), n)?;
        }
        let kept = store.push_subscriptions()?;
        assert_eq!(kept.len() as i64, MAX_SUBSCRIPTIONS);
        assert_eq!(kept[0].endpoint, "https://push.example/5");
        assert_eq!(store.delete_all_push_subscriptions()? as i64, MAX_SUBSCRIPTIONS);
        Ok(())
    }
}
