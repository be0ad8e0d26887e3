//! Go's `fmt` formatting of template values: `Sprint`, `Sprintln`, `Sprintf` and `%v` printing.
//!
//! It reproduces what Go prints byte for byte for the kinds of values a
//! template sees: `%v` of maps (`map[a:1 b:2]`, keys sorted) and slices
//! (`[1 2]`), float64 in shortest form switching to exponents as Go does
//! (`1e+06`), `<nil>`, flags, widths and precisions, and the `%!d(string=x)`
//! notes Go writes for a verb that does not fit its operand.

use super::sprig::{GoRune, go_runes};
use super::value::Value;

/// How long a formatted value may grow before `...` stands for the rest.
const MAX_BYTES: usize = 64 << 20;

/// How deep composite values are printed before `...` stands for the rest
/// (the bound of kiln's deep walks); it also stops a map that contains itself.
const MAX_DEPTH: usize = super::value::MAX_NESTING;

#[derive(Clone, Copy, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(&mut out, a, 'v', &Spec::default());
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: operands printed with `%v`, separated by spaces, ending in a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(&mut out, a, 'v', &Spec::default());
    }
    out.push('\n');
    out
}

/// How a template prints a value: `%v`, except that a missing value is `<no value>`.
pub fn display(v: &Value) -> String {
    if let Value::Missing = v {
        return "<no value>".to_string();
    }
    let mut out = String::new();
    print_arg(&mut out, v, 'v', &Spec::default());
    out
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut arg_num = 0;
    let mut chars = format.char_indices().peekable();
    let mut reordered = false;
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '#' => spec.sharp = true,
                '0' => spec.zero = !spec.minus,
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        // Argument index, width and precision. An index reads as found when
        // its number parses, in range or not; a width or precision number
        // after a found index makes the verb's index bad (`%[2]3d`,
        // `%[2].3d`), and Go then consumes no argument for it.
        let mut bad_index = false;
        let mut take_index = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
                              arg_num: &mut usize|
         -> (bool, bool) {
            if chars.peek().map(|c| c.1) != Some('[') {
                return (false, false);
            }
            reordered = true;
            // Go reads an index from at least three bytes (`[1]`); else, or
            // without a closing bracket, only the `[` is consumed.
            let mut look = chars.clone();
            look.next();
            let rest: String = look.clone().map(|c| c.1).take(2).collect();
            if rest.len() < 2 {
                chars.next();
                return (false, true);
            }
            let mut n = String::new();
            while let Some((_, d)) = look.next() {
                if d == ']' {
                    *chars = look;
                    let digits =
                        !n.is_empty() && n.len() <= 7 && n.bytes().all(|b| b.is_ascii_digit());
                    return match n.parse::<usize>() {
                        Ok(i) if digits && i >= 1 && i <= args.len() => {
                            *arg_num = i - 1;
                            (true, false)
                        }
                        _ => (digits, true),
                    };
                }
                n.push(d);
            }
            chars.next();
            (false, true)
        };
        let (mut after_index, bad) = take_index(&mut chars, &mut arg_num);
        bad_index |= bad;
        if chars.peek().map(|c| c.1) == Some('*') {
            chars.next();
            match args.get(arg_num) {
                Some(w) if let Some(w) = w.as_integer() => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.width = usize::try_from(w.unsigned_abs()).ok().filter(|w| *w <= 1_000_000);
                    if spec.width.is_none() {
                        out.push_str("%!(BADWIDTH)");
                    }
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            arg_num += 1;
            after_index = false;
        } else {
            spec.width = take_number(&mut chars);
            bad_index |= after_index && spec.width.is_some();
        }
        // A `.` is a precision only when something follows it: Go reads a
        // `.` that ends the format as the verb (`%!.(int=1)`).
        if chars.peek().map(|c| c.1) == Some('.') && chars.clone().nth(1).is_some() {
            chars.next();
            bad_index |= after_index;
            let (found, bad) = take_index(&mut chars, &mut arg_num);
            (after_index, bad_index) = (found, bad_index || bad);
            if chars.peek().map(|c| c.1) == Some('*') {
                chars.next();
                match args.get(arg_num) {
                    Some(p)
                        if let Some(p) = p.as_integer()
                            && (0..=1_000_000).contains(&p) =>
                    {
                        spec.prec = Some(p as usize)
                    }
                    _ => out.push_str("%!(BADPREC)"),
                }
                arg_num += 1;
                after_index = false;
            } else {
                spec.prec = Some(take_number(&mut chars).unwrap_or(0));
            }
        }
        if !after_index {
            bad_index |= take_index(&mut chars, &mut arg_num).1;
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if bad_index {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        let Some(arg) = args.get(arg_num) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        arg_num += 1;
        if verb == 'w' {
            // Outside `fmt.Errorf`, `%w` is a bad verb for the whole operand.
            bad_verb(&mut out, arg, verb, &spec);
            continue;
        }
        if verb == 'v' {
            spec.sharp_v = spec.sharp;
            spec.sharp = false;
            spec.plus_v = spec.plus;
            spec.plus = false;
        }
        print_arg(&mut out, arg, verb, &spec);
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[arg_num..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if a.is_nil() {
                out.push_str("<nil>");
            } else {
                out.push_str(&a.type_name());
                out.push('=');
                print_arg(&mut out, a, 'v', &Spec::default());
            }
        }
        out.push(')');
    }
    out
}

fn take_number(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        chars.next();
        n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(v as usize).min(1_000_000));
    }
    n
}

