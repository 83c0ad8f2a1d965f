//! Where a personal invite stands. A pending invite (not accepted, not revoked, not expired)
//! with a working role holds a seat for its email; the store's SQL spells the same condition
//! once (`rows::pending_invite_sql`).

/// The state of a personal invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteState {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl InviteState {
    /// Acceptance wins over revocation, and both over expiry: an accepted invite stays
    /// accepted however old it grows. Times are microseconds; `expires_at` is exclusive.
    pub fn of(
        accepted_at: Option<i64>,
        revoked_at: Option<i64>,
        expires_at: i64,
        now: i64,
    ) -> InviteState {
        if accepted_at.is_some() {
            InviteState::Accepted
        } else if revoked_at.is_some() {
            InviteState::Revoked
        } else if expires_at <= now {
            InviteState::Expired
        } else {
            InviteState::Pending
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            InviteState::Pending => "pending",
            InviteState::Accepted => "accepted",
            InviteState::Expired => "expired",
            InviteState::Revoked => "revoked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InviteState::{self, *};

    #[test]
    fn states() {
        let table = [
            (None, None, 10, 5, Pending),
            (None, None, 10, 10, Expired),
            (None, Some(3), 10, 5, Revoked),
            (Some(4), Some(3), 10, 50, Accepted),
            (Some(4), None, 10, 50, Accepted),
            (None, Some(3), 10, 50, Revoked),
        ];
        for (accepted, revoked, expires, now, state) in table {
            assert_eq!(InviteState::of(accepted, revoked, expires, now), state);
        }
    }
}
