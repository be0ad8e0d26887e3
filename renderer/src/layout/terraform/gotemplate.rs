//! `data "gotemplate_file"`: manifests that the `gotemplate` Terraform provider
//! renders with Go's `text/template` (kube-coreos installs gambol99/terraform-gotemplate).
//!
//! What the provider does, from its source (it has no other documentation):
//! `template` is the template's text, or the path of a file holding it;
//! `vars` is a map of strings, the template's dot, so `{{ .name }}` reads
//! one and a variable it does not pass prints `<no value>` (Go's default
//! `missingkey`); `snippets` names a directory whose every entry is parsed
//! beside the template as a template named after the file. The template is
//! called `base` and gets these functions besides Go's built-ins (no Sprig):
//! `upper`, `lower` (`strings.ToUpper`, `strings.ToLower`), `split s delim`
//! (`strings.Split`, a `[]string`), `join list sep` (`strings.Join`, which
//! takes a `[]string`), `empty s` (`s == ""`), `is_true s` (`"1"`, `"true"`
//! or `"True"`), `is_false s` (false whatever `s` is: both of its branches
//! return false), `keys m` (a `[]string`) and `values m` (a `[]interface{}`).
//! Go ranges over the map in `keys` and `values` in random order; kiln
//! sorts the keys, the one order that keeps a render reproducible.

use super::eval::{TemplateError, TemplateVars, Val};
use crate::gotmpl::{
    Elem, Funcs, Function, List, MapRef, MissingKey, Options, Param, Templates, Value,
};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The name the provider parses the template under.
const BASE: &str = "base";

/// The provider's functions, made once.
static FUNCS: LazyLock<Funcs> = LazyLock::new(provider_funcs);

/// The functions the provider adds. Those that are Go's `strings`
/// functions are Sprig's, which are the same functions, with the
/// provider's argument order where it differs (`split`, `join`).
fn provider_funcs() -> Funcs {
    use Param::{Map, String as Str, StringList};
    let sprig = crate::gotmpl::sprig::funcs();
    let from_sprig = |name: &str| sprig.get(name).cloned().expect("Sprig defines the function");
    // Sprig's `splitList sep s` and `join sep list` take the arguments the
    // other way round.
    let swapped = |f: Function, params: &[Param]| {
        Function::new(move |call, args| f.call(call, &[args[1].clone(), args[0].clone()]))
            .params(params, None)
    };
    let mut f = Funcs::new();
    f.insert("upper", from_sprig("upper"));
    f.insert("lower", from_sprig("lower"));
    f.insert("split", swapped(from_sprig("splitList"), &[Str, Str]));
    f.insert("join", swapped(from_sprig("join"), &[StringList, Str]));
    f.insert(
        "empty",
        Function::new(|_, a| Ok(Value::Bool(str_arg(&a[0]).is_empty()))).params(&[Str], None),
    );
    f.insert(
        "is_true",
        Function::new(|_, a| Ok(Value::Bool(matches!(str_arg(&a[0]), "1" | "true" | "True"))))
            .params(&[Str], None),
    );
    // The provider's is_false returns false in both of its branches.
    f.insert("is_false", Function::new(|_, _| Ok(Value::Bool(false))).params(&[Str], None));
    f.insert(
        "keys",
        Function::new(|_, a| {
            let Value::Map(m) = &a[0] else { return Ok(go_slice(Elem::String, Vec::new())) };
            Ok(go_slice(Elem::String, m.read().keys().map(|k| Value::from(k.as_str())).collect()))
        })
        .params(&[Map], None),
    );
    f.insert(
        "values",
        Function::new(|_, a| {
            let Value::Map(m) = &a[0] else { return Ok(go_slice(Elem::Any, Vec::new())) };
            Ok(go_slice(Elem::Any, m.read().values().cloned().collect()))
        })
        .params(&[Map], None),
    );
    f
}

/// A slice the provider builds by appending to a nil one: nil when empty.
fn go_slice(elem: Elem, items: Vec<Value>) -> Value {
    Value::List(if items.is_empty() { List::nil(elem) } else { List::typed(elem, items) })
}

fn str_arg(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        _ => "",
    }
}

