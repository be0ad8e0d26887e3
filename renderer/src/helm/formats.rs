//! The `format` checks of Helm 4's schema validator (santhosh-tekuri/jsonschema v6) that differ from the Rust validator's, with the validator's reasons.

/// The formats checked here; the Rust validator keeps the others.
pub(super) const NAMES: &[&str] = &[
    "hostname",
    "email",
    "ipv4",
    "ipv6",
    "date",
    "date-time",
    "uuid",
    "duration",
    "json-pointer",
    "relative-json-pointer",
    "time",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "regex",
];

/// Checks `s` against `format` as Helm does: `None` for a format not
/// checked here, else `Ok` or the reason Helm gives (`label starts with
/// hyphen`).
pub(super) fn check(format: &str, s: &str) -> Option<Result<(), String>> {
    Some(match format {
        "hostname" => hostname(s),
        "email" => email(s),
        "ipv4" => ipv4(s),
        "ipv6" => ipv6(s),
        "date" => date(s),
        "date-time" => date_time(s),
        "uuid" => uuid(s),
        "duration" => duration(s),
        "json-pointer" => json_pointer(s),
        "relative-json-pointer" => relative_json_pointer(s),
        "time" => time(s),
        "uri" | "iri" => uri(s, false),
        "uri-reference" | "iri-reference" => uri(s, true),
        "regex" => crate::gotmpl::sprig::regex::compile(s).map(|_| ()),
        _ => return None,
    })
}

/// A character as Go's `%q` prints a rune.
fn rune(c: char) -> String {
    match c {
        '\'' => "'\\''".into(),
        '\\' => "'\\\\'".into(),
        '\n' => "'\\n'".into(),
        '\t' => "'\\t'".into(),
        '\r' => "'\\r'".into(),
        c if (c as u32) < 0x20 || c == '\u{7f}' => format!("'\\x{:02x}'", c as u32),
        c if c.is_control() => format!("'\\u{:04x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits that fit 64 bits.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let quoted = crate::gotmpl::fmt::quote(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {quoted}: invalid syntax"));
    }
    let n: i64 =
        s.parse().map_err(|_| format!("strconv.Atoi: parsing {quoted}: value out of range"))?;
    Ok(n)
}

fn hostname(s: &str) -> Result<(), String> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() > 253 {
        return Err("more than 253 characters long".into());
    }
    for label in s.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("label must be 1 to 63 characters long".into());
        }
        if label.starts_with('-') {
            return Err("label starts with hyphen".into());
        }
        if label.ends_with('-') {
            return Err("label ends with hyphen".into());
        }
        if let Some(c) = label.chars().find(|c| !c.is_ascii_alphanumeric() && *c != '-') {
            return Err(format!("invalid character {}", rune(c)));
        }
    }
    Ok(())
}

