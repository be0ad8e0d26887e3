//! One module per subcommand: its arguments and its `cmd_*` function.

pub mod check;
pub mod diff;
pub mod plan;
pub mod render;
pub mod sync;
pub mod tag;
pub mod watch;