/// A snippet: a file of the `snippets` directory, named after the file.
pub struct Snippet {
    /// The file's name, which is the template's name.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Renders the template `text` of `file` as the provider does, with its
/// snippets and `vars`. A variable known only after `terraform apply`
/// fails where the template reads it, naming the line.
pub fn render(
    text: &str,
    snippets: &[Snippet],
    vars: &TemplateVars,
) -> Result<String, TemplateError> {
    let funcs = &*FUNCS;
    // Go's texts name the template and line; the data source is named before them.
    let go_text =
        |text: &str| TemplateError { line: None, message: format!("{}: {text}", vars.owner) };
    let go_error = |e: crate::gotmpl::Error| go_text(&e.to_string());
    let mut set = Templates::new();
    set.parse(BASE, text, funcs).map_err(go_error)?;
    for s in snippets {
        set.parse(&s.name, &s.text, funcs)
            .map_err(|e| go_text(&format!("snippet {}: {e}", s.name)))?;
    }
    let mut data: BTreeMap<String, Value> = BTreeMap::new();
    let mut unknown: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in &vars.known {
        match v {
            Val::Known(hcl::Value::String(s)) => {
                data.insert(k.clone(), Value::from(s.as_str()));
            }
            // vars_as_strings leaves only strings and nulls; a null is
            // what Terraform leaves out of the map.
            Val::Known(_) => {}
            Val::Missing(why) => {
                unknown.insert(k, why);
            }
        }
    }
    if unknown.is_empty() && vars.whole.is_none() {
        let options = Options::default();
        return set.execute(BASE, Value::Map(MapRef::new(data)), funcs, &options).map_err(go_error);
    }
    // Some variables cannot be known: run with missingkey=error, so the
    // first read of a variable that is not in the map stops the run. A
    // variable that is merely not passed then gets Go's missing value and
    // the run starts again; the number of runs is bounded by the number of
    // distinct variables the template reads.
    let options = Options { missing_key: MissingKey::Error, ..Options::default() };
    loop {
        let result = set.execute(BASE, Value::Map(MapRef::new(data.clone())), funcs, &options);
        let text = match result {
            Ok(out) => return Ok(out),
            Err(crate::gotmpl::Error::Exec { text }) => text,
            Err(e) => return Err(go_error(e)),
        };
        let Some((template, line, key)) = missing_key(&text) else {
            return Err(go_text(&text));
        };
        let place = if template == BASE { String::new() } else { format!("snippet {template}: ") };
        let line = (template == BASE).then_some(line);
        if let Some(why) = unknown.get(key) {
            return Err(TemplateError {
                line,
                message: format!(
                    "{place}{{{{ .{key} }}}} cannot be rendered before `terraform apply`: {} sets {key} from a value kiln cannot know: {why}",
                    vars.owner
                ),
            });
        }
        if let Some(why) = &vars.whole {
            return Err(TemplateError {
                line,
                message: format!(
                    "{place}{{{{ .{key} }}}} cannot be rendered: the variables of {} cannot be known: {why}",
                    vars.owner
                ),
            });
        }
        if data.contains_key(key) {
            // Not a read of the vars map: Go's own error.
            return Err(go_text(&text));
        }
        data.insert(key.to_string(), Value::Missing);
    }
}

/// The template, line and key of a `map has no entry for key` error:
/// `template: base:3:9: executing "base" at <.x>: map has no entry for key "x"`.
fn missing_key(text: &str) -> Option<(&str, usize, &str)> {
    let rest = text.strip_prefix("template: ")?;
    let (location, _) = rest.split_once(": executing ")?;
    let mut parts = location.rsplitn(3, ':');
    let _column = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    let template = parts.next()?;
    let key = text.rsplit_once("map has no entry for key \"")?.1.strip_suffix('"')?;
    Some((template, line, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Val)]) -> TemplateVars {
        super::super::eval::test_vars("data.gotemplate_file.t (main.tf:1)", pairs)
    }

    fn s(v: &str) -> Val {
        Val::Known(hcl::Value::from(v))
    }

