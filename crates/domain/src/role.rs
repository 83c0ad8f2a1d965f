//! Organization roles and states, project roles, and where a role came from.

use serde::{Deserialize, Serialize};

/// A member's role in an organization. Not Activated and Deactivated are states a member can
/// be in, modelled as roles because that is how the product (and its API) assigns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Role {
    #[serde(rename = "OW")]
    Owner,
    #[serde(rename = "AD")]
    Administrator,
    #[serde(rename = "MA")]
    Manager,
    #[serde(rename = "RE")]
    Reviewer,
    #[serde(rename = "AN")]
    Annotator,
    #[serde(rename = "NO")]
    NotActivated,
    #[serde(rename = "DI")]
    Deactivated,
}

/// One row per role: its wire code, its name, whether it occupies a licence seat, and its
/// rank (how much it may do; the two states without access rank 0 alike).
struct RoleFacts {
    role: Role,
    code: &'static str,
    name: &'static str,
    seat: bool,
    rank: u8,
}

const ROLE_TABLE: [RoleFacts; 7] = [
    RoleFacts {
        role: Role::Owner,
        code: "OW",
        name: "Owner",
        seat: true,
        rank: 5,
    },
    RoleFacts {
        role: Role::Administrator,
        code: "AD",
        name: "Administrator",
        seat: true,
        rank: 4,
    },
    RoleFacts {
        role: Role::Manager,
        code: "MA",
        name: "Manager",
        seat: true,
        rank: 3,
    },
    RoleFacts {
        role: Role::Reviewer,
        code: "RE",
        name: "Reviewer",
        seat: true,
        rank: 2,
    },
    RoleFacts {
        role: Role::Annotator,
        code: "AN",
        name: "Annotator",
        seat: true,
        rank: 1,
    },
    RoleFacts {
        role: Role::NotActivated,
        code: "NO",
        name: "Not Activated",
        seat: false,
        rank: 0,
    },
    RoleFacts {
        role: Role::Deactivated,
        code: "DI",
        name: "Deactivated",
        seat: false,
        rank: 0,
    },
];

impl Role {
    /// Every role, highest first.
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::Administrator,
        Role::Manager,
        Role::Reviewer,
        Role::Annotator,
        Role::NotActivated,
        Role::Deactivated,
    ];

    /// The roles that occupy a seat and grant access ("active" roles).
    pub const ACTIVE: [Role; 5] = [
        Role::Owner,
        Role::Administrator,
        Role::Manager,
        Role::Reviewer,
        Role::Annotator,
    ];

    fn facts(self) -> &'static RoleFacts {
        ROLE_TABLE
            .iter()
            .find(|f| f.role == self)
            .expect("every role has a row")
    }

    /// The two-letter wire code (`OW`, `AD`, ...).
    pub fn code(self) -> &'static str {
        self.facts().code
    }

    /// The name people read ("Not Activated").
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    /// Parses a wire code, case-sensitively as the API defines them.
    pub fn from_code(code: &str) -> Option<Role> {
        ROLE_TABLE.iter().find(|f| f.code == code).map(|f| f.role)
    }

    /// Whether a member in this role occupies a licence seat. Active roles do; Not Activated
    /// and Deactivated members do not.
    pub fn takes_seat(self) -> bool {
        self.facts().seat
    }

    /// How much the role may do, for choosing the highest of several (a member in two mapped
    /// groups): Owner 5, Administrator 4, Manager 3, Reviewer 2, Annotator 1, and 0 for Not
    /// Activated and Deactivated, which grant nothing.
    pub fn rank(self) -> u8 {
        self.facts().rank
    }

    /// Whether the role grants access to the organization (the same set as seat-taking roles).
    pub fn is_active(self) -> bool {
        self.takes_seat()
    }

    /// The roles an organization may give to people who sign up through its invite link.
    pub fn allowed_as_default(self) -> bool {
        matches!(self, Role::NotActivated | Role::Annotator | Role::Reviewer)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A project-level role. A project member without one works with their organization role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ProjectRole {
    #[serde(rename = "AN")]
    Annotator,
    #[serde(rename = "RE")]
    Reviewer,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 2] = [ProjectRole::Annotator, ProjectRole::Reviewer];

    /// The role's name as people read it.
    pub fn name(self) -> &'static str {
        match self {
            ProjectRole::Annotator => "Annotator",
            ProjectRole::Reviewer => "Reviewer",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ProjectRole::Annotator => "AN",
            ProjectRole::Reviewer => "RE",
        }
    }

    pub fn from_code(code: &str) -> Option<ProjectRole> {
        match code {
            "AN" => Some(ProjectRole::Annotator),
            "RE" => Some(ProjectRole::Reviewer),
            _ => None,
        }
    }
}

