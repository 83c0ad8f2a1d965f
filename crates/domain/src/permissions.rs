//! Configurable permissions: the actions an Owner may extend to, or withdraw from, the roles
//! below Administrator (Label Studio Enterprise's "organization permissions"). Each one is
//! data here: its key, its default holders, the roles it may be given to. An organization's
//! overrides replace a default; the Owner holds every permission whatever they say.

use crate::Role;

/// An action governed by a configurable permission. Only actions roster performs are here, so
/// every key an Owner can set takes effect somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Send personal invites, read and reset the invite link, revoke invites.
    InviteMembers,
    /// Create personal access tokens and reset one's legacy API key.
    CreateApiTokens,
    /// Read the organization's activity log.
    ViewActivityLog,
    /// Create workspaces and change those one belongs to (their members and projects).
    ManageWorkspaces,
    /// Add, remove and re-role the members of projects one may change.
    ManageProjectMembers,
}

/// One row of the table.
pub struct PermissionFacts {
    pub permission: Permission,
    /// Label Studio Enterprise's key.
    pub key: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub tooltip: &'static str,
    /// Who holds it when the organization has not overridden it.
    pub default: &'static [Role],
    /// The roles an Owner may give it to (the Owner always holds it, so is not an option).
    pub options: &'static [Role],
}

use Role::{Administrator as AD, Annotator as AN, Manager as MA, Owner as OW, Reviewer as RE};

/// The permission table, written as data.
pub const PERMISSIONS: [PermissionFacts; 5] = [
    PermissionFacts {
        permission: Permission::InviteMembers,
        key: "organizations.invite",
        label: "Invite members",
        group: "Members",
        tooltip: "Send invites, read and reset the invite link. A role below Administrator \
                  that holds this may invite only into roles below its own.",
        default: &[OW, AD],
        options: &[AD, MA, RE],
    },
    PermissionFacts {
        permission: Permission::CreateApiTokens,
        key: "tokens.create",
        label: "Create API tokens",
        group: "Access tokens",
        tooltip: "Create personal access tokens and reset one's legacy API key.",
        default: &[OW, AD, MA, RE, AN],
        options: &[AD, MA, RE, AN],
    },
    PermissionFacts {
        permission: Permission::ViewActivityLog,
        key: "activity_logs.view",
        label: "View the activity log",
        group: "Organization",
        tooltip: "Read the organization's log of requests and sign-ins.",
        default: &[OW, AD],
        options: &[AD, MA],
    },
    PermissionFacts {
        permission: Permission::ManageWorkspaces,
        key: "workspaces.manage",
        label: "Manage workspaces",
        group: "Workspaces",
        tooltip: "Create workspaces and change the members and projects of those one belongs \
                  to (Owners and Administrators: of every workspace).",
        default: &[OW, AD, MA],
        options: &[AD, MA],
    },
    PermissionFacts {
        permission: Permission::ManageProjectMembers,
        key: "projects.members.manage",
        label: "Manage project members",
        group: "Projects",
        tooltip: "Add and remove the members of projects one may change, and set their \
                  project roles.",
        default: &[OW, AD, MA],
        options: &[AD, MA],
    },
];

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::InviteMembers,
        Permission::CreateApiTokens,
        Permission::ViewActivityLog,
        Permission::ManageWorkspaces,
        Permission::ManageProjectMembers,
    ];

    pub fn facts(self) -> &'static PermissionFacts {
        PERMISSIONS
            .iter()
            .find(|f| f.permission == self)
            .expect("every permission has a row")
    }

    pub fn key(self) -> &'static str {
        self.facts().key
    }

    pub fn from_key(key: &str) -> Option<Permission> {
        PERMISSIONS
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.permission)
    }
}

/// Why a permission override was refused; each names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    #[error("unknown permission {0:?}; roster enforces: {1}")]
    UnknownKey(String, String),
    #[error("{0} cannot be given {1:?}; it may be given to {2}")]
    NotAnOption(&'static str, &'static str, String),
    #[error("\"{0}\" is not a role code (OW, AD, MA, RE, AN)")]
    UnknownRole(String),
}

