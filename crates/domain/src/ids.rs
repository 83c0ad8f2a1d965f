//! Integer newtype identifiers. The wire carries plain integers (the SDK types ids as ints);
//! inside roster an id of one kind cannot be passed where another is expected.

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A person's account, shared by all their organizations.
    UserId,
    /// An organization.
    OrgId,
    /// One (user, organization) membership record; a re-invited person gets a new one.
    MembershipId,
    /// A project inside an organization.
    ProjectId,
    /// One unit of completed work.
    AnnotationId,
    /// A personal email invite.
    InviteId,
    /// A workspace (a named group of projects) inside an organization.
    WorkspaceId,
    /// A member tag (a label an organization puts on members).
    MemberTagId,
    /// A CSV import of member tags.
    TagImportId,
);