/// Go's `printArg`: a top-level operand.
fn print_arg(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    if v.is_nil() {
        match verb {
            'T' | 'v' => pad(out, "<nil>", spec),
            _ => bad_verb(out, v, verb, spec),
        }
        return;
    }
    if verb == 'T' {
        // Go prints the type name as a string operand: a precision cuts it.
        let t: String = v.type_name().chars().take(spec.prec.unwrap_or(usize::MAX)).collect();
        pad(out, &t, spec);
        return;
    }
    print_value(out, v, verb, spec, 0);
}

fn bad_verb(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if v.is_nil() {
        out.push_str("<nil>");
    } else {
        out.push_str(&v.type_name());
        out.push('=');
        match v {
            // Go calls no `String` method while it reports a bad verb.
            Value::Named(n) => fmt_int(out, v, i128::from(n.value), 'v', spec),
            _ => print_value(out, v, 'v', spec, 0),
        }
    }
    out.push(')');
}

fn print_value(out: &mut String, v: &Value, verb: char, spec: &Spec, depth: usize) {
    // The length bound stops a map that contains itself several times, whose
    // printing would otherwise grow exponentially with the depth.
    if depth > MAX_DEPTH || out.len() > MAX_BYTES {
        out.push_str("...");
        return;
    }
    match v {
        Value::Missing | Value::Nil => {
            if depth == 0 {
                print_arg(out, v, verb, spec);
            } else if spec.sharp_v {
                out.push_str("interface {}(nil)");
            } else {
                out.push_str("<nil>");
            }
        }
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::Int(i) | Value::Int64(i) => fmt_int(out, v, i128::from(*i), verb, spec),
        // Go's `%#v` prints an unsigned integer as `%#x` does, precision and flags included.
        Value::Uint64(_) | Value::Uint8(_) if verb == 'v' && spec.sharp_v => {
            fmt_int(out, v, v.as_integer().unwrap_or(0), 'x', &Spec { sharp: true, ..*spec })
        }
        Value::Uint64(u) => fmt_int(out, v, i128::from(*u), verb, spec),
        Value::Uint8(u) => fmt_int(out, v, i128::from(*u), verb, spec),
        // A named integer is a `fmt.Stringer`: the string verbs print its
        // `String()`, the others (and `%#v`) its number.
        Value::Named(n) if matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') && !spec.sharp_v => {
            let text = n.string();
            fmt_string(out, &Value::from(text.as_str()), &text, verb, spec);
        }
        Value::Named(n) => fmt_int(out, v, i128::from(n.value), verb, spec),
        // A `[]byte` prints as text with the string verbs.
        Value::List(items)
            if matches!(verb, 's' | 'q' | 'x' | 'X')
                && let Some(bytes) = items.as_bytes() =>
        {
            let text = super::sprig::from_go_bytes(&bytes);
            fmt_string(out, v, &text, verb, spec);
        }
        Value::Float(f) => fmt_float_verb(out, v, *f, verb, spec),
        // Go's `fmtComplex`: both parts with the float verb, the imaginary
        // one always signed.
        Value::Complex(re, im) => {
            if !matches!(verb, 'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E') {
                bad_verb(out, v, verb, spec);
                return;
            }
            out.push('(');
            fmt_float_verb(out, v, *re, verb, spec);
            fmt_float_verb(out, v, *im, verb, &Spec { plus: true, ..*spec });
            out.push_str("i)");
        }
        Value::String(s) => fmt_string(out, v, s, verb, spec),
        Value::List(items) => {
            if spec.sharp_v {
                out.push_str(&items.type_name());
                if items.is_nil() {
                    out.push_str("(nil)");
                    return;
                }
                out.push('{');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    print_value(out, item, verb, spec, depth + 1);
                }
                out.push('}');
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                print_value(out, item, verb, spec, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries();
            if spec.sharp_v {
                out.push_str(&v.type_name());
                out.push('{');
            } else {
                out.push_str("map[");
            }
            for (i, (k, val)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                print_value(out, &Value::from(k.as_str()), verb, spec, depth + 1);
                out.push(':');
                print_value(out, val, verb, spec, depth + 1);
            }
            out.push(if spec.sharp_v { '}' } else { ']' });
        }
        Value::Struct(st)
            if st.string.is_some()
                && !st.pointer_string
                && matches!(verb, 'v' | 's' | 'q' | 'x' | 'X')
                && !spec.sharp_v =>
        {
            let text = st.string.as_deref().unwrap_or_default();
            fmt_string(out, &Value::from(text), text, verb, spec);
        }
        // Go's `%#v` prints what a `GoStringer` gives, as `%s` would.
        Value::Struct(st) if spec.sharp_v && verb == 'v' && st.go_syntax.is_some() => {
            let text = st.go_syntax.as_deref().unwrap_or_default();
            let s: String = text.chars().take(spec.prec.unwrap_or(usize::MAX)).collect();
            pad(out, &s, spec);
        }
        Value::Struct(s) if s.as_list().is_some() || s.as_map().is_some() => {
            print_value(out, &v.clone().unwrap_map_type(), verb, spec, depth);
        }
        Value::Struct(s) => {
            if depth == 0 && s.type_name.starts_with('*') {
                out.push('&');
            }
            // `%#v` names the struct type and separates fields with commas.
            if spec.sharp_v {
                out.push_str(s.type_name.trim_start_matches('*'));
            }
            out.push('{');
            for (i, (name, val)) in s.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                if spec.plus_v || spec.sharp_v {
                    out.push_str(name);
                    out.push(':');
                }
                print_value(out, val, verb, spec, depth + 1);
            }
            out.push('}');
        }
        Value::Func(_) => match verb {
            'v' | 'p' => pad(out, "0x0", spec),
            _ => bad_verb(out, v, verb, spec),
        },
    }
}

