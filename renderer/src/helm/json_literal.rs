//! The text of a value as a JSON document writes it (`2.50`, `1e3`), which parsing into numbers loses and Helm's schema validator prints.

/// The raw text of the value at `pointer` (RFC 6901) in the JSON `text`;
/// `None` when the text is not JSON or nothing is there. Of duplicate keys
/// the last counts, as for the parsed document.
pub(super) fn at<'a>(text: &'a str, pointer: &str) -> Option<&'a str> {
    let mut raw = text.trim();
    if pointer.is_empty() {
        return Some(raw);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        raw = match raw.as_bytes().first()? {
            b'{' => members(raw)?.into_iter().rev().find(|(k, _)| *k == token)?.1,
            b'[' => *items(raw)?.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(raw)
}

/// The raw items of a JSON array.
pub(super) fn items(raw: &str) -> Option<Vec<&str>> {
    let mut p = Parser { s: raw.as_bytes(), i: 0 };
    p.expect(b'[')?;
    let mut out = Vec::new();
    p.ws();
    if p.eat(b']') {
        return Some(out);
    }
    loop {
        out.push(p.value(raw)?);
        p.ws();
        if p.eat(b']') {
            return Some(out);
        }
        p.expect(b',')?;
    }
}

/// The members of a JSON object: each key (unescaped) and its raw value.
fn members(raw: &str) -> Option<Vec<(String, &str)>> {
    let mut p = Parser { s: raw.as_bytes(), i: 0 };
    p.expect(b'{')?;
    let mut out = Vec::new();
    p.ws();
    if p.eat(b'}') {
        return Some(out);
    }
    loop {
        p.ws();
        let key: String = serde_json::from_str(p.value(raw)?).ok()?;
        p.ws();
        p.expect(b':')?;
        out.push((key, p.value(raw)?));
        p.ws();
        if p.eat(b'}') {
            return Some(out);
        }
        p.expect(b',')?;
    }
}

/// A scanner that skips over JSON values without building them.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b" \t\r\n".contains(b)) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.s.get(self.i) == Some(&b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.ws();
        self.eat(b).then_some(())
    }

    /// Skips one value and returns its text.
    fn value<'t>(&mut self, text: &'t str) -> Option<&'t str> {
        self.ws();
        let start = self.i;
        match *self.s.get(self.i)? {
            b'"' => {
                self.i += 1;
                loop {
                    match *self.s.get(self.i)? {
                        b'\\' => self.i += 2,
                        b'"' => {
                            self.i += 1;
                            break;
                        }
                        _ => self.i += 1,
                    }
                }
            }
            open @ (b'[' | b'{') => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.i += 1;
                self.ws();
                if !self.eat(close) {
                    loop {
                        if open == b'{' {
                            self.value(text)?;
                            self.expect(b':')?;
                        }
                        self.value(text)?;
                        self.ws();
                        if self.eat(close) {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
            }
            _ => {
                while self.s.get(self.i).is_some_and(|b| !b",]} \t\r\n".contains(b)) {
                    self.i += 1;
                }
            }
        }
        text.get(start..self.i).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::{at, items};

    #[test]
    fn values_keep_their_written_text() {
        let doc = r#"{"a": {"enum": [2.50, 1e3, "x,]", {"k": [1]}, -0]}, "b": 1, "b": 1.0, "c~1d": true}"#;
        assert_eq!(at(doc, "/a/enum/0"), Some("2.50"));
        assert_eq!(at(doc, "/a/enum/2"), Some("\"x,]\""));
        assert_eq!(at(doc, "/b"), Some("1.0"));
        assert_eq!(at(doc, "/c~01d"), Some("true"));
        assert_eq!(at(doc, "/c~1d"), None);
        assert_eq!(at(doc, "/a/enum/9"), None);
        let raw = at(doc, "/a/enum").unwrap_or_default();
        assert_eq!(items(raw), Some(vec!["2.50", "1e3", "\"x,]\"", "{\"k\": [1]}", "-0"]));
    }
}
