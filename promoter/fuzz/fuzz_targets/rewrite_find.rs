//! Fuzzes image finding and rewriting: no panics, and edits keep the bytes outside their spans.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoter::rewrite::{Edit, apply, find};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(refs) = find(text) else { return };
    let edits: Vec<Edit> =
        refs.iter().map(|r| Edit { span: r.span.clone(), value: "v1.2.3".to_owned() }).collect();
    if let (Some(first), Ok(out)) = (refs.first(), apply(text, &edits)) {
        assert!(out.starts_with(&text[..first.span.start]));
    }
});