fn email(s: &str) -> Result<(), String> {
    if s.len() > 254 {
        return Err("more than 255 characters long".into());
    }
    let Some(at) = s.rfind('@') else {
        return Err("missing @".into());
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.len() > 64 {
        return Err("local part more than 64 characters long".into());
    }
    if local.len() > 1 && local.starts_with('"') && local.ends_with('"') {
        if local[1..local.len() - 1].contains(['\\', '"']) {
            return Err("backslash and quote are not allowed within quoted local part".into());
        }
    } else {
        if local.starts_with('.') {
            return Err("starts with dot".into());
        }
        if local.ends_with('.') {
            return Err("ends with dot".into());
        }
        if local.contains("..") {
            return Err("consecutive dots".into());
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".!#$%&'*+-/=?^_`{|}~".contains(c);
        if let Some(c) = local.chars().find(|c| !allowed(*c)) {
            return Err(format!("invalid character {}", rune(c)));
        }
    }
    if let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        if let Some(v6) = inner.strip_prefix("IPv6:") {
            return ipv6(v6).map_err(|e| format!("invalid ipv6 address: {e}"));
        }
        return ipv4(inner).map_err(|e| format!("invalid ipv4 address: {e}"));
    }
    hostname(domain).map_err(|e| format!("invalid domain: {e}"))
}

fn ipv4(s: &str) -> Result<(), String> {
    let groups: Vec<&str> = s.split('.').collect();
    if groups.len() != 4 {
        return Err("expected four decimals".into());
    }
    for group in groups {
        if group.len() > 1 && group.starts_with('0') {
            return Err("leading zeros".into());
        }
        let n = atoi(group)?;
        if !(0..=255).contains(&n) {
            return Err("decimal must be between 0 and 255".into());
        }
    }
    Ok(())
}

/// An IPv6 address without a zone. Go's parser words its reasons its own
/// way; only whether an address is accepted, and the validator's own
/// reasons, are Helm's here.
fn ipv6(s: &str) -> Result<(), String> {
    if !s.contains(':') {
        return Err("missing colon".into());
    }
    let zone = parse_addr(s).map_err(|e| e.message(s))?;
    if zone.is_empty() { Ok(()) } else { Err("zone id is not a part of ipv6 address".into()) }
}

/// A failure of Go's `netip.ParseAddr`: what is wrong and, for most
/// failures, the rest of the input where it was found.
struct AddrError {
    msg: &'static str,
    at: Option<String>,
}

impl AddrError {
    fn new(msg: &'static str, at: Option<&str>) -> AddrError {
        AddrError { msg, at: at.map(str::to_string) }
    }

    /// The error text Go prints: `ParseAddr("in"): msg (at "rest")`.
    fn message(&self, input: &str) -> String {
        let q = crate::gotmpl::fmt::quote;
        match &self.at {
            Some(at) if !at.is_empty() => {
                format!("ParseAddr({}): {} (at {})", q(input), self.msg, q(at))
            }
            _ => format!("ParseAddr({}): {}", q(input), self.msg),
        }
    }
}

/// Go's `netip.ParseAddr`: the first `.`, `:` or `%` decides how the
/// address is read. Returns the zone of an IPv6 address (empty without one).
fn parse_addr(s: &str) -> Result<&str, AddrError> {
    match s.bytes().find(|b| matches!(b, b'.' | b':' | b'%')) {
        Some(b'.') => ipv4_fields(s, 0, s.len()).map(|_| ""),
        Some(b':') => parse_ipv6(s),
        Some(_) => Err(AddrError::new("missing IPv6 address", None)),
        None => Err(AddrError::new("unable to parse IP", None)),
    }
}

/// The dotted IPv4 part `in[off..end]` as netip reads it.
fn ipv4_fields(input: &str, off: usize, end: usize) -> Result<(), AddrError> {
    let s = &input.as_bytes()[off..end];
    let rest = |i: usize| Some(&input[off + i..end]);
    let (mut val, mut pos, mut digits) = (0u32, 0, 0);
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && val == 0 {
                    return Err(AddrError::new("IPv4 field has octet with leading zero", None));
                }
                val = val * 10 + u32::from(c - b'0');
                digits += 1;
                if val > 255 {
                    return Err(AddrError::new("IPv4 field has value >255", None));
                }
            }
            b'.' => {
                if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' {
                    return Err(AddrError::new("IPv4 field must have at least one digit", rest(i)));
                }
                if pos == 3 {
                    return Err(AddrError::new("IPv4 address too long", None));
                }
                pos += 1;
                val = 0;
                digits = 0;
            }
            _ => return Err(AddrError::new("unexpected character", rest(i))),
        }
    }
    if pos < 3 {
        return Err(AddrError::new("IPv4 address too short", None));
    }
    Ok(())
}

