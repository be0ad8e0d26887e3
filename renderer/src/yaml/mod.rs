//! YAML in and out, with the semantics of the Go libraries the reference tools use.
//!
//! Input is read the way kustomize's kyaml (yaml.v3) reads it; output is
//! written the way `sigs.k8s.io/yaml` (a goyaml.v2 emitter over data that went
//! through JSON) writes it, which is what both `kubectl kustomize` and Helm's
//! `toYaml` print.
//!
//! Entry points: [`parse_documents`] for any YAML stream,
//! [`parse_kustomize_stream`] for resource files as kustomize cuts and reads
//! them, [`to_string`]/[`to_stream`] for output, [`validate`] for the values
//! the Go tools cannot print (kustomize fails, [`helm_to_yaml`] prints
//! nothing). `tests/yaml_cases.rs` holds the differential corpus.

mod breaks;
mod emit;
mod kyaml_lines;
pub(crate) use kyaml_lines::literal_lines;
mod parse;
pub(crate) mod resolve;
mod tabs;

pub(crate) use emit::{
    Comments, Style, Styled, document_with_duplicates, flow_node_text, go_format_float_g,
    go_format_float32_g, json_hop, node_to_string_styled, v3_value_not_plain,
};
pub use emit::{
    EmitError, helm_to_yaml, helm_to_yaml_pretty, node_to_string, to_stream, to_string, validate,
    write_document,
};
pub use parse::{
    Document, DuplicateKey, Limits, NonStringKey, ParseError, Shadow, parse_documents,
    parse_documents_helm, parse_documents_with, parse_documents_yaml11, parse_first_document_helm,
    parse_go_first_document_helm, parse_kustomize_documents, parse_kustomize_objects,
    parse_kustomize_stream,
};
/// Whether a message is the complaint about a merge key's value (`<<: 5`).
pub(crate) use parse::{binary_string, is_merge_problem};
