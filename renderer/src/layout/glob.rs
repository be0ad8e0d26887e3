//! Shell-style globs as Go's `filepath.Match` reads them, for Flux's envsubst and ignore files.

/// Whether `text` matches the glob `pattern` (`*` any run of characters,
/// `/` included, `?` one character, `[...]` a class with `^` negation and
/// ranges, `\` an escape); `None` when the pattern is malformed.
pub fn matches(pattern: &str, text: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // One class element: a character (escaped with `\`); a bare `-` or
    // `]` there is malformed, as in Go.
    fn element(p: &[char], i: &mut usize) -> Option<char> {
        let mut c = *p.get(*i)?;
        if c == '-' || c == ']' {
            return None;
        }
        if c == '\\' {
            *i += 1;
            c = *p.get(*i)?;
        }
        *i += 1;
        Some(c)
    }
    // `[...]` at the start of `p` against `c`: whether it matches, and its length.
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        let mut i = 1;
        let negated = p.get(i) == Some(&'^');
        if negated {
            i += 1;
        }
        let mut hit = false;
        let mut ranges = 0;
        loop {
            if p.get(i)? == &']' && ranges > 0 {
                return Some((hit != negated, i + 1));
            }
            let lo = element(p, &mut i)?;
            let hi = if p.get(i) == Some(&'-') {
                i += 1;
                element(p, &mut i)?
            } else {
                lo
            };
            ranges += 1;
            hit |= lo <= c && c <= hi;
        }
    }
    fn go(p: &[char], t: &[char]) -> Option<bool> {
        match p.first() {
            None => Some(t.is_empty()),
            Some('*') => {
                for skip in 0..=t.len() {
                    if go(&p[1..], &t[skip..])? {
                        return Some(true);
                    }
                }
                Some(false)
            }
            Some('?') => Some(!t.is_empty() && go(&p[1..], &t[1..])?),
            Some('[') => match t.first() {
                None => class(p, '\0').map(|_| false),
                Some(&c) => {
                    let (hit, len) = class(p, c)?;
                    Some(hit && go(&p[len..], &t[1..])?)
                }
            },
            Some('\\') => {
                let c = *p.get(1)?;
                Some(t.first() == Some(&c) && go(&p[2..], &t[1..])?)
            }
            Some(&c) => Some(t.first() == Some(&c) && go(&p[1..], &t[1..])?),
        }
    }
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_globs() {
        let cases: &[(&str, &str, Option<bool>)] = &[
            ("*.yaml", "a.yaml", Some(true)),
            ("*.yaml", "a.yml", Some(false)),
            ("*", "", Some(true)),
            ("*/", "path/to/", Some(true)),
            ("a?c", "abc", Some(true)),
            ("a?c", "ac", Some(false)),
            ("[a-c]x", "bx", Some(true)),
            ("[^a-c]x", "bx", Some(false)),
            ("[^a-c]x", "dx", Some(true)),
            ("[]a]", "]", None),
            ("[a-]", "a", None),
            ("[\\]]", "]", Some(true)),
            (r"\*", "*", Some(true)),
            (r"\*", "a", Some(false)),
            ("[a-", "a", None),
            ("a\\", "a", None),
            ("gotk-*.yaml", "gotk-sync.yaml", Some(true)),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), *want, "{pattern} {text}");
        }
    }
}
