//! The values of Helm's list flags (`--api-versions`, `--values`), read as pflag reads them.
//!
//! Helm declares `-a/--api-versions` and `-f/--values` as pflag `StringSlice`
//! flags (helm/helm `pkg/cmd/template.go`, `pkg/cmd/flags.go`). pflag reads
//! each occurrence of such a flag as one record of comma-separated values
//! with Go's `encoding/csv` (`readAsCSV` in spf13/pflag `string_slice.go`):
//! an empty value gives no items, fields may be double-quoted (`""` inside
//! one is a quote), spaces are kept, and a stray quote is an error. Only the
//! first record counts; empty lines before it are skipped.

/// The items of every occurrence of the list flag `flag` (named as pflag
/// names it in errors: `-a, --api-versions`), in order.
pub fn items(flag: &str, values: &[String]) -> Result<Vec<String>, super::Error> {
    let mut all = Vec::new();
    for value in values {
        let items = split(value).map_err(|reason| super::Error::FlagList {
            flag: flag.to_string(),
            value: value.clone(),
            reason,
        })?;
        all.extend(items);
    }
    Ok(all)
}

/// Go's `csv.ErrBareQuote`.
const BARE_QUOTE: &str = "bare \" in non-quoted-field";
/// Go's `csv.ErrQuote`.
const QUOTE: &str = "extraneous or missing \" in quoted-field";

/// The items of one occurrence of a list flag, or the message Go's CSV
/// reader gives for it (`parse error on line 1, column 3: ...`).
pub fn split(value: &str) -> Result<Vec<String>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    // Go's reader ends a line at "\n", reads "\r\n" as "\n" and drops a "\r"
    // that ends the input.
    let mut lines = value.split_inclusive('\n').enumerate().map(|(i, l)| {
        let l = match l.strip_suffix("\r\n") {
            Some(body) => format!("{body}\n"),
            None if !l.ends_with('\n') => l.strip_suffix('\r').unwrap_or(l).to_string(),
            None => l.to_string(),
        };
        (i + 1, l)
    });
    let (record_line, mut rest) = loop {
        match lines.next() {
            None => return Err("EOF".into()),
            Some((_, l)) if l.is_empty() || l == "\n" => continue,
            Some(first) => break first,
        }
    };
    let mut line_no = record_line;
    let error = |line_no: usize, column: usize, what: &str| {
        if line_no == record_line {
            format!("parse error on line {line_no}, column {column}: {what}")
        } else {
            format!(
                "record on line {record_line}; parse error on line {line_no}, column {column}: {what}"
            )
        }
    };
    let mut fields = Vec::new();
    let mut column = 1;
    'fields: loop {
        if !rest.starts_with('"') {
            let comma = rest.find(',');
            let field = match comma {
                Some(i) => &rest[..i],
                None => rest.strip_suffix('\n').unwrap_or(&rest),
            };
            if let Some(j) = field.find('"') {
                return Err(error(line_no, column + j, BARE_QUOTE));
            }
            fields.push(field.to_string());
            match comma {
                Some(i) => {
                    rest = rest[i + 1..].to_string();
                    column += i + 1;
                    continue 'fields;
                }
                None => break 'fields,
            }
        }
        rest.remove(0);
        column += 1;
        let mut field = String::new();
        loop {
            if let Some(i) = rest.find('"') {
                field.push_str(&rest[..i]);
                rest = rest[i + 1..].to_string();
                column += i + 1;
                if rest.starts_with('"') {
                    field.push('"');
                    rest.remove(0);
                    column += 1;
                } else if rest.starts_with(',') {
                    rest.remove(0);
                    column += 1;
                    fields.push(field);
                    continue 'fields;
                } else if rest.is_empty() || rest == "\n" {
                    fields.push(field);
                    break 'fields;
                } else {
                    return Err(error(line_no, column - 1, QUOTE));
                }
            } else if !rest.is_empty() {
                // A quoted field goes on over the end of its line.
                field.push_str(&rest);
                column += rest.len();
                // An empty last line (a lone "\r" dropped) leaves the
                // position where it was.
                match lines.next() {
                    Some((n, next)) if !next.is_empty() => (line_no, rest, column) = (n, next, 1),
                    _ => rest.clear(),
                }
            } else {
                return Err(error(line_no, column, QUOTE));
            }
        }
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::split;

    /// What pflag's `StringSlice` makes of one flag value (Go's
    /// `csv.Reader.Read` of the value, as `readAsCSV` calls it).
    #[test]
    fn reads_values_as_go_csv_records() {
        let ok: &[(&str, &[&str])] = &[
            ("", &[]),
            ("apps/v1", &["apps/v1"]),
            ("a/v1,b/v2/Kind", &["a/v1", "b/v2/Kind"]),
            ("a, b", &["a", " b"]),
            ("a,", &["a", ""]),
            (",", &["", ""]),
            ("\"a,b\",c", &["a,b", "c"]),
            ("\"say \"\"hi\"\"\"", &["say \"hi\""]),
            ("\"\"", &[""]),
            ("a\nb", &["a"]),
            ("\n\na,b\n", &["a", "b"]),
            ("a\r\n", &["a"]),
            ("a\r", &["a"]),
            ("\"x\ny\",z", &["x\ny", "z"]),
            ("\"x\r\ny\"", &["x\ny"]),
        ];
        for (value, want) in ok {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(split(value), Ok(want), "{value:?}");
        }
        let bad: &[(&str, &str)] = &[
            ("\n", "EOF"),
            ("a\"b", "parse error on line 1, column 2: bare \" in non-quoted-field"),
            ("x,a\"b", "parse error on line 1, column 4: bare \" in non-quoted-field"),
            ("\"a\"b", "parse error on line 1, column 3: extraneous or missing \" in quoted-field"),
            ("\"ab", "parse error on line 1, column 4: extraneous or missing \" in quoted-field"),
            (
                "\"\r\n\r",
                "parse error on line 1, column 3: extraneous or missing \" in quoted-field",
            ),
            (
                "\"a\nb\"c",
                "record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field",
            ),
        ];
        for (value, want) in bad {
            assert_eq!(split(value), Err(want.to_string()), "{value:?}");
        }
    }
}