/// Who set a membership's current role. Identity-provider sources make the role
/// IdP-managed when the organization turns manual role management off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleSource {
    /// Set by a person in the web UI or the CLI.
    Manual,
    /// Set through the REST API.
    Api,
    /// Given by an invite (link or email) on joining.
    Invite,
    /// Set by SCIM provisioning from an identity provider.
    Scim,
    /// Set by a SAML sign-in from an identity provider.
    Saml,
}

impl RoleSource {
    pub fn code(self) -> &'static str {
        match self {
            RoleSource::Manual => "manual",
            RoleSource::Api => "api",
            RoleSource::Invite => "invite",
            RoleSource::Scim => "scim",
            RoleSource::Saml => "saml",
        }
    }

    pub fn from_code(code: &str) -> Option<RoleSource> {
        [
            RoleSource::Manual,
            RoleSource::Api,
            RoleSource::Invite,
            RoleSource::Scim,
            RoleSource::Saml,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Whether this source is an identity provider (the source of truth when the organization
    /// does not allow manual role management).
    pub fn is_identity_provider(self) -> bool {
        matches!(self, RoleSource::Scim | RoleSource::Saml)
    }

    /// The name shown to people ("SCIM").
    pub fn display_name(self) -> &'static str {
        match self {
            RoleSource::Manual => "manual",
            RoleSource::Api => "API",
            RoleSource::Invite => "invite",
            RoleSource::Scim => "SCIM",
            RoleSource::Saml => "SAML",
        }
    }
}

/// The orders a member list can be sorted in (the wire names live with the REST API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MemberOrder {
    #[default]
    Email,
    FirstName,
    LastName,
    LastActivity,
    DateJoined,
    Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("ow"), None);
        assert_eq!(Role::from_code("XX"), None);
    }

    #[test]
    fn project_role_codes_round_trip_and_names_match_the_organization_roles() {
        for role in ProjectRole::ALL {
            assert_eq!(ProjectRole::from_code(role.code()), Some(role));
            assert_eq!(
                Role::from_code(role.code()).map(Role::name),
                Some(role.name())
            );
        }
        assert_eq!(ProjectRole::from_code("MA"), None);
    }

    #[test]
    fn only_working_roles_take_seats() {
        let seated: Vec<Role> = Role::ALL.into_iter().filter(|r| r.takes_seat()).collect();
        assert_eq!(seated, Role::ACTIVE.to_vec());
        assert!(!Role::NotActivated.takes_seat());
        assert!(!Role::Deactivated.takes_seat());
    }

    #[test]
    fn rank_follows_the_order_of_working_roles() {
        let ranks: Vec<u8> = Role::ACTIVE.into_iter().map(Role::rank).collect();
        assert_eq!(ranks, vec![5, 4, 3, 2, 1]);
        assert_eq!(Role::NotActivated.rank(), 0);
        assert_eq!(Role::Deactivated.rank(), 0);
    }

    #[test]
    fn default_role_never_manages_others() {
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.allowed_as_default())
            .collect();
        assert_eq!(
            allowed,
            vec![Role::Reviewer, Role::Annotator, Role::NotActivated]
        );
    }

    #[test]
    fn serde_uses_wire_codes() {
        assert_eq!(
            serde_json::to_string(&Role::NotActivated).unwrap(),
            "\"NO\""
        );
    }
}
