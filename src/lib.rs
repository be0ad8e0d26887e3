//! The `kiln` binary's internals, exposed as a library so the end-to-end tests can reach them.

pub mod daemon;
pub mod quarantine;
pub mod revert;
pub mod verify;
