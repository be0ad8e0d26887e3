//! Sprig's urlParse and urlJoin, with the parsing and escaping rules of Go's `net/url`.

use std::collections::BTreeMap;

use super::{def, s};
use crate::gotmpl::fmt::quote;
use crate::gotmpl::{Funcs, Param, Value};

pub(super) fn register(f: &mut Funcs) {
    def(f, "urlParse", &[Param::String], None, |a| {
        let raw = s(&a[0]);
        let u = parse(raw).map_err(|e| format!("unable to parse url: {e}"))?;
        let mut m = BTreeMap::new();
        let hostname = u.hostname();
        let userinfo = u.user.as_ref().map(Userinfo::to_text).unwrap_or_default();
        for (k, v) in [
            ("scheme", u.scheme),
            ("host", u.host),
            ("hostname", hostname),
            ("path", u.path),
            ("query", u.raw_query),
            ("opaque", u.opaque),
            ("fragment", u.fragment),
            ("userinfo", userinfo),
        ] {
            m.insert(k.to_string(), Value::from(v));
        }
        Ok(Value::map(m))
    });
    def(f, "urlJoin", &[Param::Map], None, |a| {
        let Value::Map(d) = &a[0] else { return Ok(Value::from("")) };
        let get = |key: &str| -> Result<String, String> {
            match d.get(key) {
                None => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.to_string()),
                // Sprig asks a nil's type for its kind: Go's nil dereference.
                Some(Value::Nil) => {
                    Err("runtime error: invalid memory address or nil pointer dereference".into())
                }
                Some(other) => Err(format!(
                    "unable to parse {key} key, must be of type string, but {} found",
                    other.kind_name()
                )),
            }
        };
        let userinfo = get("userinfo")?;
        let user = if userinfo.is_empty() {
            None
        } else {
            parse(&format!("proto://{userinfo}@host"))
                .map_err(|e| format!("unable to parse userinfo in dict: {e}"))?
                .user
        };
        let u = Url {
            scheme: get("scheme")?,
            host: get("host")?,
            path: get("path")?,
            raw_query: get("query")?,
            opaque: get("opaque")?,
            fragment: get("fragment")?,
            user,
            ..Url::default()
        };
        Ok(Value::from(u.to_text()))
    });
}

/// Go's `url.Userinfo`.
#[derive(Debug, Default, Clone)]
struct Userinfo {
    username: String,
    password: Option<String>,
}

impl Userinfo {
    fn to_text(&self) -> String {
        let mut out = escape(&self.username, Mode::UserPassword);
        if let Some(p) = &self.password {
            out.push(':');
            out.push_str(&escape(p, Mode::UserPassword));
        }
        out
    }
}

