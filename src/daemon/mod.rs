//! The binary's git glue: reading source trees from the object database and publishing rendered output.
//!
//! This is the only code that writes to git. Everything here works on bare
//! repositories: no checkout and no work tree are ever needed.

pub mod edit;
pub mod publish;
pub mod registry;
pub mod repo;
pub mod sync;
pub mod tree;
