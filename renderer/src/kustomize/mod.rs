//! A native kustomize engine: `kustomize build` over a [`Tree`](crate::tree::Tree).

pub mod patch;