/// Go's `url.URL`, the fields Sprig reads.
#[derive(Debug, Default)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<Userinfo>,
    host: String,
    path: String,
    raw_path: String,
    force_query: bool,
    raw_query: String,
    fragment: String,
    raw_fragment: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::QueryComponent => true,
                Mode::Fragment => false,
                Mode::Host | Mode::Zone => true,
            };
        }
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `escape`: percent-encodes the bytes `mode` does not allow (Go's bytes,
/// carried ones included).
fn escape(s: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in super::go_bytes(s).iter() {
        if should_escape(b, mode) {
            if b == b' ' && mode == Mode::QueryComponent {
                out.push('+');
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Go's `unescape`, with its errors.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (Some(h), Some(l)) =
                    (b.get(i + 1).and_then(|c| unhex(*c)), b.get(i + 2).and_then(|c| unhex(*c)))
                else {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {}",
                        quote(&String::from_utf8_lossy(&b[i..end]))
                    ));
                };
                // Only %-encoded UTF-8 and `%25` may stand in a host.
                if mode == Mode::Host && h < 8 && &s[i..i + 3] != "%25" {
                    return Err(format!("invalid URL escape {}", quote(&s[i..i + 3])));
                }
                out.push(h << 4 | l);
                i += 3;
            }
            b'+' => {
                out.push(if mode == Mode::QueryComponent { b' ' } else { b'+' });
                i += 1;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        quote(&char::from(c).to_string())
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    // Go's strings are bytes: an escape that is not UTF-8 stays a byte (carried).
    Ok(super::from_go_bytes(&out))
}

/// Go's `validOptionalPort`.
fn valid_optional_port(port: &str) -> bool {
    port.is_empty() || (port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// Go's `url.Parse`.
/// Go's `url.Parse`; an error reads `parse "URL": why`, where the URL is
/// the part before `#` unless the fragment is what is wrong.
fn parse(raw: &str) -> Result<Url, String> {
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    let mut u = parse_no_fragment(rest).map_err(|e| format!("parse {}: {e}", quote(rest)))?;
    if let Some(frag) = frag {
        u.fragment =
            unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {e}", quote(raw)))?;
        if escape(&u.fragment, Mode::Fragment) != frag {
            u.raw_fragment = frag.to_string();
        }
    }
    Ok(u)
}

fn parse_no_fragment(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut u = Url::default();
    if raw.is_empty() {
        return Ok(u);
    }
    if raw == "*" {
        u.path = "*".into();
        return Ok(u);
    }
    let (scheme, mut rest) = scheme_of(raw)?;
    u.scheme = scheme.to_ascii_lowercase();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        u.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((r, q)) = rest.split_once('?') {
        u.raw_query = q.to_string();
        rest = r;
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest.to_string();
            return Ok(u);
        }
        let segment = rest.split('/').next().unwrap_or_default();
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if rest.starts_with("//") && (!u.scheme.is_empty() || !rest.starts_with("///")) {
        let after = &rest[2..];
        let (authority, path) = match after.find('/') {
            Some(i) => after.split_at(i),
            None => (after, ""),
        };
        let (user, host) = parse_authority(authority)?;
        u.user = user;
        u.host = host;
        rest = path;
    }
    u.path = unescape(rest, Mode::Path)?;
    if escape(&u.path, Mode::Path) != rest {
        u.raw_path = rest.to_string();
    }
    Ok(u)
}

/// Go's `getScheme`.
fn scheme_of(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<Userinfo>, String), String> {
    let Some(at) = authority.rfind('@') else {
        return Ok((None, parse_host(authority)?));
    };
    let host = parse_host(&authority[at + 1..])?;
    let userinfo = &authority[..at];
    let valid =
        userinfo.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b));
    if !valid {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.split_once(':') {
        None => Userinfo { username: unescape(userinfo, Mode::UserPassword)?, password: None },
        Some((name, pass)) => Userinfo {
            username: unescape(name, Mode::UserPassword)?,
            password: Some(unescape(pass, Mode::UserPassword)?),
        },
    };
    Ok((Some(user), host))
}

/// Go's `parseHost`.
fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(end) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[end + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", quote(port)));
        }
        if let Some(zone) = host[..end].find("%25") {
            let h1 = unescape(&host[..zone], Mode::Host)?;
            let h2 = unescape(&host[zone..end], Mode::Zone)?;
            let h3 = unescape(&host[end..], Mode::Host)?;
            return Ok(h1 + &h2 + &h3);
        }
    } else if let Some(colon) = host.rfind(':') {
        let port = &host[colon..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", quote(port)));
        }
    }
    unescape(host, Mode::Host)
}

impl Url {
    /// Go's `URL.Hostname`.
    fn hostname(&self) -> String {
        let mut host = self.host.as_str();
        if let Some(colon) = host.rfind(':')
            && valid_optional_port(&host[colon..])
        {
            host = &host[..colon];
        }
        match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(inner) => inner.to_string(),
            None => host.to_string(),
        }
    }

    /// Go's `URL.String`.
    fn to_text(&self) -> String {
        let mut out = String::new();
        if !self.scheme.is_empty() {
            out.push_str(&self.scheme);
            out.push(':');
        }
        if !self.opaque.is_empty() {
            out.push_str(&self.opaque);
        } else {
            if !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some() {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    out.push_str("//");
                }
                if let Some(user) = &self.user {
                    out.push_str(&user.to_text());
                    out.push('@');
                }
                out.push_str(&escape(&self.host, Mode::Host));
            }
            let path = if !self.raw_path.is_empty() {
                self.raw_path.clone()
            } else if self.path == "*" {
                "*".to_string()
            } else {
                escape(&self.path, Mode::Path)
            };
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                out.push('/');
            }
            if out.is_empty() && path.split('/').next().is_some_and(|seg| seg.contains(':')) {
                out.push_str("./");
            }
            out.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            out.push('?');
            out.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            out.push('#');
            out.push_str(&if self.raw_fragment.is_empty() {
                escape(&self.fragment, Mode::Fragment)
            } else {
                self.raw_fragment.clone()
            });
        }
        out
    }
}
