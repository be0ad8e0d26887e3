//! The host-facing surface of the Go-template engine: added functions, call-backs into the engine, structs and bounds.

use std::collections::BTreeMap;
use std::sync::Arc;

use renderer::gotmpl::{Funcs, Function, MapRef, Options, Struct, Templates, Value};

fn render(text: &str, data: Value, funcs: &Funcs, options: &Options) -> Result<String, String> {
    let mut set = Templates::new();
    set.parse("t", text, funcs).map_err(|e| e.to_string())?;
    set.execute("t", data, funcs, options).map_err(|e| e.to_string())
}

/// Functions like Helm's: `include` runs a named template, `tpl` parses and runs text.
fn host_funcs() -> Funcs {
    let mut funcs = Funcs::new();
    funcs.insert(
        "include",
        Function::new(|call, args| {
            let name = args[0].as_str().ok_or("include needs a template name")?;
            call.execute_template(name, args[1].clone()).map(Value::from)
        })
        .arity(2, Some(2)),
    );
    funcs.insert(
        "tpl",
        Function::new(|call, args| {
            let text = args[0].as_str().ok_or("tpl needs a string")?;
            call.execute_text("tpl", text, args[1].clone()).map(Value::from)
        })
        .arity(2, Some(2)),
    );
    funcs.insert("fail", Function::new(|_, args| Err(format!("failed: {}", args.len()))));
    funcs.insert(
        "set",
        Function::new(|_, args| {
            if let (Value::Map(m), Some(k)) = (&args[0], args[1].as_str()) {
                m.write().insert(k.to_string(), args[2].clone());
            }
            Ok(args[0].clone())
        }),
    );
    funcs
}

fn object() -> Value {
    let mut methods = BTreeMap::new();
    methods.insert(
        "Has".to_string(),
        Function::new(|_, args| Ok(Value::Bool(args[0].as_str() == Some("apps/v1"))))
            .arity(1, Some(1)),
    );
    Value::Struct(Arc::new(Struct {
        type_name: "*chartutil.Capabilities".into(),
        fields: vec![
            ("Version".into(), Value::from("v1.30.0")),
            ("Major".into(), Value::from("1")),
        ],
        methods,
        ..Struct::default()
    }))
}

/// A Go map type with methods, like Helm's `files.Files` (`map[string][]byte`).
fn map_type(entries: &[(&str, &str)]) -> Value {
    let bytes = |s: &str| Value::list(s.bytes().map(|b| Value::Int(i64::from(b))).collect());
    let map: BTreeMap<String, Value> =
        entries.iter().map(|(k, v)| (k.to_string(), bytes(v))).collect();
    Value::Struct(Arc::new(Struct {
        type_name: "files.Files".into(),
        native: Some(Arc::new(MapRef::new(map))),
        ..Struct::default()
    }))
}

