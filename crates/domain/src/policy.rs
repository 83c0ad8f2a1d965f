//! The permission table: which organization roles may reach which level of access. Handlers
//! never match on roles themselves; the HTTP extractor asks this table once per request.

use crate::Role;

/// The access levels an organization-level endpoint can require, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any member in a working role (OW, AD, MA, RE, AN): projects they belong to, their work.
    Member,
    /// Owners, Administrators and Managers: read the member list and users, manage projects.
    Staff,
    /// Owners and Administrators: roles, invites, the invite link, deletion, settings, audit.
    Admin,
    /// The Owner alone: the seat limit and handing over ownership.
    Owner,
}

/// The table itself, written as data: for each role, the highest access it holds.
/// Not Activated and Deactivated members hold none.
const HIGHEST_ACCESS: [(Role, Option<Access>); 7] = [
    (Role::Owner, Some(Access::Owner)),
    (Role::Administrator, Some(Access::Admin)),
    (Role::Manager, Some(Access::Staff)),
    (Role::Reviewer, Some(Access::Member)),
    (Role::Annotator, Some(Access::Member)),
    (Role::NotActivated, None),
    (Role::Deactivated, None),
];

fn rank(access: Access) -> u8 {
    match access {
        Access::Member => 1,
        Access::Staff => 2,
        Access::Admin => 3,
        Access::Owner => 4,
    }
}

/// Why a member was refused; the message is shown to them as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error(
        "Your account in this organization is awaiting activation by an Owner or Administrator"
    )]
    AwaitingActivation,
    #[error("Your account in this organization has been deactivated")]
    Deactivated,
    #[error("{0} may not do this; it needs {1}")]
    RoleTooLow(&'static str, &'static str),
    /// A configurable permission (`crate::permissions`) this organization does not give the
    /// role: the role, the permission's label, and who holds it here, in words.
    #[error("{0} may not do this; it needs the permission \"{1}\", which in this organization is held by {2}")]
    NotGranted(&'static str, &'static str, String),
}

impl Access {
    /// Who holds this access, in words, for refusal messages.
    pub fn holders(self) -> &'static str {
        match self {
            Access::Member => "an active member",
            Access::Staff => "an Owner, Administrator or Manager",
            Access::Admin => "an Owner or Administrator",
            Access::Owner => "the Owner",
        }
    }
}

/// Decides whether a member in `role` holds `needed` access in their organization.
pub fn check(role: Role, needed: Access) -> Result<(), Denied> {
    let highest = HIGHEST_ACCESS
        .iter()
        .find(|(r, _)| *r == role)
        .and_then(|(_, a)| *a);
    match (role, highest) {
        (Role::NotActivated, _) => Err(Denied::AwaitingActivation),
        (Role::Deactivated, _) => Err(Denied::Deactivated),
        (_, Some(held)) if rank(held) >= rank(needed) => Ok(()),
        _ => Err(Denied::RoleTooLow(role.name(), needed.holders())),
    }
}

/// Whether `role` holds `access`.
pub fn allows(role: Role, access: Access) -> bool {
    check(role, access).is_ok()
}

/// The permission names `whoami` lists (Label Studio's names) and the access each needs.
pub const NAMED_PERMISSIONS: [(&str, Access); 7] = [
    ("projects.view", Access::Member),
    ("annotations.create", Access::Member),
    ("organizations.view", Access::Staff),
    ("projects.change", Access::Staff),
    ("organizations.change", Access::Admin),
    ("organizations.invite", Access::Admin),
    ("organizations.seats", Access::Owner),
];

/// The permission names a role holds.
pub fn permission_names(role: Role) -> Vec<&'static str> {
    NAMED_PERMISSIONS
        .iter()
        .filter(|(_, a)| allows(role, *a))
        .map(|(n, _)| *n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_per_role() {
        use Role::*;
        let table: [(Role, usize); 7] = [
            (Owner, 7),
            (Administrator, 6),
            (Manager, 4),
            (Reviewer, 2),
            (Annotator, 2),
            (NotActivated, 0),
            (Deactivated, 0),
        ];
        for (role, n) in table {
            assert_eq!(permission_names(role).len(), n, "{role:?}");
        }
        assert!(!permission_names(Administrator).contains(&"organizations.seats"));
    }

    /// The table written out literally, role by role, so a change to the policy shows here.
    #[test]
    fn permission_table() {
        use Access::*;
        let expect: [(Role, [bool; 4]); 7] = [
            (Role::Owner, [true, true, true, true]),
            (Role::Administrator, [true, true, true, false]),
            (Role::Manager, [true, true, false, false]),
            (Role::Reviewer, [true, false, false, false]),
            (Role::Annotator, [true, false, false, false]),
            (Role::NotActivated, [false, false, false, false]),
            (Role::Deactivated, [false, false, false, false]),
        ];
        for (role, allowed) in expect {
            for (access, ok) in [Member, Staff, Admin, Owner].into_iter().zip(allowed) {
                assert_eq!(check(role, access).is_ok(), ok, "{role:?} {access:?}");
            }
        }
    }

    #[test]
    fn refusals_explain_themselves() {
        assert_eq!(
            check(Role::NotActivated, Access::Member),
            Err(Denied::AwaitingActivation)
        );
        assert_eq!(
            check(Role::Deactivated, Access::Member),
            Err(Denied::Deactivated)
        );
        assert_eq!(
            check(Role::Annotator, Access::Admin)
                .unwrap_err()
                .to_string(),
            "Annotator may not do this; it needs an Owner or Administrator"
        );
    }
}
