//! The binary's git glue and the watcher: reading source trees from the object database, publishing rendered output, fetching and pushing, HTTP.
//!
//! This is the only code that writes to git or talks to remotes. Everything
//! here works on bare repositories: no checkout and no work tree are ever needed.

pub mod edit;
pub mod http;
pub mod inputs;
pub mod lease;
pub mod metrics;
pub mod publish;
pub mod registry;
pub mod remote;
pub mod repo;
pub mod revisions;
pub mod sync;
pub mod tree;
pub mod units;
pub mod watch;
