//! Fuzzes the tag grammar: parsing never panics and gives back the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promoter::{Tag, UniqueTag};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let tag = Tag::parse(text);
        assert_eq!(tag.to_string(), text);
        if let Ok(unique) = text.parse::<UniqueTag>() {
            assert_eq!(unique.to_string(), text);
        }
        let _ = text.parse::<promoter::Policy>();
    }
});