/// netip's IPv6 reader, with its errors; returns the zone.
fn parse_ipv6(input: &str) -> Result<&str, AddrError> {
    let (mut s, zone) = match input.split_once('%') {
        Some((_, "")) => return Err(AddrError::new("zone must be a non-empty string", None)),
        Some((a, z)) => (a, z),
        None => (input, ""),
    };
    let mut ellipsis: Option<usize> = None;
    if let Some(rest) = s.strip_prefix("::") {
        ellipsis = Some(0);
        s = rest;
        if s.is_empty() {
            return Ok(zone);
        }
    }
    let mut i = 0;
    while i < 16 {
        let bytes = s.as_bytes();
        let mut off = 0;
        let mut acc: u32 = 0;
        while off < bytes.len() {
            let Some(d) = (bytes[off] as char).to_digit(16) else { break };
            acc = (acc << 4) + d;
            if off > 3 {
                return Err(AddrError::new("each group must have 4 or less digits", Some(s)));
            }
            if acc > 0xffff {
                return Err(AddrError::new("IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            return Err(AddrError::new(
                "each colon-separated field must have at least one digit",
                Some(s),
            ));
        }
        if bytes.get(off) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                return Err(AddrError::new(
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    Some(s),
                ));
            }
            if i + 4 > 16 {
                return Err(AddrError::new(
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    Some(s),
                ));
            }
            let end = input.len() - if zone.is_empty() { 0 } else { zone.len() + 1 };
            ipv4_fields(input, end - s.len(), end)?;
            s = "";
            i += 4;
            break;
        }
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if !s.starts_with(':') {
            return Err(AddrError::new("unexpected character, want colon", Some(s)));
        } else if s.len() == 1 {
            return Err(AddrError::new("colon must be followed by more characters", Some(s)));
        }
        s = &s[1..];
        if s.starts_with(':') {
            if ellipsis.is_some() {
                return Err(AddrError::new("multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(AddrError::new("trailing garbage after address", Some(s)));
    }
    if i < 16 && ellipsis.is_none() {
        return Err(AddrError::new("address string too short", None));
    }
    if i >= 16 && ellipsis.is_some() {
        return Err(AddrError::new("the :: must expand to at least one field of zeros", Some(s)));
    }
    Ok(zone)
}

/// A full date as Go's `time.Parse("2006-01-02", s)` reads it, with its errors.
fn date(s: &str) -> Result<(), String> {
    crate::gotmpl::sprig::check_time("2006-01-02", s)
}

fn date_time(s: &str) -> Result<(), String> {
    if s.len() < 20 {
        return Err("less than 20 characters long".into());
    }
    if !matches!(s.as_bytes()[10], b't' | b'T') {
        return Err("11th character must be t or T".into());
    }
    let (day, clock) = (s.get(..10), s.get(11..));
    date(day.unwrap_or_default()).map_err(|e| format!("invalid date element: {e}"))?;
    time(clock.unwrap_or_default()).map_err(|e| format!("invalid time element: {e}"))
}

fn uuid(s: &str) -> Result<(), String> {
    const LENGTHS: [usize; 5] = [8, 4, 4, 4, 12];
    let groups: Vec<&str> = s.split('-').collect();
    if groups.len() != LENGTHS.len() {
        return Err(format!("must have {} elements", LENGTHS.len()));
    }
    for (i, (group, want)) in groups.iter().zip(LENGTHS).enumerate() {
        if group.len() != want {
            return Err(format!("element {} must be {want} characters long", i + 1));
        }
        if let Some(c) = group.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("non-hex character {}", rune(c)));
        }
    }
    Ok(())
}

fn duration(s: &str) -> Result<(), String> {
    let Some(s) = s.strip_prefix('P') else {
        return Err("must start with P".into());
    };
    if s.is_empty() {
        return Err("nothing after P".into());
    }
    if let Some(weeks) = s.strip_suffix('W') {
        if weeks.is_empty() {
            return Err("no number in week".into());
        }
        if !weeks.bytes().all(|b| b.is_ascii_digit()) {
            return Err("invalid week".into());
        }
        return Ok(());
    }
    const ALL_UNITS: [&str; 2] = ["YMD", "HMS"];
    for (i, mut part) in s.split('T').enumerate() {
        if i != 0 && part.is_empty() {
            return Err("no time elements".into());
        }
        let Some(all) = ALL_UNITS.get(i) else {
            return Err("more than one T".into());
        };
        let mut units = *all;
        while !part.is_empty() {
            let digits = part.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err("missing number".into());
            }
            part = &part[digits..];
            let Some(unit) = part.chars().next() else {
                return Err("missing unit".into());
            };
            match units.find(unit) {
                Some(j) => units = &units[j + unit.len_utf8()..],
                None if all.contains(unit) => {
                    return Err(format!("unit {} out of order", byte_rune(part)));
                }
                None => return Err(format!("invalid unit {}", byte_rune(part))),
            }
            part = &part[unit.len_utf8()..];
        }
    }
    Ok(())
}

