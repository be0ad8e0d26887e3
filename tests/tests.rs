//! End-to-end tests of the `kiln` binary's internals against real git repositories.

mod cli;
mod diff;
mod git_publish;
mod git_tree;
mod layouts;
mod lease;
mod promote;
mod registry;
mod sync;
mod util;
mod verify;
mod verify_api;
mod watch;
mod watch_deploy;
mod watch_faults;
mod watch_refs;
mod watch_remotes;
mod watch_units;
mod watch_verify;