/// Reads a permission key, naming the keys roster enforces when it is unknown.
pub fn parse_key(key: &str) -> Result<Permission, PermissionError> {
    Permission::from_key(key).ok_or_else(|| {
        let known: Vec<&str> = PERMISSIONS.iter().map(|f| f.key).collect();
        PermissionError::UnknownKey(key.to_string(), known.join(", "))
    })
}

/// Validates the roles an Owner gives a permission and returns them canonical: the Owner
/// first (always a holder: an Owner's permissions cannot be changed), then the others by rank,
/// without repeats. Naming the Owner is allowed and changes nothing.
pub fn override_roles(
    permission: Permission,
    codes: &[String],
) -> Result<Vec<Role>, PermissionError> {
    let facts = permission.facts();
    let mut roles = vec![OW];
    for code in codes {
        let role = Role::from_code(code.trim())
            .ok_or_else(|| PermissionError::UnknownRole(code.clone()))?;
        if role == OW {
            continue;
        }
        if !facts.options.contains(&role) {
            let options: Vec<&str> = facts.options.iter().map(|r| r.code()).collect();
            return Err(PermissionError::NotAnOption(
                facts.label,
                role.code(),
                options.join(", "),
            ));
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort_by_key(|r| std::cmp::Reverse(r.rank()));
    Ok(roles)
}

/// An organization's permission overrides, as read for one request: for each overridden
/// permission, the roles that hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    overrides: Vec<(Permission, Vec<Role>)>,
}

impl Grants {
    pub fn new(overrides: Vec<(Permission, Vec<Role>)>) -> Grants {
        Grants { overrides }
    }

    /// The roles holding `permission` in this organization.
    pub fn holders(&self, permission: Permission) -> Vec<Role> {
        match self.overrides.iter().find(|(p, _)| *p == permission) {
            Some((_, roles)) => {
                let mut roles = roles.clone();
                if !roles.contains(&OW) {
                    roles.insert(0, OW);
                }
                roles
            }
            None => permission.facts().default.to_vec(),
        }
    }

    /// Whether a member in `role` holds `permission`. The states without access hold nothing.
    pub fn holds(&self, role: Role, permission: Permission) -> bool {
        role == OW || (role.is_active() && self.holders(permission).contains(&role))
    }

    /// Refuses a member in `role` who does not hold `permission`.
    pub fn check(&self, role: Role, permission: Permission) -> Result<(), crate::policy::Denied> {
        if self.holds(role, permission) {
            return Ok(());
        }
        Err(crate::policy::Denied::NotGranted(
            role.name(),
            permission.facts().label,
            holders_in_words(&self.holders(permission)),
        ))
    }
}

/// The permission names `whoami` lists for a member in `role`: the fixed ones of the policy
/// table, with the configurable ones as this organization gives them.
pub fn permission_names(role: Role, grants: &Grants) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = crate::policy::permission_names(role)
        .into_iter()
        .filter(|n| Permission::from_key(n).is_none())
        .collect();
    names.extend(
        Permission::ALL
            .into_iter()
            .filter(|p| grants.holds(role, *p))
            .map(Permission::key),
    );
    names
}

