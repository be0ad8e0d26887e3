//! Patches: strategic merge and JSON 6902.
