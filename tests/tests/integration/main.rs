//! roster's integration suite, one binary: every test starts a real server on an ephemeral
//! port over SQLite, or PostgreSQL when ROSTER_TEST_DB=postgres.

mod smoke;
mod sessions;
mod credentials;
mod input;
mod permissions;
mod stories;
mod seats;
mod invites;
mod members;
mod projects_audit;
mod mail;
