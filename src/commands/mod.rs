//! One module per subcommand: its arguments and its `cmd_*` function.

pub mod render;
pub mod sync;
pub mod watch;