/// Who holds a permission, as refusals say it: "the Owner", "an Owner or Administrator",
/// "an Owner, Administrator or Manager".
fn holders_in_words(roles: &[Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
    match names.as_slice() {
        [] | [_] => "the Owner".to_string(),
        [init @ .., last] => format!("an {} or {last}", init.join(", ")),
    }
}

/// Whether an inviter in `inviter` may give `role` in an invite. Owners and Administrators
/// give any invite role; a lower role that was allowed to invite gives only roles below its
/// own, so an extended permission never lets anyone raise someone to their own level or above.
pub fn may_give_in_invite(inviter: Role, role: Role) -> bool {
    match inviter {
        OW | AD => true,
        _ => role == Role::NotActivated || role.rank() < inviter.rank(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_unknown_keys_name_the_known_ones() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_key(p.key()), Some(p));
        }
        let e = parse_key("projects.delete").unwrap_err().to_string();
        assert!(
            e.contains("organizations.invite") && e.contains("projects.delete"),
            "{e}"
        );
    }

    #[test]
    fn defaults_follow_the_product() {
        let g = Grants::default();
        use Permission::*;
        let table: [(Permission, [bool; 7]); 5] = [
            // OW, AD, MA, RE, AN, NO, DI
            (
                InviteMembers,
                [true, true, false, false, false, false, false],
            ),
            (
                CreateApiTokens,
                [true, true, true, true, true, false, false],
            ),
            (
                ViewActivityLog,
                [true, true, false, false, false, false, false],
            ),
            (
                ManageWorkspaces,
                [true, true, true, false, false, false, false],
            ),
            (
                ManageProjectMembers,
                [true, true, true, false, false, false, false],
            ),
        ];
        for (p, expect) in table {
            for (role, ok) in Role::ALL.into_iter().zip(expect) {
                assert_eq!(g.holds(role, p), ok, "{p:?} {role:?}");
            }
        }
    }

    #[test]
    fn an_override_replaces_the_default_but_never_removes_the_owner() {
        let g = Grants::new(vec![(Permission::InviteMembers, vec![MA])]);
        assert!(g.holds(OW, Permission::InviteMembers));
        assert!(g.holds(MA, Permission::InviteMembers));
        assert!(!g.holds(AD, Permission::InviteMembers));
        assert_eq!(g.holders(Permission::InviteMembers), vec![OW, MA]);
        let none = Grants::new(vec![(Permission::CreateApiTokens, vec![])]);
        assert!(none.holds(OW, Permission::CreateApiTokens));
        assert!(!none.holds(AN, Permission::CreateApiTokens));
        assert!(!none.holds(Role::Deactivated, Permission::CreateApiTokens));
        let e = none
            .check(AN, Permission::CreateApiTokens)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Create API tokens") && e.contains("held by the Owner"),
            "{e}"
        );
        let e = Grants::default()
            .check(MA, Permission::InviteMembers)
            .unwrap_err()
            .to_string();
        assert!(e.contains("held by an Owner or Administrator"), "{e}");
    }

    #[test]
    fn override_roles_are_validated_and_canonical() {
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            override_roles(Permission::InviteMembers, &codes(&["RE", "MA", "OW", "MA"])).unwrap(),
            vec![OW, MA, RE]
        );
        assert_eq!(
            override_roles(Permission::InviteMembers, &[]).unwrap(),
            vec![OW]
        );
        assert!(matches!(
            override_roles(Permission::InviteMembers, &codes(&["AN"])),
            Err(PermissionError::NotAnOption(..))
        ));
        assert!(matches!(
            override_roles(Permission::ViewActivityLog, &codes(&["XX"])),
            Err(PermissionError::UnknownRole(_))
        ));
        assert!(matches!(
            override_roles(Permission::ManageWorkspaces, &codes(&["DI"])),
            Err(PermissionError::NotAnOption(..))
        ));
    }

    #[test]
    fn whoami_names_follow_the_grants() {
        let defaults = permission_names(AD, &Grants::default());
        assert!(defaults.contains(&"organizations.invite"));
        let withdrawn = Grants::new(vec![(Permission::InviteMembers, vec![MA])]);
        assert!(!permission_names(AD, &withdrawn).contains(&"organizations.invite"));
        assert!(permission_names(MA, &withdrawn).contains(&"organizations.invite"));
        assert!(permission_names(Role::Deactivated, &withdrawn).is_empty());
    }

    #[test]
    fn invites_from_lower_roles_give_only_roles_below_their_own() {
        assert!(may_give_in_invite(AD, AD));
        assert!(may_give_in_invite(OW, MA));
        assert!(may_give_in_invite(MA, RE));
        assert!(may_give_in_invite(MA, AN));
        assert!(may_give_in_invite(MA, Role::NotActivated));
        assert!(!may_give_in_invite(MA, MA));
        assert!(!may_give_in_invite(MA, AD));
        assert!(may_give_in_invite(RE, AN));
        assert!(!may_give_in_invite(RE, RE));
    }
}
