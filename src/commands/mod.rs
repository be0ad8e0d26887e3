//! One module per subcommand: its arguments and its `cmd_*` function.

pub mod helm;
pub mod render;
pub mod sync;
pub mod tag;