/// Writes `s` padded to the width with spaces (or zeros), on the left unless `-`.
fn pad(out: &mut String, s: &str, spec: &Spec) {
    pad_with(out, s, spec, if spec.zero { '0' } else { ' ' });
}

fn pad_with(out: &mut String, s: &str, spec: &Spec, fill: char) {
    // Go counts runes: a character carried as bytes is one, a byte that is
    // not UTF-8 is one. Without a width there is nothing to count.
    let width = spec.width.unwrap_or(0);
    let n = if width == 0 { 0 } else { width.saturating_sub(super::sprig::go_runes(s).count()) };
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', n));
    } else {
        out.extend(std::iter::repeat_n(fill, n));
        out.push_str(s);
    }
}

fn fmt_int(out: &mut String, v: &Value, i: i128, verb: char, spec: &Spec) {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            // The character as a Go string holds it (one of the carriers'
            // range as its bytes).
            let mut text = String::new();
            super::sprig::push_char(&mut text, c);
            pad(out, &text, spec);
            return;
        }
        'q' => {
            let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            pad(out, &quote_char(c, spec.plus), spec);
            return;
        }
        'U' => {
            // Go prints the integer's 64 bits as unsigned, with at least
            // four digits or as many as a larger precision asks.
            let digits = spec.prec.filter(|p| *p > 4).unwrap_or(4);
            let mut s = format!("U+{:0digits$X}", i as u64);
            if spec.sharp
                && let Some(c) = u32::try_from(i).ok().and_then(char::from_u32)
                && is_print(c)
            {
                s.push_str(&format!(" '{c}'"));
            }
            // The `0` flag pads with spaces here.
            pad(out, &s, &Spec { zero: false, ..*spec });
            return;
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 's' | 't' | 'T' | 'p' | 'w' => {
            return bad_verb(out, v, verb, spec);
        }
        _ => return bad_verb(out, v, verb, spec),
    };
    let negative = i < 0;
    let u = i.unsigned_abs();
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    let mut prec = 0;
    if let Some(p) = spec.prec {
        prec = p;
        if p == 0 && u == 0 {
            pad_with(out, "", spec, ' ');
            return;
        }
    } else if spec.zero
        && let Some(w) = spec.width
    {
        prec = w;
        if negative || spec.plus || spec.space {
            prec = prec.saturating_sub(1);
        }
    }
    if digits.len() < prec {
        digits = "0".repeat(prec - digits.len()) + &digits;
    }
    let mut prefix = String::new();
    if spec.sharp {
        match base {
            2 => prefix.push_str("0b"),
            8 if !digits.starts_with('0') => prefix.push('0'),
            16 => prefix.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        prefix = "0o".to_string();
    }
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    pad_with(out, &format!("{sign}{prefix}{digits}"), spec, ' ');
}

