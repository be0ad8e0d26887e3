//! Room on the machine stack for walks as deep as the documents the real tools accept.
//!
//! Go grows a goroutine's stack as it needs, so kustomize and Helm read and
//! write YAML nested up to their readers' bound (10,000 levels) on any
//! goroutine. kiln walks documents recursively (reading, writing, comparing,
//! merging, dropping), so a walk that can go that deep calls [`grow`] at each
//! level: while enough stack is left it costs a comparison, and when it is
//! not, the walk goes on in a new segment of [`SEGMENT`] bytes that `stacker`
//! maps and unmaps around it. That holds on a thread with Rust's default
//! 2 MiB stack as on the main thread.

/// What must be left of the stack for one more level: a level of the
/// unoptimised YAML reader takes about 16 KiB, and what the level calls
/// without checking (the scanner, formatting) takes more.
const RED_ZONE: usize = 256 << 10;

/// The size of each segment added when the stack runs low. Linux backs only
/// the pages a walk touches.
pub const SEGMENT: usize = 8 << 20;

/// Runs `work`, on a new stack segment when fewer than [`RED_ZONE`] bytes are
/// left of the current one.
#[inline]
pub fn grow<R>(work: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, work)
}

/// The stack the entry points of a build or a chart render keep free for
/// walks that do not check it level by level: about 25 KiB for each of
/// 10,000 levels, reserved lazily.
pub const ROOM: usize = 256 << 20;

/// Runs `work` with at least `room` bytes of stack: for callers that start a
/// walk they cannot check level by level (dropping or cloning a deep
/// [`crate::Value`], whose code the compiler writes).
pub fn with_room<R>(room: usize, work: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(room, room + SEGMENT, work)
}
