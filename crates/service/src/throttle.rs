//! Growing delays after failed sign-ins and token exchanges (and after every request for a
//! set-password link), per address and per (account, address) pair, never per account alone:
//! a stranger cannot lock anyone out.
//! Counters live in the database so every node shares them.
//!
//! Every attempt is counted as a failure *before* its password or token is checked, in one
//! transaction that first locks both counters, and a success gives the count back. So N
//! attempts sent at once are evaluated exactly as often as N sent one after another would
//! be, on one node or several: the second of two simultaneous attempts already sees the
//! first one's delay.

use roster_store::throttle::{self, Counter};
use roster_store::Micros;

use crate::clock::{MINUTE, SECOND};
use crate::{Result, Service, ServiceError, ThrottleConfig};

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

    /// The keys of "forgot your password" requests: the same two, counted apart from
    /// sign-ins, so someone who mistyped their password a few times may still ask for a link,
    /// and asking for one does not slow their next sign-in.
    pub fn password_reset(address: Option<&str>, email: &str) -> Keys {
        let keys = Keys::new(address, Some(email));
        Keys {
            address: format!("reset-{}", keys.address),
            pair: keys.pair.map(|p| format!("reset-{p}")),
        }
    }
}

/// An attempt that has been counted as a failure. Drop it when the attempt failed; hand it
/// to [`Service::throttle_release`] when it succeeded, or to [`Service::throttle_unused`]
/// when it was never evaluated (refused for load).
#[must_use = "a successful or unevaluated attempt must give its reservation back"]
pub(crate) struct Reservation {
    keys: Keys,
}

fn delay(base: Micros, max: Micros, failures: i64) -> Micros {
    if failures <= 0 {
        return 0;
    }
    let shift = (failures - 1).min(30) as u32;
    base.saturating_mul(1i64 << shift).min(max)
}

/// The seconds a caller must wait, if the counter blocks them now.
fn blocked_for(c: &Counter, now: Micros) -> Option<u64> {
    (c.blocked_until > now).then(|| (((c.blocked_until - now) + SECOND - 1) / SECOND).max(1) as u64)
}

/// The pair's counter after one more failure: every failure delays the next attempt.
fn pair_after_failure(cfg: &ThrottleConfig, c: Counter, now: Micros) -> Counter {
    let failures = c.failures + 1;
    Counter {
        failures,
        blocked_until: now + delay(cfg.base_delay, cfg.max_delay, failures),
        updated_at: now,
    }
}

/// The address's counter after one more failure: the first `address_free_failures` cost
/// nothing until the last of them, which blocks the next attempt (so with 20 free failures
/// the 21st attempt waits); failures older than the window are forgotten.
fn address_after_failure(cfg: &ThrottleConfig, c: Counter, now: Micros) -> Counter {
    let failures = if now - c.updated_at < ADDRESS_WINDOW {
        c.failures + 1
    } else {
        1
    };
    let over = failures - cfg.address_free_failures + 1;
    Counter {
        failures,
        blocked_until: now + delay(cfg.base_delay, cfg.max_delay, over),
        updated_at: now,
    }
}

/// The address's counter after a reserved attempt succeeded: the failure it counted is
/// given back, and the address is free again if what remains is within the allowance.
fn address_after_release(cfg: &ThrottleConfig, c: Counter) -> Counter {
    let failures = (c.failures - 1).max(0);
    Counter {
        failures,
        blocked_until: if failures < cfg.address_free_failures {
            0
        } else {
            c.blocked_until
        },
        updated_at: c.updated_at,
    }
}

impl Service {
    /// Counts an attempt as a failure against both keys before it is evaluated, or refuses
    /// it with 429 while either key is blocked (a refused attempt is not counted: it cost
    /// nothing). Both counters are locked first, the address before the pair, always in that
    /// order so two reservations never wait on each other in a circle.
    pub(crate) async fn throttle_reserve(&self, keys: &Keys) -> Result<Reservation> {
        let cfg = &self.config().throttle;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let address = throttle::lock(&mut tx, &keys.address).await?;
        let pair = match &keys.pair {
            Some(key) => Some(throttle::lock(&mut tx, key).await?),
            None => None,
        };
        let wait = [Some(&address), pair.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|c| blocked_for(c, now))
            .max();
        if let Some(secs) = wait {
            // Nothing was written but the lock rows; end the transaction without them.
            drop(tx);
            return Err(ServiceError::Throttled(secs));
        }
        throttle::put(
            &mut tx,
            &keys.address,
            address_after_failure(cfg, address, now),
        )
        .await?;
        if let (Some(key), Some(pair)) = (&keys.pair, pair) {
            throttle::put(&mut tx, key, pair_after_failure(cfg, pair, now)).await?;
        }
        roster_store::commit(tx).await?;
        Ok(Reservation {
            keys: Keys {
                address: keys.address.clone(),
                pair: keys.pair.clone(),
            },
        })
    }

    /// A reserved attempt succeeded: the pair's counter starts over and the address gets its
    /// failure back (one good account must not launder an address's failures against others,
    /// so only this attempt's own count is returned).
    pub(crate) async fn throttle_release(&self, reservation: Reservation) -> Result<()> {
        self.give_back(reservation, Outcome::Succeeded).await
    }