fn fmt_float_verb(out: &mut String, v: &Value, f: f64, verb: char, spec: &Spec) {
    match verb {
        'v' => fmt_float(out, f, 'g', spec.prec, spec),
        'g' | 'G' | 'x' | 'X' | 'b' => fmt_float(out, f, verb, spec.prec, spec),
        'e' | 'E' | 'f' | 'F' => fmt_float(out, f, verb, Some(spec.prec.unwrap_or(6)), spec),
        _ => bad_verb(out, v, verb, spec),
    }
}

/// Go's `fmt.fmtFloat`: the number by `strconv.FormatFloat`, then sign and padding rules.
fn fmt_float(out: &mut String, f: f64, verb: char, prec: Option<usize>, spec: &Spec) {
    let body = format_float(f.abs(), verb, prec, spec.sharp);
    let sign = if f.is_sign_negative() && !f.is_nan() {
        '-'
    } else if spec.plus {
        '+'
    } else if spec.space {
        ' '
    } else {
        '\0'
    };
    if f.is_infinite() || f.is_nan() {
        let s = if f.is_nan() {
            if sign == '\0' || sign == '-' { "NaN".to_string() } else { format!("{sign}NaN") }
        } else {
            let sign = if sign == '\0' { '+' } else { sign };
            format!("{sign}Inf")
        };
        pad_with(out, &s, spec, ' ');
        return;
    }
    if sign == '\0' {
        pad(out, &body, spec);
        return;
    }
    if spec.zero && !spec.minus {
        let w = spec.width.unwrap_or(0);
        let len = body.chars().count() + 1;
        out.push(sign);
        out.extend(std::iter::repeat_n('0', w.saturating_sub(len)));
        out.push_str(&body);
        return;
    }
    pad_with(out, &format!("{sign}{body}"), spec, ' ');
}