/// The first byte of `s` as Go's `%q` prints a byte (a rune of that value).
fn byte_rune(s: &str) -> String {
    s.bytes().next().map_or_else(String::new, |b| rune(char::from(b)))
}

fn json_pointer(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let Some(rest) = s.strip_prefix('/') else {
        return Err("not starting with /".into());
    };
    for token in rest.split('/') {
        let mut escape = false;
        for c in token.chars() {
            if escape {
                escape = false;
                if c != '0' && c != '1' {
                    return Err("~ must be followed by 0 or 1".into());
                }
            } else if c == '~' {
                escape = true;
            }
        }
        if escape {
            return Err("~ must be followed by 0 or 1".into());
        }
    }
    Ok(())
}

fn relative_json_pointer(s: &str) -> Result<(), String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err("must start with non-negative integer".into());
    }
    if digits > 1 && s.starts_with('0') {
        return Err("starts with zero".into());
    }
    match &s[digits..] {
        "#" => Ok(()),
        rest => json_pointer(rest),
    }
}

fn time(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if b.len() < 9 {
        return Err("less than 9 characters long".into());
    }
    if b[2] != b':' || b[5] != b':' {
        return Err("missing colon in correct place".into());
    }
    let head = s.get(..8).ok_or("invalid hour/min/sec")?;
    let mut hms = Vec::new();
    for token in head.splitn(3, ':') {
        let n = atoi(token).map_err(|_| "invalid hour/min/sec".to_string())?;
        if n < 0 {
            return Err("non-positive hour/min/sec".into());
        }
        hms.push(n);
    }
    let (mut h, mut m, sec) = (hms[0], hms[1], hms[2]);
    if h > 23 || m > 59 || sec > 60 {
        return Err("hour/min/sec out of range".into());
    }
    let mut rest = &s[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("no digits in second fraction".into());
        }
        rest = &frac[digits..];
    }
    if rest != "z" && rest != "Z" {
        if rest.len() != 6 {
            return Err("offset must be 6 characters long".into());
        }
        let sign = match rest.as_bytes()[0] {
            b'+' => -1,
            b'-' => 1,
            _ => return Err("offset must begin with plus/minus".into()),
        };
        let offset = &rest[1..];
        if offset.as_bytes().get(2) != Some(&b':') {
            return Err("missing colon in offset in correct place".into());
        }
        let mut zhm = Vec::new();
        for token in offset.splitn(2, ':') {
            let n = atoi(token).map_err(|_| "invalid hour/min in offset".to_string())?;
            if n < 0 {
                return Err("non-positive hour/min in offset".into());
            }
            zhm.push(n);
        }
        if zhm[0] > 23 || zhm[1] > 59 {
            return Err("hour/min in offset out of range".into());
        }
        let mut hm = (h * 60 + m) + sign * (zhm[0] * 60 + zhm[1]);
        if hm < 0 {
            hm += 24 * 60;
        }
        (h, m) = (hm / 60, hm % 60);
    }
    if sec >= 60 && (h != 23 || m != 59) {
        return Err("invalid leap second".into());
    }
    Ok(())
}

/// A URI as Go's `url.Parse` accepts it, absolute unless `reference`, with
/// the validator's check of IPv6 hosts.
fn uri(s: &str, reference: bool) -> Result<(), String> {
    let (scheme, host) = go_url_parse(s)?;
    let hostname = match host.strip_prefix('[') {
        Some(inner) => inner.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h),
    };
    if hostname.contains(':') {
        if !host.contains('[') || !host.contains(']') {
            return Err("ipv6 address not enclosed in brackets".into());
        }
        ipv6(hostname).map_err(|e| format!("invalid ipv6 address: {e}"))?;
    }
    if !reference && scheme.is_empty() {
        return Err("relative url".into());
    }
    Ok(())
}

