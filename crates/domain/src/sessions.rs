//! An organization's session policy (Label Studio Enterprise's session timeout policy): how
//! long a browser session may last and may sit idle, in minutes, and whether one has ended.

/// A session policy's limits in minutes; None: no limit beyond the server's session lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionLimits {
    pub max_age_minutes: Option<i64>,
    pub max_idle_minutes: Option<i64>,
}

impl SessionLimits {
    /// The strictest of several policies: a session that can act in several organizations
    /// answers to each of them.
    pub fn strictest(all: impl IntoIterator<Item = SessionLimits>) -> SessionLimits {
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        all.into_iter()
            .fold(SessionLimits::default(), |acc, l| SessionLimits {
                max_age_minutes: min(acc.max_age_minutes, l.max_age_minutes),
                max_idle_minutes: min(acc.max_idle_minutes, l.max_idle_minutes),
            })
    }
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    TooOld,
    Idle,
}

const MINUTE_MICROS: i64 = 60_000_000;

/// Whether a session started at `created_at` and last seen at `last_seen` (recorded at most
/// once per `touch_interval`, so the real last request may be up to that much later) has
/// outlived `limits` at `now`. Times in microseconds. Idleness is judged on the side of the
/// person: a session is ended only once it is certainly idle too long, at most one
/// `touch_interval` late.
pub fn ended(
    limits: SessionLimits,
    created_at: i64,
    last_seen: i64,
    now: i64,
    touch_interval: i64,
) -> Option<SessionEnd> {
    let past = |since: i64, minutes: Option<i64>, slack: i64| {
        minutes.is_some_and(|m| now - since > m.saturating_mul(MINUTE_MICROS) + slack)
    };
    if past(created_at, limits.max_age_minutes, 0) {
        Some(SessionEnd::TooOld)
    } else if past(last_seen, limits.max_idle_minutes, touch_interval) {
        Some(SessionEnd::Idle)
    } else {
        None
    }
}

/// Checks one limit in minutes: from 1 to `most` (the server's session lifetime, which no
/// policy can extend).
pub fn check_minutes(value: i64, most: i64) -> Result<(), String> {
    if (1..=most).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "must be a number of minutes from 1 to {most} (the server's session lifetime)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = MINUTE_MICROS;

    fn limits(age: Option<i64>, idle: Option<i64>) -> SessionLimits {
        SessionLimits {
            max_age_minutes: age,
            max_idle_minutes: idle,
        }
    }

    #[test]
    fn the_strictest_limit_of_each_kind_wins() {
        let l = SessionLimits::strictest([
            limits(Some(60), None),
            limits(Some(30), Some(20)),
            limits(None, Some(10)),
        ]);
        assert_eq!(l, limits(Some(30), Some(10)));
        assert_eq!(SessionLimits::strictest([]), SessionLimits::default());
    }

    #[test]
    fn sessions_end_when_too_old_or_certainly_idle() {
        let table = [
            // (age, idle, created, last seen, now, expected)
            (None, None, 0, 0, 10_000 * M, None),
            (Some(60), None, 0, 59 * M, 60 * M, None),
            (
                Some(60),
                None,
                0,
                59 * M,
                60 * M + 1,
                Some(SessionEnd::TooOld),
            ),
            (None, Some(5), 0, 0, 6 * M, None), // within the one-minute slack
            (None, Some(5), 0, 0, 6 * M + 1, Some(SessionEnd::Idle)),
            (Some(5), Some(5), 0, 0, 7 * M, Some(SessionEnd::TooOld)),
            (None, Some(5), 0, 100 * M, 104 * M, None),
        ];
        for (age, idle, created, seen, now, want) in table {
            assert_eq!(
                ended(limits(age, idle), created, seen, now, M),
                want,
                "{age:?} {idle:?} {created} {seen} {now}"
            );
        }
    }

    #[test]
    fn limits_are_whole_minutes_within_the_server_lifetime() {
        assert!(check_minutes(1, 20_160).is_ok());
        assert!(check_minutes(20_160, 20_160).is_ok());
        assert!(check_minutes(0, 20_160).is_err());
        assert!(check_minutes(-5, 20_160).is_err());
        assert!(check_minutes(20_161, 20_160).is_err());
    }
}