/// The decimal digits (no trailing zeros) and decimal-point position of a
/// non-negative finite float, rounded to `sig` significant digits or shortest.
fn digits(f: f64, sig: Option<usize>) -> (String, i32) {
    let s = match sig {
        None => format!("{f:e}"),
        Some(p) => format!("{:.*e}", p.saturating_sub(1), f),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mant.chars().filter(char::is_ascii_digit).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    if d == "0" {
        return (d, 1);
    }
    (d, exp + 1)
}

/// `strconv.FormatFloat(f, verb, prec, 64)` for a non-negative finite `f`, with `#` handling.
fn format_float(f: f64, verb: char, prec: Option<usize>, sharp: bool) -> String {
    if !f.is_finite() {
        return String::new();
    }
    match verb {
        'b' => binary_float(f),
        'x' | 'X' => {
            let mut s = hex_float(f, prec);
            if sharp {
                s = sharp_hex(&s, verb, prec);
            }
            if verb == 'X' { s.to_uppercase() } else { s }
        }
        'f' | 'F' => {
            let s = format!("{:.*}", prec.unwrap_or(6), f);
            if sharp && !s.contains('.') { s + "." } else { s }
        }
        'e' | 'E' => {
            let p = prec.unwrap_or(6);
            let s = format!("{:.*e}", p, f);
            let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
            let exp: i32 = exp.parse().unwrap_or(0);
            let mant =
                if sharp && !mant.contains('.') { format!("{mant}.") } else { mant.to_string() };
            exp_form(&mant, exp, verb == 'E')
        }
        _ => {
            let upper = verb == 'G';
            let shortest = prec.is_none();
            let p = prec.map(|p| p.max(1));
            let (d, dp) = digits(f, p);
            let nd = d.len() as i32;
            let mut eprec = p.map_or(nd, |p| p as i32);
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            let mut s = if exp < -4 || exp >= eprec {
                let mant = if d.len() > 1 { format!("{}.{}", &d[..1], &d[1..]) } else { d.clone() };
                let mant = if sharp { sharp_pad(&mant, p.unwrap_or(6)) } else { mant };
                exp_form(&mant, exp, upper)
            } else {
                let s = fixed_from_digits(&d, dp);
                if sharp { sharp_pad(&s, p.unwrap_or(6)) } else { s }
            };
            if upper {
                s = s.to_uppercase();
            }
            s
        }
    }
}

/// `strconv.FormatFloat(f, 'b', -1, 64)` for a non-negative finite `f`: `4503599627370496p-52`.
fn binary_float(f: f64) -> String {
    let bits = f.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp = 1;
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1023 + 52;
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}p{sign}{}", exp.abs())
}

/// `strconv.FormatFloat(f, 'x', prec, 64)` for a non-negative finite `f`:
/// `0x1.8p+01`, shortest without a precision, else rounded (half to even)
/// to `prec` hexadecimal digits after the point.
fn hex_float(f: f64, prec: Option<usize>) -> String {
    let (mut mant, mut exp) = if f == 0.0 {
        (0u64, 0i32)
    } else {
        let bits = f.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i32;
        let mut m = bits & ((1u64 << 52) - 1);
        let mut e = if e == 0 { -1022 } else { e - 1023 };
        if bits >> 52 & 0x7ff == 0 {
            // Subnormal: shift until the leading bit is the implicit one.
            while m & (1u64 << 52) == 0 {
                m <<= 1;
                e -= 1;
            }
        } else {
            m |= 1u64 << 52;
        }
        (m, e)
    };
    let mut frac_digits = 13;
    if let Some(p) = prec.filter(|p| *p < 13) {
        let shift = 52 - 4 * p as u32;
        let half = 1u64 << (shift - 1);
        let rem = mant & ((1u64 << shift) - 1);
        mant >>= shift;
        if rem > half || (rem == half && mant & 1 == 1) {
            mant += 1;
        }
        if mant >> (4 * p as u32) >= 2 {
            mant >>= 1;
            exp += 1;
        }
        frac_digits = p;
    }
    let lead = if f == 0.0 { 0 } else { 1 };
    let frac = mant & ((1u64 << (4 * frac_digits as u32)) - 1);
    let mut digits =
        if frac_digits == 0 { String::new() } else { format!("{frac:0frac_digits$x}") };
    match prec {
        None => {
            while digits.ends_with('0') {
                digits.pop();
            }
        }
        Some(p) => {
            while digits.len() < p {
                digits.push('0');
            }
        }
    }
    let sign = if exp < 0 { '-' } else { '+' };
    let point = if digits.is_empty() { String::new() } else { format!(".{digits}") };
    format!("0x{lead}{point}p{sign}{:02}", exp.abs())
}

