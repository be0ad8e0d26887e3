//! Image tags: the tag grammar, promotion policies and byte-preserving image rewrites.
//!
//! Parse tags and order unique builds:
//!
//! ```
//! use promoter::{Tag, UniqueTag};
//!
//! let tag: UniqueTag = "v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785"
//!     .parse()
//!     .unwrap();
//! assert_eq!(tag.version().to_string(), "1.2.2");
//! assert_eq!(tag.sha(), "9eabf5b536662000f79978c4d1b6e4eff5c8d785");
//!
//! // Version first, then build time: 1.10.0 beats 1.9.0 even though it was built earlier.
//! let older: UniqueTag = "v1.9.0.2024-05-01t120000000Z.abcdef0".parse().unwrap();
//! let newer: UniqueTag = "v1.10.0.2023-01-01t000000000Z.1234567".parse().unwrap();
//! assert!(newer > older);
//!
//! assert_eq!(Tag::parse("production").kind(), "environment");
//! assert_eq!(Tag::parse("v1.2.3").kind(), "semver");
//! ```
//!
//! Pick a tag by policy and write it into a file, changing only the tag's bytes:
//!
//! ```
//! use promoter::{Policy, rewrite};
//!
//! let tags = ["latest", "v1.9.0.2024-05-01t120000000Z.abcdef0", "v1.10.0.2023-01-01t000000000Z.1234567"];
//! let policy: Policy = "semver: ~1.9".parse().unwrap();
//! let winner = policy.select(&tags).unwrap().unwrap();
//! assert_eq!(winner, "v1.9.0.2024-05-01t120000000Z.abcdef0");
//!
//! let file = "images:\n- name: user-roles  # the API\n  newTag: 'v1.0.0'\n";
//! let out = rewrite::set_tag(file, "user-roles", winner).unwrap().unwrap();
//! assert_eq!(out, "images:\n- name: user-roles  # the API\n  newTag: 'v1.9.0.2024-05-01t120000000Z.abcdef0'\n");
//! ```
#![deny(missing_docs)]

pub mod policy;
pub mod rewrite;
pub mod tag;

pub use policy::Policy;
pub use tag::{Tag, UniqueTag};
