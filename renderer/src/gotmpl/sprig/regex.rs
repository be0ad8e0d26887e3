//! Sprig's regular-expression functions, on the `regex` crate (RE2 syntax, like Go's `regexp`).

use super::{def, i, s, str_list};
use crate::gotmpl::{Funcs, Param, Value};

use Param::{Int, String as Str};

fn compile(re: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(re).map_err(|e| format!("error parsing regexp: {e}"))
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "regexMatch", &[Str, Str], None, |a| {
        Ok(compile(s(&a[0])).is_ok_and(|r| r.is_match(s(&a[1]))).into())
    });
    def(f, "mustRegexMatch", &[Str, Str], None, |a| {
        Ok(compile(s(&a[0]))?.is_match(s(&a[1])).into())
    });
    for name in ["regexFind", "mustRegexFind"] {
        def(f, name, &[Str, Str], None, |a| {
            Ok(compile(s(&a[0]))?.find(s(&a[1])).map_or("", |m| m.as_str()).into())
        });
    }
    for name in ["regexFindAll", "mustRegexFindAll"] {
        def(f, name, &[Str, Str, Int], None, |a| {
            let r = compile(s(&a[0]))?;
            let n = i(&a[2]);
            let limit = if n < 0 { usize::MAX } else { n as usize };
            Ok(str_list(
                r.find_iter(s(&a[1])).take(limit).map(|m| m.as_str().to_string()).collect(),
            ))
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        def(f, name, &[Str, Str, Str], None, |a| {
            Ok(compile(s(&a[0]))?.replace_all(s(&a[1]), s(&a[2])).into_owned().into())
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        def(f, name, &[Str, Str, Str], None, |a| {
            Ok(compile(s(&a[0]))?
                .replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
                .into_owned()
                .into())
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        def(f, name, &[Str, Str, Int], None, |a| {
            Ok(split(&compile(s(&a[0]))?, s(&a[1]), i(&a[2])))
        });
    }
    def(f, "regexQuoteMeta", &[Str], None, |a| {
        // Go's `regexp.QuoteMeta` escapes exactly these.
        let mut out = String::new();
        for c in s(&a[0]).chars() {
            if r"\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(out.into())
    });
}

/// Go's `Regexp.Split`.
fn split(r: &regex::Regex, text: &str, n: i64) -> Value {
    if n == 0 {
        return Value::Nil;
    }
    if !r.as_str().is_empty() && text.is_empty() {
        return str_list(vec![String::new()]);
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in r.find_iter(text).take(limit) {
        if n > 0 && parts.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(text[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != text.len() {
        parts.push(text[beg..].to_string());
    }
    str_list(parts)
}
