//! Growing delays after failed sign-ins and token exchanges, per address and per
//! (account, address) pair, never per account alone: a stranger cannot lock anyone out.
//! Counters live in the database so every node shares them.

use roster_store::{throttle, Micros};

use crate::clock::{MINUTE, SECOND};
use crate::{Result, Service, ServiceError};

/// An address's failures are forgotten after this long without one.
const ADDRESS_WINDOW: Micros = 15 * MINUTE;

pub(crate) struct Keys {
    address: String,
    pair: Option<String>,
}

impl Keys {
    pub fn new(address: Option<&str>, account: Option<&str>) -> Keys {
        let address = address.unwrap_or("unknown");
        Keys {
            address: format!("addr:{address}"),
            pair: account.map(|a| format!("pair:{}|{address}", a.to_lowercase())),
        }
    }
}

fn delay(base: Micros, max: Micros, failures: i64) -> Micros {
    if failures <= 0 {
        return 0;
    }
    let shift = (failures - 1).min(30) as u32;
    base.saturating_mul(1i64 << shift).min(max)
}

impl Service {
    /// Refuses with 429 while either key is blocked.
    pub(crate) async fn throttle_check(&self, keys: &Keys) -> Result<()> {
        let now = self.now();
        let mut c = self.store().read().await?;
        for key in std::iter::once(&keys.address).chain(keys.pair.as_ref()) {
            if let Some((_, until)) = throttle::get(&mut c, key).await? {
                if until > now {
                    let secs = ((until - now) + SECOND - 1) / SECOND;
                    return Err(ServiceError::Throttled(secs.max(1) as u64));
                }
            }
        }
        Ok(())
    }

    /// Counts a failure against both keys, in its own transaction so it outlives the request.
    pub(crate) async fn throttle_failure(&self, keys: &Keys) -> Result<()> {
        let cfg = &self.config().throttle;
        let now = self.now();
        let mut tx = self.store().write().await?;
        if let Some(pair) = &keys.pair {
            let failures = throttle::get(&mut tx, pair)
                .await?
                .map(|(f, _)| f)
                .unwrap_or(0)
                + 1;
            throttle::put(
                &mut tx,
                pair,
                failures,
                now + delay(cfg.base_delay, cfg.max_delay, failures),
                now,
            )
            .await?;
        }
        let previous = throttle::get(&mut tx, &keys.address).await?;
        let failures = match previous {
            Some((f, until)) if now - until.max(0) < ADDRESS_WINDOW => f + 1,
            _ => 1,
        };
        let over = failures - cfg.address_free_failures;
        throttle::put(
            &mut tx,
            &keys.address,
            failures,
            now + delay(cfg.base_delay, cfg.max_delay, over),
            now,
        )
        .await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// A success resets the pair's counter (not the address's: one good account must not
    /// launder an address's failures against others).
    pub(crate) async fn throttle_success(&self, keys: &Keys) -> Result<()> {
        if let Some(pair) = &keys.pair {
            let mut c = self.store().read().await?;
            if throttle::get(&mut c, pair).await?.is_none() {
                return Ok(());
            }
            drop(c);
            let mut tx = self.store().write().await?;
            throttle::clear(&mut tx, pair).await?;
            roster_store::commit(tx).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::delay;

    #[test]
    fn delays_double_from_one_second_to_sixty() {
        let s = 1_000_000;
        let seq: Vec<i64> = (1..=8).map(|f| delay(s, 60 * s, f) / s).collect();
        assert_eq!(seq, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(delay(s, 60 * s, 0), 0);
        assert_eq!(delay(s, 60 * s, 1000), 60 * s);
    }
}
