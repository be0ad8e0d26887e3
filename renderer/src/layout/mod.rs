//! Repository layouts: how a whole config repository becomes clusters of units.

pub mod flux;