    #[test]
    fn provider_functions_behave_as_its_source() {
        let v = vars(&[
            ("on", s("true")),
            ("one", s("1")),
            ("off", s("false")),
            ("cap", s("True")),
            ("image", s("quay.io/coreos/hyperkube:v1.5.2")),
            ("empty", s("")),
        ]);
        let cases: &[(&str, &str)] = &[
            ("{{ .image }}", "quay.io/coreos/hyperkube:v1.5.2"),
            ("{{ upper .cap }} {{ lower .cap }}", "TRUE true"),
            ("{{ index (split .image \":\") 1 }}", "v1.5.2"),
            ("{{ join (split .image \"/\") \"|\" }}", "quay.io|coreos|hyperkube:v1.5.2"),
            ("{{ if is_true .on }}a{{ end }}{{ if is_true .one }}b{{ end }}", "ab"),
            ("{{ if is_true .cap }}c{{ end }}{{ if is_true .off }}d{{ end }}", "c"),
            // is_false is false whatever its argument.
            ("{{ is_false .off }} {{ is_false .on }} {{ is_false \"0\" }}", "false false false"),
            ("{{ empty .empty }} {{ empty .on }}", "true false"),
            ("{{ join (keys .) \",\" }}", "cap,empty,image,off,on,one"),
            (
                "{{ range values . }}{{ . }};{{ end }}",
                "True;;quay.io/coreos/hyperkube:v1.5.2;false;true;1;",
            ),
            ("{{ .nope }}", "<no value>"),
            ("{{ split \"\" \",\" | len }} {{ split \"ab\" \"\" | len }}", "1 2"),
        ];
        for (src, want) in cases {
            assert_eq!(render(src, &[], &v).unwrap(), *want, "{src}");
        }
    }

    #[test]
    fn arguments_of_the_wrong_type_fail_as_in_go() {
        let v = vars(&[("x", s("a"))]);
        // join takes a []string, and values gives a []interface{}.
        let e = render("{{ join (values .) \",\" }}", &[], &v).unwrap_err();
        assert!(
            e.message.contains("wrong type for value; expected []string; got []interface {}"),
            "{}",
            e.message
        );
        // There is no Sprig.
        let e = render("{{ list 1 }}", &[], &v).unwrap_err();
        assert!(e.message.contains("function \"list\" not defined"), "{}", e.message);
        let e = render("{{ upper 1 }}", &[], &v).unwrap_err();
        assert!(e.message.contains("expected string; found 1"), "{}", e.message);
        let e = render("{{ is_true .missing }}", &[], &v).unwrap_err();
        assert!(e.message.contains("invalid value; expected string"), "{}", e.message);
        let e = render("a\n{{ if }}", &[], &v).unwrap_err();
        assert!(
            e.message.starts_with("data.gotemplate_file.t (main.tf:1): template: base:2:"),
            "{}",
            e.message
        );
    }

    #[test]
    fn snippets_are_templates_named_after_their_files() {
        let v = vars(&[("name", s("kube"))]);
        let snippets = [Snippet { name: "labels.tpl".into(), text: "app: {{ .name }}".into() }];
        assert_eq!(
            render("{{ template \"labels.tpl\" . }}!", &snippets, &v).unwrap(),
            "app: kube!"
        );
        let bad = [Snippet { name: "bad.tpl".into(), text: "{{ end }}".into() }];
        let e = render("x", &bad, &v).unwrap_err();
        assert!(e.message.contains(": snippet bad.tpl: template: bad.tpl:1:"), "{}", e.message);
    }

    #[test]
    fn unknown_variables_fail_where_they_are_read() {
        let why = "`module.platform.vpc_id` (main.tf:9) is known only after `terraform apply`";
        let v = vars(&[("image", s("x")), ("vpc", Val::Missing(why.into()))]);
        // Not read: rendered, with Go's <no value> for a variable not passed.
        assert_eq!(render("{{ .image }} {{ .other }}", &[], &v).unwrap(), "x <no value>");
        let e = render("{{ .image }}\n{{ .other }}\n{{ if .vpc }}y{{ end }}", &[], &v).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message.starts_with("{{ .vpc }} cannot be rendered before `terraform apply`: data.gotemplate_file.t (main.tf:1) sets vpc from a value kiln cannot know: `module.platform.vpc_id`"),
            "{}",
            e.message
        );
        let whole = TemplateVars { whole: Some("main.tf:3: unknown".into()), ..vars(&[]) };
        let e = render("a\n{{ .x }}", &[], &whole).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("the variables of data.gotemplate_file.t (main.tf:1) cannot be known: main.tf:3: unknown"), "{}", e.message);
        assert_eq!(render("no reads", &[], &whole).unwrap(), "no reads");
    }
}
