//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): an organization's identity provider creates,
//! updates, deactivates and deletes its people and groups here, and the group mapping turns
//! group membership into organization roles, project roles and workspaces. Every change of a membership goes
//! through the one membership path, with the identity provider as the actor.

mod access;
mod groups;
mod provision;
mod settings;
mod users;
mod workspaces;

pub use access::{ScimCaller, ScimTokenState};
pub use groups::{GroupUpdate, MemberChange, ScimGroup};
pub use provision::{
    mapping_parts_from_json, mapping_to_json, project_role_from_wire, project_role_wire,
    role_from_wire, DeleteAction, ScimSettings,
};
pub use settings::{
    deprovisioning, PlannedMove, PlannedProjectMove, ScimSettingsUpdate, SettingsOutcome,
};
pub use users::{Precondition, ScimUser};
pub use workspaces::PlannedWorkspaceMove;

pub(crate) use provision::mapping_from_json;
pub(crate) use settings::check_mapping;
pub(crate) use workspaces::{
    prune as prune_workspaces, resolve as resolve_workspaces, titles as workspace_titles,
};