/// Go's `#` flag on `%x`/`%X` floats: a decimal point always, and for `%x`
/// zeros up to the precision (6 by default), where Go counts every character
/// of the mantissa from the first non-zero one, the `x` of the prefix included.
fn sharp_hex(s: &str, verb: char, prec: Option<usize>) -> String {
    let (num, tail) = s.split_at(s.find('p').unwrap_or(s.len()));
    let mut digits: i64 = if verb == 'x' { prec.map_or(6, |p| p as i64) } else { 0 };
    let mut saw_nonzero = false;
    for c in num.chars().filter(|c| *c != '.') {
        if c != '0' {
            saw_nonzero = true;
        }
        if saw_nonzero {
            digits -= 1;
        }
    }
    let mut num = num.to_string();
    if !num.contains('.') {
        num.push('.');
    }
    while digits > 0 {
        num.push('0');
        digits -= 1;
    }
    num + tail
}

/// With `#`, `%g` keeps trailing zeros up to the precision and always has a point.
fn sharp_pad(s: &str, prec: usize) -> String {
    let mut s = s.to_string();
    if !s.contains('.') {
        s.push('.');
    }
    let ndigits = s.chars().filter(char::is_ascii_digit).count();
    let lead_zeros = s.chars().take_while(|c| *c == '0' || *c == '.').filter(|c| *c == '0').count();
    let significant = ndigits - lead_zeros.min(ndigits.saturating_sub(1));
    if significant < prec {
        s.push_str(&"0".repeat(prec - significant));
    }
    s
}

fn exp_form(mant: &str, exp: i32, upper: bool) -> String {
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

fn fixed_from_digits(d: &str, dp: i32) -> String {
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), d)
    } else if dp as usize >= d.len() {
        format!("{}{}", d, "0".repeat(dp as usize - d.len()))
    } else {
        format!("{}.{}", &d[..dp as usize], &d[dp as usize..])
    }
}

fn fmt_string(out: &mut String, v: &Value, s: &str, verb: char, spec: &Spec) {
    match verb {
        // Go's fmtQ: a precision cuts the string before it is quoted.
        'v' if spec.sharp_v => {
            let s: String = s.chars().take(spec.prec.unwrap_or(usize::MAX)).collect();
            pad(out, &quote(&s), spec);
        }
        'v' | 's' => match spec.prec {
            Some(p) => pad(out, &s.chars().take(p).collect::<String>(), spec),
            None => pad(out, s, spec),
        },
        'x' | 'X' => {
            let bytes = super::sprig::go_bytes(s);
            let bytes = &bytes[..spec.prec.unwrap_or(bytes.len()).min(bytes.len())];
            let mut h = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    h.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &h, spec);
        }
        'q' => {
            let truncated: String;
            let s = match spec.prec {
                Some(p) => {
                    truncated = s.chars().take(p).collect();
                    truncated.as_str()
                }
                None => s,
            };
            // Go's `strconv.CanBackquote`: no backquote, control character,
            // byte that is not UTF-8 or byte order mark.
            let backquote = |r: GoRune| match r {
                GoRune::Byte(_) => false,
                GoRune::Char(c) => c == '\t' || !(c == '`' || c.is_control() || c == '\u{FEFF}'),
            };
            if spec.sharp && go_runes(s).all(backquote) {
                pad(out, &format!("`{s}`"), spec);
            } else if spec.plus {
                pad(out, &quote_ascii(s), spec);
            } else {
                pad(out, &quote(s), spec);
            }
        }
        _ => bad_verb(out, v, verb, spec),
    }
}

/// Go's `strconv.IsPrint` (and `unicode.IsPrint`): letters, marks, numbers,
/// punctuation, symbols and the ASCII space. Unassigned, private-use, format,
/// control and other space runes are not printable.
pub(crate) fn is_print(c: char) -> bool {
    static GRAPHIC: std::sync::LazyLock<Option<regex::Regex>> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^[\p{L}\p{M}\p{N}\p{P}\p{S}]$").ok());
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 4];
    GRAPHIC.as_ref().is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

