//! roster's integration suite, one binary: every test starts a real server on an ephemeral
//! port over SQLite, or PostgreSQL when ROSTER_TEST_DB=postgres.

mod counts;
mod credentials;
mod csrf;
mod domains;
mod edges;
mod hostile_input;
mod import;
mod input;
mod invites;
mod mail;
mod members;
mod nodes;
mod paging;
mod password_hashing;
mod permissions;
mod project_access;
mod projects_audit;
mod saml;
mod saml_login;
mod saml_page;
mod scim;
mod scim_bulk;
mod scim_conformance;
mod scim_dialects;
mod scim_guards;
mod scim_page;
mod scim_stories;
mod seats;
mod security;
mod serialization;
mod sessions;
mod smoke;
mod sso_only;
mod sso_sessions;
mod stories;
