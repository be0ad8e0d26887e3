//! Image tags.
