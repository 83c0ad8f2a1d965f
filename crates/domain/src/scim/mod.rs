//! SCIM 2.0 (RFC 7643, RFC 7644) as pure data and functions: the schemas we serve, the
//! discovery documents rendered from them, and reading and shaping User and Group resources.

pub mod discovery;
pub mod resource;
pub mod schema;
