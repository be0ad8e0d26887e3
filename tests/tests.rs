//! End-to-end tests of the `kiln` binary's internals against real git repositories.

mod cli;
mod git_publish;
mod git_tree;
mod promote;
mod registry;
mod sync;
mod util;
