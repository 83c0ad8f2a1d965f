//! roster's pure core: identifiers, roles and states, the permission table and the rules of
//! membership. Nothing here performs I/O; every entry point reaches these rules through the
//! application service, so each rule is decided in exactly one place.

pub mod audit;
pub mod domains;
pub mod ids;
pub mod invites;
pub mod pauses;
pub mod people;
pub mod permissions;
pub mod policy;
pub mod preferences;
pub mod role;
pub mod rules;
pub mod saml;
pub mod scim;
pub mod seats;
pub mod sessions;
pub mod tags;
pub mod workspaces;

pub use audit::{AuditAction, Source};
pub use ids::{
    AnnotationId, InviteId, MemberTagId, MembershipId, OrgId, ProjectId, TagImportId, UserId,
    WorkspaceId,
};
pub use invites::InviteState;
pub use permissions::{Grants, Permission};
pub use policy::Access;
pub use role::{MemberOrder, ProjectRole, Role, RoleSource};
pub use rules::{RoleChange, RuleViolation};
pub use seats::SeatUsage;