/// The scheme and host of `raw` as Go's `url.Parse` finds them, or its
/// error (`parse "x": ...`).
fn go_url_parse(raw: &str) -> Result<(String, String), String> {
    let quote = crate::gotmpl::fmt::quote;
    let (before, fragment) = raw.split_once('#').map_or((raw, None), |(u, f)| (u, Some(f)));
    let fail = |e: String| format!("parse {}: {e}", quote(before));
    if before.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(fail("net/url: invalid control character in URL".into()));
    }
    // The scheme: letters, then letters, digits, `+-.`, up to a colon.
    let mut scheme = "";
    let mut rest = before;
    for (i, c) in before.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err(fail("missing protocol scheme".into())),
            b':' => {
                (scheme, rest) = (&before[..i], &before[i + 1..]);
                break;
            }
            _ => break,
        }
    }
    let rest = match rest.strip_suffix('?') {
        Some(r) if rest.matches('?').count() == 1 => r,
        _ => rest.split('?').next().unwrap_or_default(),
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            return Ok((scheme.to_string(), String::new()));
        }
        if rest.split('/').next().is_some_and(|segment| segment.contains(':')) {
            return Err(fail("first path segment in URL cannot contain colon".into()));
        }
    }
    let mut host = String::new();
    let mut path = rest;
    if (!scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority = &rest[2..];
        let (auth, p) = authority.find('/').map_or((authority, ""), |i| authority.split_at(i));
        path = p;
        let (userinfo, h) = auth.rsplit_once('@').map_or((None, auth), |(u, h)| (Some(u), h));
        go_url_host(h).map_err(fail)?;
        if let Some(u) = userinfo {
            let valid = |c: char| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c);
            if !u.chars().all(valid) {
                return Err(fail("net/url: invalid userinfo".into()));
            }
            go_unescape(u, false).map_err(fail)?;
        }
        host = h.to_string();
    }
    go_unescape(path, false).map_err(fail)?;
    if let Some(f) = fragment {
        go_unescape(f, false).map_err(|e| format!("parse {}: {e}", quote(raw)))?;
    }
    Ok((scheme.to_string(), host))
}

/// Go's check of a URL host (`parseHost`): a port of digits after the
/// host, and only the characters a host may hold.
fn go_url_host(host: &str) -> Result<(), String> {
    let valid_port = |p: &str| {
        p.is_empty() || p.strip_prefix(':').is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    let port_error = |p: &str| format!("invalid port {} after host", crate::gotmpl::fmt::quote(p));
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        if !valid_port(&host[i + 1..]) {
            return Err(port_error(&host[i + 1..]));
        }
        return match host[..i].find("%25") {
            Some(zone) => {
                go_unescape(&host[..zone], true)?;
                go_unescape(&host[i..], true)
            }
            None => go_unescape(host, true),
        };
    }
    // Go takes the port from the first colon, so `::1` without brackets
    // has the port `::1`.
    if let Some(i) = host.find(':')
        && !valid_port(&host[i..])
    {
        return Err(port_error(&host[i..]));
    }
    go_unescape(host, true)
}

