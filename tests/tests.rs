//! End-to-end tests of the `kiln` binary's internals against real git repositories.

mod cli;
mod diff;
mod git_publish;
mod git_tree;
mod layouts;
mod sync;
mod util;
mod watch;
mod watch_deploy;
mod watch_faults;
