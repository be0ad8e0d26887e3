//! Shell-style globs as Go's `path.Match` reads them, for Flux's envsubst and ignore files.
//!
//! `*` is any run of characters but `/`, `?` one character but `/`,
//! `[...]` a class (`^` negates, `a-z` ranges; a class may match `/`), `\`
//! escapes. A pattern is read as chunks, each a run of single-character
//! items after an optional star; as Go does, a chunk after a star is taken
//! at the first place it matches (the last chunk where it ends the text),
//! without going back, so a match costs at most text × pattern steps.

/// One single-character item of a chunk.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A character, escaped or not.
    Char(char),
    /// `?`: any character but `/`.
    Any,
    /// `[...]`: inclusive ranges, possibly negated.
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Item {
    fn matches(&self, c: char) -> bool {
        match self {
            Item::Char(x) => *x == c,
            Item::Any => c != '/',
            Item::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        }
    }
}

/// Single-character items after an optional run of stars.
#[derive(Debug, Clone, PartialEq)]
struct Chunk {
    star: bool,
    items: Vec<Item>,
}

/// A parsed glob.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    chunks: Vec<Chunk>,
}

impl Glob {
    /// Parses `pattern`; `None` when it is malformed (Go's `ErrBadPattern`:
    /// a trailing `\`, an unclosed or empty class, a bare `-` or `]` in a class).
    pub fn new(pattern: &str) -> Option<Glob> {
        let p: Vec<char> = pattern.chars().collect();
        let mut chunks = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let mut star = false;
            while p.get(i) == Some(&'*') {
                star = true;
                i += 1;
            }
            let mut items = Vec::new();
            while let Some(&c) = p.get(i) {
                match c {
                    '*' => break,
                    '?' => {
                        items.push(Item::Any);
                        i += 1;
                    }
                    '\\' => {
                        items.push(Item::Char(*p.get(i + 1)?));
                        i += 2;
                    }
                    '[' => items.push(class(&p, &mut i)?),
                    c => {
                        items.push(Item::Char(c));
                        i += 1;
                    }
                }
            }
            chunks.push(Chunk { star, items });
        }
        Some(Glob { chunks })
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        self.matching_ends(&t).contains(&t.len())
    }

    /// The lengths in bytes of the non-empty prefixes of `text` that match,
    /// shortest first, all found in one pass.
    pub fn matching_prefixes(&self, text: &str) -> Vec<usize> {
        let t: Vec<char> = text.chars().collect();
        let offsets: Vec<usize> =
            text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
        self.matching_ends(&t).into_iter().filter(|&e| e > 0).map(|e| offsets[e]).collect()
    }

    /// The ends (in characters, ascending) of the prefixes of `t` the glob
    /// matches. Every chunk but the last is taken where it first matches,
    /// which is where it matches in any prefix long enough to hold it; the
    /// last must end the prefix.
    fn matching_ends(&self, t: &[char]) -> Vec<usize> {
        let Some((last, rest)) = self.chunks.split_last() else {
            return vec![0];
        };
        let mut pos = 0;
        for chunk in rest {
            match (pos..=reach(t, pos, chunk.star)).find(|&q| chunk_at(&chunk.items, t, q)) {
                Some(q) => pos = q + chunk.items.len(),
                None => return Vec::new(),
            }
        }
        let limit = reach(t, pos, last.star);
        if last.items.is_empty() {
            // A trailing star: any run without `/`.
            return (pos..=limit).collect();
        }
        let len = last.items.len();
        (pos..=limit).filter(|&q| chunk_at(&last.items, t, q)).map(|q| q + len).collect()
    }
}

/// The last place a chunk may start at from `pos`: `pos` itself without a
/// star, else up to the first `/` (a star cannot cross it) or the end.
fn reach(t: &[char], pos: usize, star: bool) -> usize {
    if !star {
        return pos;
    }
    t[pos..].iter().position(|&c| c == '/').map_or(t.len(), |n| pos + n)
}

/// Whether `items` match `t` from `at`.
fn chunk_at(items: &[Item], t: &[char], at: usize) -> bool {
    t.get(at..at + items.len())
        .is_some_and(|s| items.iter().zip(s).all(|(item, &c)| item.matches(c)))
}

/// `[...]` at `p[*i]`, leaving `*i` after its `]`.
fn class(p: &[char], i: &mut usize) -> Option<Item> {
    // One class element: a character (escaped with `\`); a bare `-` or `]`
    // there is malformed, as in Go.
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
    *i += 1;
    let negated = p.get(*i) == Some(&'^');
    if negated {
        *i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if p.get(*i)? == &']' && !ranges.is_empty() {
            *i += 1;
            return Some(Item::Class { negated, ranges });
        }
        let lo = element(p, i)?;
        let hi = if p.get(*i) == Some(&'-') {
            *i += 1;
            element(p, i)?
        } else {
            lo
        };
        ranges.push((lo, hi));
    }
}

/// Whether `text` matches the glob `pattern`; `None` when the pattern is malformed.
pub fn matches(pattern: &str, text: &str) -> Option<bool> {
    Some(Glob::new(pattern)?.matches(text))
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
            ("*/", "path/", Some(true)),
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
            // As Go's `path.Match`: `*` and `?` never match `/`, a class may.
            ("*", "a/b", Some(false)),
            ("a*", "a/b", Some(false)),
            ("*/*", "a/b", Some(true)),
            ("a/*", "a/b/c", Some(false)),
            ("*/", "a/b/", Some(false)),
            ("?", "/", Some(false)),
            ("a?b", "a/b", Some(false)),
            ("[/]", "/", Some(true)),
            ("[^a]", "/", Some(true)),
            ("*b*", "ab/cb", Some(false)),
            ("*[*]", "a*", Some(true)),
            ("*a*b", "xaxb", Some(true)),
            ("*ab", "aab", Some(true)),
            ("*.*", "a.b.c", Some(true)),
            ("", "", Some(true)),
            ("", "a", Some(false)),
            // A malformed class after a star is found whatever the text.
            ("*x[", "y", None),
            // Many stars against a long run that fails at its end: Go's
            // chunk-at-a-time reading answers at once, where trying every
            // split of the run between the stars does not end.
            (
                "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
                Some(false),
            ),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), *want, "{pattern} {text}");
        }
    }

    #[test]
    fn finds_the_matching_prefixes() {
        let cases: &[(&str, &str, &[usize])] = &[
            ("*/", "foo/bar/baz", &[4]),
            ("*", "foo/bar", &[1, 2, 3]),
            ("f?o", "foo/bar", &[3]),
            ("*o", "foo/bar", &[2, 3]),
            ("*/*", "a/b/c", &[2, 3]),
            ("*.", "été.x", &[6]),
            ("x", "abc", &[]),
        ];
        for (pattern, text, want) in cases {
            let glob = Glob::new(pattern).unwrap();
            assert_eq!(glob.matching_prefixes(text), *want, "{pattern} {text}");
        }
    }
}