/// Go's `unescape` check: `%` starts two hex digits (in a host, only for
/// bytes from 0x80 or `%25`), and a host holds no character Go would escape.
fn go_unescape(s: &str, host: bool) -> Result<(), String> {
    let quote = crate::gotmpl::fmt::quote;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !hex(i + 1) || !hex(i + 2) {
                let end = (i + 3).min(b.len());
                return Err(format!(
                    "invalid URL escape {}",
                    quote(&String::from_utf8_lossy(&b[i..end]))
                ));
            }
            if host && b[i + 1] < b'8' && &b[i..i + 3] != b"%25" {
                return Err(format!("invalid URL escape {}", quote(&s[i..i + 3])));
            }
            i += 3;
            continue;
        }
        let c = b[i];
        let allowed = c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c);
        if host && c < 0x80 && !allowed {
            return Err(format!("invalid character {} in host name", quote(&s[i..i + 1])));
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn formats_match_helms_validator() {
        // (format, value, Helm's reason or "" when valid); the reasons were
        // recorded from helm-template.
        let cases = [
            ("hostname", "example.com.", ""),
            ("hostname", "a_b.com", "invalid character '_'"),
            ("hostname", "-a.com", "label starts with hyphen"),
            ("hostname", "a..b", "label must be 1 to 63 characters long"),
            ("email", "a.b+c@d-e.fg", ""),
            ("email", "\"quoted\"@x.io", ""),
            ("email", "user@[127.0.0.1]", ""),
            ("email", "no-at", "missing @"),
            ("email", "a@@b", "invalid character '@'"),
            ("email", "\u{fc}@x.de", "invalid character '\u{fc}'"),
            ("email", "a@-b.com", "invalid domain: label starts with hyphen"),
            ("ipv4", "1.2.3.4", ""),
            ("ipv4", "01.2.3.4", "leading zeros"),
            ("ipv4", "256.1.1.1", "decimal must be between 0 and 255"),
            ("ipv4", "1.2.3", "expected four decimals"),
            ("ipv4", " 1.2.3.4", "strconv.Atoi: parsing \" 1\": invalid syntax"),
            ("uuid", "123E4567-E89B-12D3-A456-426614174000", ""),
            ("uuid", "123e4567e89b12d3a456426614174000", "must have 5 elements"),
            ("duration", "P1W", ""),
            ("duration", "PT1H", ""),
            ("duration", "1h", "must start with P"),
            ("duration", "P", "nothing after P"),
            ("json-pointer", "a", "not starting with /"),
            ("json-pointer", "/a~2", "~ must be followed by 0 or 1"),
            ("time", "03:04:05Z", ""),
            ("time", "03:04:05+01:00", ""),
            ("time", "03:04:05", "less than 9 characters long"),
            ("ipv6", "::ffff:1.2.3.4", ""),
            ("ipv6", "1.2.3.4", "missing colon"),
            ("ipv6", "fe80::1%eth0", "zone id is not a part of ipv6 address"),
            ("date", "2024-02-29", ""),
            ("date", "2024-02-30", "parsing time \"2024-02-30\": day out of range"),
            (
                "date",
                "2024-1-2",
                "parsing time \"2024-1-2\" as \"2006-01-02\": cannot parse \"1-2\" as \"01\"",
            ),
            (
                "date",
                "+999-01-01",
                "parsing time \"+999-01-01\" as \"2006-01-02\": cannot parse \"+999-01-01\" as \"2006\"",
            ),
            (
                "date",
                "20\u{e9}3-01-01",
                "parsing time \"20\\xc3\\xa93-01-01\" as \"2006-01-02\": cannot parse \"20\\xc3\\xa93-01-01\" as \"2006\"",
            ),
            ("date-time", "2024-01-02t03:04:05.123+02:00", ""),
            ("uri", "https://x.io/a?b#c", ""),
            ("uri", "urn:isbn:123", ""),
            ("uri", "http://[::1]:80", ""),
            ("uri", "x", "relative url"),
            (
                "uri",
                "http://exa mple.com",
                "parse \"http://exa mple.com\": invalid character \" \" in host name",
            ),
            ("uri", "http://::1/", "parse \"http://::1/\": invalid port \"::1\" after host"),
            ("uri-reference", "a b", ""),
            ("uri-reference", "#frag", ""),
            ("regex", "(?P<n>x)", ""),
            ("regex", "[", "error parsing regexp: missing closing ]: `[`"),
            ("date-time", "2024-01-02 03:04:05Z", "11th character must be t or T"),
            (
                "date-time",
                "2024-01-02T24:00:00Z",
                "invalid time element: hour/min/sec out of range",
            ),
        ];
        for (format, value, want) in cases {
            let got = check(format, value).expect("a format checked here");
            assert_eq!(got.err().unwrap_or_default(), want, "{format} {value:?}");
        }
        assert_eq!(check("semver", "x"), None);
    }
}
