//! One module per subcommand: its arguments and its `cmd_*` function.

pub mod check;
pub mod diff;
pub mod helm;
pub mod plan;
pub mod promote;
pub mod quarantine;
pub mod render;
pub mod revert;
pub mod sync;
pub mod tag;
pub mod verify;
pub mod watch;
pub mod watch_config;