    /// A reserved attempt was never evaluated (no hashing slot was free): each key gets
    /// exactly its one count back, so a refusal for load neither counts against the caller nor
    /// wipes out failures that other attempts on the same pair did make.
    pub(crate) async fn throttle_unused(&self, reservation: Reservation) -> Result<()> {
        self.give_back(reservation, Outcome::NotEvaluated).await
    }

    async fn give_back(&self, reservation: Reservation, outcome: Outcome) -> Result<()> {
        let cfg = &self.config().throttle;
        let keys = reservation.keys;
        let mut tx = self.store().write().await?;
        let address = throttle::lock(&mut tx, &keys.address).await?;
        throttle::put(&mut tx, &keys.address, address_after_release(cfg, address)).await?;
        if let Some(pair) = &keys.pair {
            match outcome {
                Outcome::Succeeded => throttle::clear(&mut tx, pair).await?,
                Outcome::NotEvaluated => {
                    let counter = throttle::lock(&mut tx, pair).await?;
                    throttle::put(&mut tx, pair, pair_after_unused(counter)).await?;
                }
            }
        }
        Ok(roster_store::commit(tx).await?)
    }
}

/// How a reserved attempt ended, when it is given back.
enum Outcome {
    Succeeded,
    NotEvaluated,
}

/// The pair's counter after an attempt that was never evaluated gives back its count: with no
/// failure left the pair is free; otherwise the delay of the failures that remain stands.
fn pair_after_unused(c: Counter) -> Counter {
    let failures = (c.failures - 1).max(0);
    Counter {
        failures,
        blocked_until: if failures == 0 { 0 } else { c.blocked_until },
        updated_at: c.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Micros = 1_000_000;

    fn cfg() -> ThrottleConfig {
        ThrottleConfig {
            base_delay: S,
            max_delay: 60 * S,
            address_free_failures: 20,
        }
    }

    #[test]
    fn delays_double_from_one_second_to_sixty() {
        let seq: Vec<i64> = (1..=8).map(|f| delay(S, 60 * S, f) / S).collect();
        assert_eq!(seq, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(delay(S, 60 * S, 0), 0);
        assert_eq!(delay(S, 60 * S, 1000), 60 * S);
    }

    #[test]
    fn an_address_makes_twenty_free_failures_and_the_twenty_first_attempt_waits() {
        let cfg = cfg();
        let now = 100 * MINUTE;
        let mut c = Counter::default();
        for n in 1..=19 {
            c = address_after_failure(&cfg, c, now);
            assert_eq!(blocked_for(&c, now), None, "after failure {n}");
        }
        c = address_after_failure(&cfg, c, now);
        assert_eq!(c.failures, 20);
        assert_eq!(blocked_for(&c, now), Some(1), "the 21st attempt waits");
        c = address_after_failure(&cfg, c, now + S);
        assert_eq!(blocked_for(&c, now + S), Some(2));
    }

    #[test]
    fn an_address_forgets_failures_after_the_window() {
        let cfg = cfg();
        let mut c = Counter::default();
        for _ in 0..20 {
            c = address_after_failure(&cfg, c, MINUTE);
        }
        let later = MINUTE + ADDRESS_WINDOW;
        c = address_after_failure(&cfg, c, later);
        assert_eq!(c.failures, 1);
        assert_eq!(blocked_for(&c, later), None);
    }

    #[test]
    fn a_success_gives_back_only_its_own_count() {
        let cfg = cfg();
        let now = MINUTE;
        let mut c = Counter::default();
        for _ in 0..20 {
            c = address_after_failure(&cfg, c, now);
        }
        // The 20th reservation blocked the address; it succeeded, so the address is free.
        let released = address_after_release(&cfg, c);
        assert_eq!(released.failures, 19);
        assert_eq!(blocked_for(&released, now), None);
        // With 21 counted, giving one back still leaves the address over its allowance.
        let c21 = address_after_failure(&cfg, c, now);
        let released = address_after_release(&cfg, c21);
        assert_eq!(released.failures, 20);
        assert!(blocked_for(&released, now).is_some());
        assert_eq!(address_after_release(&cfg, Counter::default()).failures, 0);
    }

    #[test]
    fn an_unevaluated_attempt_gives_back_only_its_own_pair_count() {
        let cfg = cfg();
        let one = pair_after_failure(&cfg, Counter::default(), 0);
        assert_eq!(pair_after_unused(one).failures, 0);
        assert_eq!(blocked_for(&pair_after_unused(one), 0), None);
        // A real failure and an unevaluated attempt: the failure's delay stands.
        let two = pair_after_failure(&cfg, one, 0);
        let back = pair_after_unused(two);
        assert_eq!(back.failures, 1);
        assert!(blocked_for(&back, 0).is_some());
    }

    #[test]
    fn each_pair_failure_delays_the_next_attempt() {
        let cfg = cfg();
        let c = pair_after_failure(&cfg, Counter::default(), 0);
        assert_eq!(blocked_for(&c, 0), Some(1));
        let c = pair_after_failure(&cfg, c, 2 * S);
        assert_eq!(blocked_for(&c, 2 * S), Some(2));
    }
}
