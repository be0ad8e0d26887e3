//! Renders Kustomize overlays, Helm charts and Flux layouts into plain Kubernetes objects.
//!
//! The library reads through a [`tree::Tree`], starts no processes and does
//! no network or git-remote IO; the same input gives the same bytes.

#![deny(missing_docs)]

pub mod value;
pub mod yaml;

pub use value::{Map, Value};
pub mod resource;
pub mod tree;

pub use resource::{Gvk, ResId, Resource};
pub use tree::{DirTree, MemTree, Tree};
pub mod gotmpl;
pub mod helm;
pub mod kustomize;
pub mod layout;
pub mod output;
