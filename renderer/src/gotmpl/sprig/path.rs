//! Sprig's slash-path functions on Go's `path` package: base, dir, clean, ext, isAbs.

use super::{def, s};
use crate::gotmpl::{Funcs, Param};

use Param::String as Str;

pub(super) fn register(f: &mut Funcs) {
    def(f, "base", &[Str], None, |a| Ok(base(s(&a[0])).into()));
    def(f, "dir", &[Str], None, |a| Ok(dir(s(&a[0])).into()));
    def(f, "clean", &[Str], None, |a| Ok(clean(s(&a[0])).into()));
    def(f, "ext", &[Str], None, |a| {
        let p = s(&a[0]);
        let tail = &p[p.rfind('/').map_or(0, |i| i + 1)..];
        Ok(tail.rfind('.').map_or("", |i| &tail[i..]).into())
    });
    def(f, "isAbs", &[Str], None, |a| Ok(s(&a[0]).starts_with('/').into()));
}

/// Go's `path.Clean` (kustomize's file path helpers use it too).
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `path.Base`.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed[trimmed.rfind('/').map_or(0, |i| i + 1)..].to_string()
}

/// Go's `path.Dir`.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}