fn escape_into(out: &mut String, r: GoRune, quote: char, ascii_only: bool) {
    let c = match r {
        // A byte that is not UTF-8, as strconv.Quote writes it.
        GoRune::Byte(b) => return out.push_str(&format!("\\x{b:02x}")),
        GoRune::Char(c) => c,
    };
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if is_print(c) && (!ascii_only || c.is_ascii()) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for r in go_runes(s) {
        escape_into(&mut out, r, '"', false);
    }
    out.push('"');
    out
}

fn quote_ascii(s: &str) -> String {
    let mut out = String::from("\"");
    for r in go_runes(s) {
        escape_into(&mut out, r, '"', true);
    }
    out.push('"');
    out
}

/// `strconv.QuoteRune`, or `QuoteRuneToASCII` when `ascii_only`.
pub(crate) fn quote_char(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    escape_into(&mut out, GoRune::Char(c), '\'', ascii_only);
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn printf() {
        let m = Value::map(BTreeMap::from([
            ("b".to_string(), Value::Float(2.0)),
            ("a".to_string(), Value::Int(1)),
        ]));
        let l = Value::list(vec![Value::Int(1), Value::from("x"), Value::Nil]);
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%v", vec![Value::Float(1e6)], "1e+06"),
            ("%v", vec![Value::Float(3.25)], "3.25"),
            ("%v", vec![Value::Float(100000.0)], "100000"),
            ("%v", vec![Value::Float(1.0)], "1"),
            ("%v", vec![Value::Float(0.00001)], "1e-05"),
            ("%v", vec![Value::Float(123456789.0)], "1.23456789e+08"),
            ("%v", vec![m.clone()], "map[a:1 b:2]"),
            ("%v", vec![l.clone()], "[1 x <nil>]"),
            ("%d", vec![Value::from("x")], "%!d(string=x)"),
            ("%s", vec![Value::Int(5)], "%!s(int=5)"),
            ("%d", vec![l], "[1 %!d(string=x) <nil>]"),
            (
                "%5.2f|%-6d|%06.1f",
                vec![Value::Float(1.23456), Value::Int(42), Value::Float(-2.5)],
                " 1.23|42    |-002.5",
            ),
            (
                "%x %X %o %b %#x",
                vec![
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5),
                    Value::Int(255),
                ],
                "ff FF 10 101 0xff",
            ),
            ("%q %q", vec![Value::from("a\"b\n"), Value::Int(65)], "\"a\\\"b\\n\" 'A'"),
            ("%t %v", vec![Value::Bool(true), Value::Nil], "true <nil>"),
            (
                "%T %T %T %T",
                vec![Value::Int(1), Value::Float(1.0), Value::from("s"), m],
                "int float64 string map[string]interface {}",
            ),
            ("%d", vec![], "%!d(MISSING)"),
            ("%d", vec![Value::Int(1), Value::from("a")], "1%!(EXTRA string=a)"),
            (
                "%g %e %.3g %G",
                vec![
                    Value::Float(1e21),
                    Value::Float(1234.5678),
                    Value::Float(1234.5678),
                    Value::Float(1e-7),
                ],
                "1e+21 1.234568e+03 1.23e+03 1E-07",
            ),
            ("%x", vec![Value::from("hi")], "6869"),
            (
                "%%|%5s|%-5s|%.2s",
                vec![Value::from("ab"), Value::from("ab"), Value::from("abc")],
                "%|   ab|ab   |ab",
            ),
            ("%+d % d %+.1f", vec![Value::Int(5), Value::Int(5), Value::Float(2.0)], "+5  5 +2.0"),
            ("%s", vec![Value::Nil], "%!s(<nil>)"),
            ("%", vec![], "%!(NOVERB)"),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, &args), want, "{format}");
        }
    }

    #[test]
    fn print() {
        let cases: Vec<(Vec<Value>, &str, &str)> = vec![
            (vec![Value::Int(1), Value::Int(2)], "1 2", "1 2\n"),
            (vec![Value::from("a"), Value::Int(1), Value::from("b")], "a1b", "a 1 b\n"),
            (vec![Value::Int(1), Value::from("a"), Value::Int(2)], "1a2", "1 a 2\n"),
        ];
        for (args, want, want_ln) in cases {
            assert_eq!(sprint(&args), want);
            assert_eq!(sprintln(&args), want_ln);
        }
    }
}
