//! Licence seats: how many are in use and whether a change fits under the limit.

/// Seat usage of one organization, as counted inside the transaction that changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatUsage {
    /// The seat limit; `None` is unlimited.
    pub limit: Option<i64>,
    /// Live members in a working role (OW, AD, MA, RE, AN).
    pub active: i64,
    /// Unexpired, unrevoked email invites with a working role for an email that is not
    /// already a live member in a working role, counted once per email.
    pub pending_invites: i64,
}

impl SeatUsage {
    pub fn used(&self) -> i64 {
        self.active + self.pending_invites
    }

    /// Whether `extra` more seats fit under the limit.
    pub fn fits(&self, extra: i64) -> bool {
        match self.limit {
            None => true,
            Some(limit) => extra <= 0 || self.used() + extra <= limit,
        }
    }

    /// "20 of 20 seats in use", for refusals and the Organization page.
    pub fn describe(&self) -> String {
        match self.limit {
            Some(limit) => format!("{} of {} seats in use", self.used(), limit),
            None => format!("{} seats in use (no limit)", self.used()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unlimited_always_fits() {
        let u = SeatUsage {
            limit: None,
            active: 1_000_000,
            pending_invites: 5,
        };
        assert!(u.fits(10));
    }

    #[test]
    fn limit_counts_invites() {
        let u = SeatUsage {
            limit: Some(20),
            active: 19,
            pending_invites: 1,
        };
        assert!(!u.fits(1));
        assert!(u.fits(0));
        assert_eq!(u.describe(), "20 of 20 seats in use");
    }

    #[test]
    fn limit_below_usage_blocks_but_is_allowed() {
        let u = SeatUsage {
            limit: Some(3),
            active: 5,
            pending_invites: 0,
        };
        assert!(!u.fits(1));
    }

    proptest! {
        #[test]
        fn fits_never_overshoots(limit in 0i64..100, active in 0i64..100, pending in 0i64..100, extra in 1i64..10) {
            let u = SeatUsage { limit: Some(limit), active, pending_invites: pending };
            if u.fits(extra) {
                prop_assert!(u.used() + extra <= limit);
            }
        }
    }
}
