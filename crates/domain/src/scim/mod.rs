//! SCIM 2.0 (RFC 7643, RFC 7644) as pure data and functions: the schemas we serve, the
//! discovery documents rendered from them, and reading and shaping User and Group resources.

pub mod bulk;
pub mod discovery;
pub mod filter;
pub mod mapping;
pub mod patch;
pub mod path;
pub mod resource;
pub mod schema;

pub use filter::{AttrPath, CompValue, CompareOp, Filter, FilterError};
pub use mapping::{
    check_deprovision, deprovision_limit, is_deprovision, preview, DeprovisionRefused,
    GroupMapping, HeldWorkspace, MappedProjectRole, MappingError, MemberGroups, Move, ProjectGroup,
    WorkspaceGroup, WorkspaceMove, FALLBACKS, MAPPABLE,
};
pub use path::{PatchPath, PathError};

/// The core User schema; attributes written without a URN prefix belong to it on a User.
pub const USER_SCHEMA: &str = schema::USER_URN;
/// The core Group schema.
pub const GROUP_SCHEMA: &str = schema::GROUP_URN;
/// The enterprise User extension (employeeNumber, manager, ...), always written with its URN.
pub const ENTERPRISE_USER_SCHEMA: &str = schema::ENTERPRISE_USER_URN;
