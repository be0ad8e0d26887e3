//! The thread stack that template execution runs on, and the guard that stops deep nesting before it runs out.
//!
//! Go grows a goroutine's stack up to 1 GB, so `text/template` nests 100000
//! `{{template}}` calls and Helm 1001 `include`s of one name (and any number
//! of `tpl`s) before its own bounds apply. The executor here recurses on the
//! machine stack, so [`with_stack`] runs the work on a thread whose stack is
//! large enough for those bounds, and [`exhausted`] tells the executor when a
//! nested call would come too close to the stack's end, so that a runaway
//! template fails with an error instead of overflowing the stack.

use std::cell::Cell;

/// The stack of the execution thread. Linux reserves it lazily: only the
/// pages a deep template touches are ever backed by memory.
pub const STACK_SIZE: usize = 4 << 30;

/// What is kept free below the last nested call, for the functions it calls
/// (formatting, encoders, regular expressions), which do not check.
const RESERVE: usize = 4 << 20;

thread_local! {
    /// The lowest stack address a nested call may start at; 0 when the
    /// current thread is not an execution thread.
    static FLOOR: Cell<usize> = const { Cell::new(0) };
}

/// The address of a local of the caller, which is as deep as the stack is used.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Smaller stacks to fall back to, largest first, where the system refuses
/// to reserve [`STACK_SIZE`] (strict overcommit, a small `ulimit -v`): the
/// guard then stops nesting earlier, with the same clear error.
const FALLBACK_SIZES: [usize; 3] = [1 << 30, 256 << 20, 64 << 20];

/// Runs `work` on an execution thread with a [`STACK_SIZE`] stack (or the
/// largest of the fallback sizes the system grants), or directly when the
/// current thread is one already. Fails only when the system refuses to
/// start a thread at all.
pub fn with_stack<R: Send>(work: impl FnOnce() -> R + Send) -> Result<R, std::io::Error> {
    if FLOOR.with(Cell::get) != 0 {
        return Ok(work());
    }
    // The work moves into the thread that starts; a refused spawn hands it back.
    let work = std::sync::Mutex::new(Some(work));
    let mut last_error = None;
    for size in std::iter::once(STACK_SIZE).chain(FALLBACK_SIZES) {
        let result = std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("gotmpl".into())
                .stack_size(size)
                .spawn_scoped(scope, || {
                    // The stack grows down from about here; the thread's first
                    // frames are below the top by far less than the reserve.
                    let top = stack_position();
                    FLOOR.with(|f| f.set(top.saturating_sub(size - RESERVE)));
                    let work = work.lock().ok().and_then(|mut w| w.take());
                    work.map(|w| w())
                })?;
            match handle.join() {
                Ok(r) => Ok(r),
                // A panic is a bug in kiln; it stays one on the caller's thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        match result {
            Ok(Some(r)) => return Ok(r),
            Ok(None) => break,
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .unwrap_or_else(|| std::io::Error::other("template execution thread lost its work")))
}

/// Whether the stack is used up so far that another nested execution must
/// not start. Always false outside an execution thread, where nesting is
/// bounded by the count in the options alone.
pub(crate) fn exhausted() -> bool {
    let floor = FLOOR.with(Cell::get);
    floor != 0 && stack_position() < floor
}