#[test]
fn host_surface() {
    let funcs = host_funcs();
    let data = Value::map(BTreeMap::from([
        ("name".to_string(), Value::from("web")),
        ("caps".to_string(), object()),
        ("text".to_string(), Value::from("{{ .name }}-x")),
        ("files".to_string(), map_type(&[("x/b.txt", "hi"), ("x/a.txt", "A")])),
        ("nofiles".to_string(), map_type(&[])),
    ]));
    let cases: &[(&str, Result<&str, &str>)] = &[
        (
            r#"{{ define "n" }}[{{ .name }}]{{ end }}{{ include "n" . | printf "%s!" }}"#,
            Ok("[web]!"),
        ),
        (r#"{{ tpl .text . }}"#, Ok("web-x")),
        (r#"{{ tpl "{{ define \"z\" }}Z{{ end }}{{ template \"z\" }}" . }}"#, Ok("Z")),
        (
            r#"{{ .caps.Version }} {{ .caps.Has "apps/v1" }} {{ .caps.Has "x/v1" }}"#,
            Ok("v1.30.0 true false"),
        ),
        (r#"{{ .caps }}"#, Ok("&{v1.30.0 1}")),
        (r#"{{ printf "%+v" .caps }}"#, Ok("&{Version:v1.30.0 Major:1}")),
        (
            r#"{{ .caps.Missing }}"#,
            Err(
                "template: t:1:8: executing \"t\" at <.caps.Missing>: can't evaluate field Missing in type *chartutil.Capabilities",
            ),
        ),
        (
            r#"{{ .caps.Has }}"#,
            Err(
                "template: t:1:8: executing \"t\" at <.caps.Has>: wrong number of args for Has: want 1 got 0",
            ),
        ),
        (
            r#"{{ fail 1 2 }}"#,
            Err("template: t:1:3: executing \"t\" at <fail 1 2>: error calling fail: failed: 2"),
        ),
        (
            r#"{{ include "nope" . }}"#,
            Err(
                "template: t:1:3: executing \"t\" at <include \"nope\" .>: error calling include: template: no template \"nope\" associated with template",
            ),
        ),
        (r#"{{ $m := dict }}"#, Err("template: t:1: function \"dict\" not defined")),
        (r#"{{ $_ := set . "name" "changed" }}{{ .name }}"#, Ok("changed")),
        (r#"{{ range $p, $_ := .files }}{{ $p }};{{ end }}"#, Ok("x/a.txt;x/b.txt;")),
        (r#"{{ range .files }}{{ . }}{{ end }}"#, Ok("[65][104 105]")),
        (r#"{{ len .files }} {{ index .files "x/b.txt" }}"#, Ok("2 [104 105]")),
        (
            r#"{{ if .nofiles }}y{{ else }}n{{ end }}{{ range .nofiles }}x{{ else }}e{{ end }}"#,
            Ok("ne"),
        ),
    ];
    for (text, want) in cases {
        let got = render(text, data.clone(), &funcs, &Options::default());
        assert_eq!(got.as_deref().map_err(|e| e.as_str()), *want, "{text}");
    }
}

#[test]
fn bounds_stop_runaway_templates() {
    let funcs = host_funcs();
    let small = Options {
        fuel: 1_000,
        max_depth: 20,
        max_nesting: 30,
        max_output: 1_000,
        ..Options::default()
    };
    let cases: &[(&str, &str)] = &[
        (
            r#"{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}"#,
            "exceeded maximum template depth (20)",
        ),
        // A function's template is a new execution, which Go's depth
        // bound does not see; the bound on all nesting does.
        (
            r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
            "template calls nested deeper than 30 levels",
        ),
        (
            r#"{{ define "r" }}{{ template "s" }}{{ end }}{{ define "s" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
            "template calls nested deeper than 30 levels",
        ),
        (r#"{{ range $i := 100000 }}{{ end }}"#, "exceeded its budget of 1000 steps"),
        // A range over a huge integer is counted step by step, not built in
        // memory first (which would exhaust memory before the budget applies).
        (r#"{{ range 9223372036854775807 }}{{ end }}"#, "exceeded its budget of 1000 steps"),
        (
            r#"{{ define "w" }}{{ range 10 }}xxxxxxxxxxxxxxxxxxxx{{ end }}{{ end }}{{ range 10 }}{{ template "w" }}{{ end }}"#,
            "output exceeds 1000 bytes",
        ),
    ];
    for (text, want) in cases {
        let got = render(text, Value::Nil, &funcs, &small);
        let err = got.expect_err(text);
        assert!(err.contains(want), "{text}: {err}");
    }
    // The same for Sprig's int64 and uint64 results.
    for text in [
        r#"{{ range (add 9223372036854775806 1) }}{{ end }}"#,
        r#"{{ range (semver "18446744073709551615.0.0").Major }}{{ end }}"#,
    ] {
        let err = render(text, Value::Nil, &renderer::gotmpl::sprig::funcs(), &small);
        assert!(err.expect_err(text).contains("exceeded its budget of 1000 steps"), "{text}");
    }
    // The default bounds are reached without exhausting the execution
    // thread's stack: Go's 100000 nested template calls, and the bound on
    // all nesting for templates that functions run.
    let deep = render(
        r#"{{ define "r" }}{{ if . }}{{ with . }}{{ template "r" . }}{{ end }}{{ end }}{{ end }}{{ template "r" 1 }}"#,
        Value::Nil,
        &funcs,
        &Options::default(),
    );
    assert!(deep.unwrap_err().contains("exceeded maximum template depth (100000)"));
    let deep = render(
        r#"{{ define "r" }}{{ include "r" . | printf "%s" }}{{ end }}{{ include "r" . }}"#,
        Value::Nil,
        &funcs,
        &Options::default(),
    );
    assert!(deep.unwrap_err().contains("template calls nested deeper than 110000 levels"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// Random token soups never panic the parser or the executor.
    #[test]
    fn random_templates_do_not_panic(parts in proptest::collection::vec(proptest::sample::select(vec![
        "{{", "}}", "{{-", "-}}", " ", "\n", ".", ".a", ".b.c", "$", "$x", ":=", "=", "|", "(", ")",
        "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
        "\"s\"", "`r`", "'c'", "1", "-2", "3.5", "1e6", "nil", "true", "printf", "\"%v %d %s %x %q %!\"",
        "len", "index", "slice", "and", "or", "not", "eq", "lt", "print", "html", "js", "urlquery",
        "call", "include", "tpl", "/*", "*/", ",", "x", "é",
    ]), 0..40)) {
        let text = parts.concat();
        let data = Value::map(BTreeMap::from([
            ("a".to_string(), Value::list(vec![Value::Int(1), Value::Nil])),
            ("b".to_string(), Value::map(BTreeMap::from([("c".to_string(), Value::Float(2.5))]))),
        ]));
        let small = Options { fuel: 10_000, max_depth: 20, max_nesting: 40, max_output: 100_000, ..Options::default() };
        let _ = render(&text, data, &host_funcs(), &small);
    }
}

#[test]
fn parsing_is_bounded() {
    let funcs = Funcs::new();
    let deep = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
    let err = render(&deep, Value::Nil, &funcs, &Options::default()).unwrap_err();
    assert!(err.contains("max expression depth exceeded"), "{err}");
}

#[test]
fn missing_key_options() {
    use renderer::gotmpl::MissingKey;
    let data = Value::map(BTreeMap::from([("a".to_string(), Value::map(BTreeMap::new()))]));
    let funcs = Funcs::new();
    let cases: &[(MissingKey, &str, Result<&str, &str>)] = &[
        (MissingKey::Default, "{{ .a.x }}", Ok("<no value>")),
        (MissingKey::Default, "{{ .a.x.y }}", Ok("<no value>")),
        (MissingKey::Zero, "{{ .a.x }}", Ok("<no value>")),
        (
            MissingKey::Zero,
            "{{ .a.x.y }}",
            Err(
                "template: t:1:5: executing \"t\" at <.a.x.y>: nil pointer evaluating interface {}.y",
            ),
        ),
        (
            MissingKey::Error,
            "{{ .a.x }}",
            Err("template: t:1:5: executing \"t\" at <.a.x>: map has no entry for key \"x\""),
        ),
    ];
    for (mode, text, want) in cases {
        let options = Options { missing_key: *mode, ..Options::default() };
        let got = render(text, data.clone(), &funcs, &options);
        assert_eq!(got.as_deref().map_err(|e| e.as_str()), *want, "{mode:?} {text}");
    }
}

/// Every Sprig function with every combination of up to three awkward
/// arguments returns a value or an error, and never panics.
#[test]
fn sprig_functions_do_not_panic_on_odd_arguments() {
    use renderer::gotmpl::sprig;
    let funcs = sprig::funcs();
    // Built afresh for every call: `set` and `merge` change maps in place.
    let pool = || {
        vec![
            Value::Nil,
            Value::Int(-1),
            Value::Int(0),
            Value::Int(3),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Float(-2.5),
            Value::Float(f64::NAN),
            Value::from(""),
            Value::from("é€x_Y-z 1.2.3"),
            Value::list(vec![Value::Int(1), Value::Nil, Value::from("a")]),
            Value::map(BTreeMap::from([("k".to_string(), Value::list(vec![]))])),
        ]
    };
    let pool_len = pool().len();
    let names: Vec<String> = funcs.names().into_iter().map(String::from).collect();
    let small = Options { fuel: 10_000, max_output: 1 << 16, ..Options::default() };
    let mut calls = 0;
    for name in &names {
        let mut arg_lists: Vec<Vec<usize>> = vec![vec![]];
        for a in 0..pool_len {
            arg_lists.push(vec![a]);
            for b in 0..pool_len {
                arg_lists.push(vec![a, b]);
            }
        }
        for a in [0, 2, 3, 9, 10, 11] {
            for b in [1, 3, 8, 9] {
                for c in [0, 3, 9, 11] {
                    arg_lists.push(vec![a, b, c]);
                }
            }
        }
        for args in arg_lists {
            let vars: String = (0..args.len()).map(|i| format!(" (index $.args {i})")).collect();
            let text = format!("{{{{ {name}{vars} }}}}");
            let values = pool();
            let data = Value::map(BTreeMap::from([(
                "args".to_string(),
                Value::list(args.iter().map(|i| values[*i].clone()).collect()),
            )]));
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render(&text, data, &funcs, &small)
            }));
            assert!(got.is_ok(), "{text} with {args:?} panicked");
            calls += 1;
        }
    }
    assert!(calls > 10_000, "{calls}");
}
