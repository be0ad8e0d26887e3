//! Go's `strconv` number parsing with base 0 (prefixes `0x`, `0o`, `0b`, a leading `0` for octal, `_` separators), as template literals and Sprig's conversions read numbers.

/// Whether the underscores in `s` sit only between digits (or right after a
/// base prefix), as Go's number syntax requires.
fn underscores_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    // '^' start, '0' digit or prefix, '_' underscore, '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)`: no sign allowed.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || (s.contains('_') && !underscores_ok(s)) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if lower.len() >= 3 && lower.starts_with("0x") {
        (16, &lower[2..])
    } else if lower.len() >= 3 && lower.starts_with("0o") {
        (8, &lower[2..])
    } else if lower.len() >= 3 && lower.starts_with("0b") {
        (2, &lower[2..])
    } else if let Some(rest) = lower.strip_prefix('0') {
        (8, rest)
    } else {
        (10, lower.as_str())
    };
    let digits = digits.replace('_', "");
    if digits.is_empty() {
        return (radix == 8).then_some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Why Go's `strconv.Atoi` refuses a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtoiError {
    /// Not an optionally signed run of decimal digits.
    Syntax,
    /// Digits that do not fit in 64 bits.
    Range,
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits, nothing else.
/// As Go's `ParseUint` does, the digits are read left to right and the
/// first overflow is a range error even when a character that is not a
/// digit follows (`"99999999999999999999x"` is out of range, not bad syntax).
pub(crate) fn atoi(s: &str) -> Result<i64, AtoiError> {
    let neg = s.starts_with('-');
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() {
        return Err(AtoiError::Syntax);
    }
    let mut n: u64 = 0;
    let mut overflow = false;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(AtoiError::Syntax);
        }
        match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(b - b'0'))) {
            Some(next) => n = next,
            None => {
                overflow = true;
                break;
            }
        }
    }
    match (overflow, neg) {
        (false, false) => i64::try_from(n).map_err(|_| AtoiError::Range),
        (false, true) if n == 1 << 63 => Ok(i64::MIN),
        (false, true) => i64::try_from(n).map(|n| -n).map_err(|_| AtoiError::Range),
        (true, _) => Err(AtoiError::Range),
    }
}

/// `strconv.ParseInt(s, 0, 64)`: an optional sign, then [`parse_uint`]'s syntax.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = i128::from(parse_uint(body)?);
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

/// `strconv.ParseFloat(s, 64)` for finite results: decimal and hexadecimal
/// (`0x1.8p3`, whose `p` exponent is required) forms with `_` separators,
/// and `inf`/`nan` spellings. Out-of-range values are `None`, as Go reports
/// them with an error.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    let clean = s.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let magnitude = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
        if !special && !body.bytes().all(|c| c.is_ascii_digit() || b".eE+-".contains(&c)) {
            return None;
        }
        let v = body.parse::<f64>().ok()?;
        if v.is_infinite() && !special {
            return None;
        }
        v
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// The value of hexadecimal mantissa digits with an optional point and a `p` exponent.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = s.split_once('p')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut m: u128 = 0;
    let mut shift: i32 = 0;
    for (i, c) in int.chars().chain(frac.chars()).enumerate() {
        let d = c.to_digit(16)?;
        if m >> 120 == 0 {
            m = m << 4 | u128::from(d);
            if i >= int.len() {
                shift -= 4;
            }
        } else if i < int.len() {
            // Digits beyond u128's reach only scale the value.
            shift += 4;
        }
    }
    let v = (m as f64) * 2f64.powi(exp.checked_add(shift)?);
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_as_go() {
        use AtoiError::{Range, Syntax};
        for (text, want) in [
            ("42", Ok(42)),
            ("+7", Ok(7)),
            ("-0012", Ok(-12)),
            ("9223372036854775807", Ok(i64::MAX)),
            ("-9223372036854775808", Ok(i64::MIN)),
            ("9223372036854775808", Err(Range)),
            ("602214076000000000000000.000000", Err(Range)),
            ("-99999999999999999999-x", Err(Range)),
            ("9223372036854775808.5", Err(Syntax)),
            ("", Err(Syntax)),
            ("-", Err(Syntax)),
            ("1_000", Err(Syntax)),
            ("0x10", Err(Syntax)),
            (" 1", Err(Syntax)),
            ("1.5", Err(Syntax)),
        ] {
            assert_eq!(atoi(text), want, "{text:?}");
        }
    }

    #[test]
    fn unsigned_integers() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("42", Some(42)),
            ("0x1F", Some(31)),
            ("0X1f", Some(31)),
            ("0o17", Some(15)),
            ("017", Some(15)),
            ("0b101", Some(5)),
            ("1_000", Some(1000)),
            ("0x_1F", Some(31)),
            ("1_", None),
            ("1__0", None),
            ("_1", None),
            ("09", None),
            ("0x", None),
            ("-1", None),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_uint(input), *want, "{input}");
        }
    }

    #[test]
    fn signed_integers() {
        let cases: &[(&str, Option<i64>)] = &[
            ("-0x10", Some(-16)),
            ("+7", Some(7)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("1.5", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_int(input), *want, "{input}");
        }
    }

    #[test]
    fn floats() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1.5", Some(1.5)),
            ("1e3", Some(1000.0)),
            (".5", Some(0.5)),
            ("3.", Some(3.0)),
            ("0_0_1_2_3.4", Some(123.4)),
            ("1_000.5", Some(1000.5)),
            ("+0x1.ep+2", Some(7.5)),
            ("0x_1.e_0p+0_2", Some(7.5)),
            ("0X1.EP+2", Some(7.5)),
            ("0x1p-2", Some(0.25)),
            ("0x1.8", None),
            ("1e400", None),
            ("1e", None),
            ("inf", Some(f64::INFINITY)),
            ("1_", None),
            ("0x10", None),
            ("abc", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_float(input), *want, "{input}");
        }
    }
}
