//! The built-in transformers, one per concern, each a function over the accumulated resources.

pub mod images;
pub mod labels;
pub mod name_reference;
pub mod namespace;
pub mod prefix_suffix;
pub mod replacements;
pub mod replicas;
pub mod value_add;
pub mod vars;
