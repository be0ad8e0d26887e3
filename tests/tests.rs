//! End-to-end tests of the `kiln` binary's internals against real git repositories.

mod git_publish;
mod git_tree;
mod sync;
mod util;
mod watch;
mod watch_deploy;
mod watch_faults;
