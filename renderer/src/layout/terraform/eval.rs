//! Terraform values as kiln can know them before `terraform apply`: evaluation of
//! module expressions, `file`/`templatefile`, and the rendering of templates.
//!
//! A value is either known ([`Val::Known`]) or missing ([`Val::Missing`],
//! with the reason: an attribute of a resource, data source or module that
//! exists only after apply, a variable that nothing sets, a function kiln
//! does not have). A missing value is never an empty string: it travels
//! through variables, locals and module arguments, and a template that uses
//! it fails naming the template's line, the variable and the whole chain.

use super::funcs;
use crate::tree::{self, Tree};
use hcl::Value;
use hcl::edit::Span;
use hcl::edit::expr::{Expression as EditExpr, ForExpr, TraversalOperator};
use hcl::edit::template::{ForDirective, Template as EditTemplate};
use hcl::edit::visit::{self, Visit};
use hcl::eval::{Context, Evaluate};
use hcl::expr::{Expression, Operation};
use hcl::template::Element;
use std::collections::BTreeMap;

/// Bound on nested `templatefile` calls, so a template that renders itself ends.
const MAX_DEPTH: usize = 8;

/// A value, or why kiln cannot know it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// The value, as `terraform plan` would see it.
    Known(Value),
    /// Why the value cannot be known from the repository alone.
    Missing(String),
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// A file being read: its path (for messages) and its text (for lines).
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// The path relative to the repository root.
    pub file: &'a str,
    /// The file's text.
    pub text: &'a str,
}

impl Site<'_> {
    /// `file:line` of byte `offset`.
    pub fn at(&self, offset: usize) -> String {
        format!("{}:{}", self.file, line_at(self.text, offset))
    }
}

/// A reference in an expression: its root name, the first attribute read
/// from it, and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    /// `var`, `local`, `aws_s3_bucket`, or a template variable.
    pub root: String,
    /// `region` in `var.region`.
    pub attr: Option<String>,
    /// Every attribute read in a row from the root: `secrets`, `bucket` in
    /// `aws_s3_bucket.secrets.bucket`.
    pub path: Vec<String>,
    /// Byte offset of the reference in its file.
    pub offset: usize,
}

impl Ref {
    fn shown(&self) -> String {
        std::iter::once(self.root.as_str())
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// The references of an expression or template, with the names bound by
/// `for` expressions and directives left out.
#[derive(Default)]
struct Refs {
    found: Vec<Ref>,
    bound: Vec<String>,
}

impl Refs {
    fn note(&mut self, root: &str, path: Vec<String>, offset: usize) {
        if !self.bound.iter().any(|b| b == root) {
            let attr = path.first().cloned();
            self.found.push(Ref { root: root.to_string(), attr, path, offset });
        }
    }

    fn bind(&mut self, names: &[Option<&str>]) -> usize {
        let names: Vec<String> = names.iter().flatten().map(|n| n.to_string()).collect();
        let n = names.len();
        self.bound.extend(names);
        n
    }

    fn unbind(&mut self, n: usize) {
        self.bound.truncate(self.bound.len() - n);
    }
}

impl Visit for Refs {
    fn visit_expr(&mut self, expr: &EditExpr) {
        match expr {
            EditExpr::Variable(v) => {
                self.note(v.as_str(), Vec::new(), v.span().map_or(0, |s| s.start));
            }
            EditExpr::Traversal(t) => match &t.expr {
                EditExpr::Variable(v) => {
                    let path = t
                        .operators
                        .iter()
                        .map_while(|op| match op.value() {
                            TraversalOperator::GetAttr(id) => Some(id.as_str().to_string()),
                            _ => None,
                        })
                        .collect();
                    self.note(v.as_str(), path, v.span().map_or(0, |s| s.start));
                    for op in &t.operators {
                        self.visit_traversal_operator(op.value());
                    }
                }
                _ => visit::visit_traversal(self, t),
            },
            _ => visit::visit_expr(self, expr),
        }
    }

    fn visit_for_expr(&mut self, f: &ForExpr) {
        self.visit_expr(&f.intro.collection_expr);
        let n = self.bind(&[
            f.intro.key_var.as_ref().map(|k| k.as_str()),
            Some(f.intro.value_var.as_str()),
        ]);
        if let Some(k) = &f.key_expr {
            self.visit_expr(k);
        }
        self.visit_expr(&f.value_expr);
        if let Some(c) = &f.cond {
            self.visit_expr(&c.expr);
        }
        self.unbind(n);
    }

    fn visit_for_directive(&mut self, d: &ForDirective) {
        let f = &d.for_expr;
        self.visit_expr(&f.collection_expr);
        let n = self.bind(&[f.key_var.as_ref().map(|k| k.as_str()), Some(f.value_var.as_str())]);
        self.visit_template(&f.template);
        self.unbind(n);
    }
}

/// The references of an expression.
pub fn expr_refs(expr: &EditExpr) -> Vec<Ref> {
    let mut refs = Refs::default();
    refs.visit_expr(expr);
    refs.found
}

/// What one module instance can read: `var`, `local`, `path`.
pub struct Scope<'a> {
    /// The repository.
    pub tree: &'a dyn Tree,
    /// The root module's directory, where `terraform` runs: relative paths
    /// in `file()` start there.
    pub cwd: String,
    /// `path.module`: this module's directory relative to `cwd`.
    pub module: String,
    /// The module's input variables.
    pub vars: BTreeMap<String, Val>,
    /// The module's locals.
    pub locals: BTreeMap<String, Val>,
    /// How many `templatefile` calls deep this evaluation is.
    pub depth: usize,
    /// The instance of a block with `count` or `for_each` being evaluated.
    pub instance: Option<Instance>,
}

/// One instance of a block with `count` or `for_each`: what `count.index`
/// or `each.key` and `each.value` are in it.
#[derive(Debug, Clone, PartialEq)]
pub enum Instance {
    /// `count = N`: the index, 0 to N-1.
    Count(u64),
    /// `for_each`: the key, and the value (the key again for a set).
    Each(String, Value),
}

impl Instance {
    /// The instance key in Terraform's address syntax: `[0]`, `["blue"]`.
    pub fn address(&self) -> String {
        match self {
            Instance::Count(i) => format!("[{i}]"),
            Instance::Each(key, _) => {
                format!("[{}]", serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}")))
            }
        }
    }
}

/// The instances a block's `count` or `for_each` value makes, as Terraform
/// plans them: `count` a whole number of at least 0; `for_each` a map (by
/// key) or a set of strings (each its own key), in lexical key order.
pub fn instances(meta: &str, value: &Value) -> Result<Vec<Instance>, String> {
    match (meta, value) {
        ("count", Value::Number(n)) => {
            let f = n.as_f64().unwrap_or(-1.0);
            if f < 0.0 || f.fract() != 0.0 {
                return Err(format!(
                    "invalid count argument: the given \"count\" argument value is unsuitable: {n} is not a whole number of at least 0"
                ));
            }
            Ok((0..f as u64).map(Instance::Count).collect())
        }
        ("count", Value::String(s)) => match s.parse::<f64>() {
            Ok(f) => instances(meta, &Value::from(f)),
            Err(_) => Err(format!("invalid count argument: a number is required, not {s:?}")),
        },
        ("for_each", Value::Object(m)) => {
            let mut keys: Vec<(&String, &Value)> = m.iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            Ok(keys.into_iter().map(|(k, v)| Instance::Each(k.clone(), v.clone())).collect())
        }
        ("for_each", Value::Array(items)) => {
            let mut keys =
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        _ => Err("the \"for_each\" argument must be a map, or set of strings"
                            .to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
            keys.sort();
            keys.dedup();
            Ok(keys.into_iter().map(|k| Instance::Each(k.clone(), Value::from(k))).collect())
        }
        ("count", _) => Err("invalid count argument: a number is required".to_string()),
        _ => Err("the \"for_each\" argument must be a map, or set of strings".to_string()),
    }
}

fn known(vals: &BTreeMap<String, Val>) -> Value {
    Value::Object(
        vals.iter()
            .filter_map(|(k, v)| match v {
                Val::Known(v) => Some((k.clone(), v.clone())),
                Val::Missing(_) => None,
            })
            .collect(),
    )
}

impl<'a> Scope<'a> {
    /// The same scope for one instance of a block with `count` or `for_each`.
    pub fn with_instance(&self, instance: Instance) -> Scope<'a> {
        Scope {
            tree: self.tree,
            cwd: self.cwd.clone(),
            module: self.module.clone(),
            vars: self.vars.clone(),
            locals: self.locals.clone(),
            depth: self.depth,
            instance: Some(instance),
        }
    }

    fn context(&self) -> Context<'static> {
        let mut ctx = Context::new();
        funcs::declare(&mut ctx);
        ctx.declare_var("var", known(&self.vars));
        ctx.declare_var("local", known(&self.locals));
        let mut path = hcl::Map::new();
        path.insert("module".to_string(), Value::from(self.module.as_str()));
        path.insert("root".to_string(), Value::from("."));
        path.insert("cwd".to_string(), Value::from("."));
        ctx.declare_var("path", Value::Object(path));
        let mut terraform = hcl::Map::new();
        terraform.insert("workspace".to_string(), Value::from("default"));
        ctx.declare_var("terraform", Value::Object(terraform));
        match &self.instance {
            Some(Instance::Count(i)) => {
                let mut count = hcl::Map::new();
                count.insert("index".to_string(), Value::from(*i));
                ctx.declare_var("count", Value::Object(count));
            }
            Some(Instance::Each(key, value)) => {
                let mut each = hcl::Map::new();
                each.insert("key".to_string(), Value::from(key.as_str()));
                each.insert("value".to_string(), value.clone());
                ctx.declare_var("each", Value::Object(each));
            }
            None => {}
        }
        ctx
    }

    /// Why the references of `expr` keep its value from being known, if
    /// they do.
    pub fn missing_ref(&self, expr: &EditExpr, site: Site<'_>) -> Option<String> {
        for r in expr_refs(expr) {
            let at = site.at(r.offset);
            let table = match r.root.as_str() {
                "var" => &self.vars,
                "local" => &self.locals,
                "path" | "terraform" => continue,
                "count" if matches!(self.instance, Some(Instance::Count(_))) => continue,
                "each" if matches!(self.instance, Some(Instance::Each(..))) => continue,
                "count" | "each" | "self" => {
                    return Some(format!(
                        "`{}` ({at}) is read outside a block with {}",
                        r.shown(),
                        match r.root.as_str() {
                            "count" => "`count`",
                            "each" => "`for_each`",
                            _ => "an object of its own",
                        }
                    ));
                }
                _ => {
                    return Some(format!(
                        "`{}` ({at}) is known only after `terraform apply`",
                        r.shown()
                    ));
                }
            };
            let Some(name) = &r.attr else {
                return Some(format!("`{}` ({at}) is read whole, which kiln does not do", r.root));
            };
            match table.get(name) {
                Some(Val::Known(_)) => {}
                Some(Val::Missing(why)) => return Some(format!("{} ({at}): {why}", r.shown())),
                None => {
                    return Some(format!("{} ({at}) is not declared in this module", r.shown()));
                }
            }
        }
        None
    }

    /// The value of `expr`, written at `site`.
    pub fn eval(&self, expr: &EditExpr, site: Site<'_>) -> Val {
        if let Some(why) = self.missing_ref(expr, site) {
            return Val::Missing(why);
        }
        let at = site.at(expr.span().map_or(0, |s| s.start));
        let mut e: Expression = expr.clone().into();
        if let Err(why) = self.resolve_files(&mut e) {
            return Val::Missing(format!("{at}: {why}"));
        }
        match e.evaluate(&self.context()) {
            Ok(v) => Val::Known(v),
            Err(err) => Val::Missing(format!("{at}: {err}")),
        }
    }

    /// A path as `file()` reads it: relative to where `terraform` runs.
    pub fn file_path(&self, path: &str) -> Result<String, String> {
        tree::join(&self.cwd, path).map_err(|e| e.to_string())
    }

    /// Replaces every `file(...)` and `templatefile(...)` call in `e` by
    /// the string it returns, reading the tree: hcl's functions cannot
    /// reach it.
    fn resolve_files(&self, e: &mut Expression) -> Result<(), String> {
        match e {
            Expression::FuncCall(call) => {
                for a in call.args.iter_mut() {
                    self.resolve_files(a)?;
                }
                let name = call.name.name.as_str();
                if !call.name.namespace.is_empty() || !matches!(name, "file" | "templatefile") {
                    return Ok(());
                }
                let ctx = self.context();
                let arg = |i: usize| -> Result<Value, String> {
                    let a = call
                        .args
                        .get(i)
                        .ok_or_else(|| format!("{name}() needs {} arguments", i + 1))?;
                    a.evaluate(&ctx).map_err(|e| e.to_string())
                };
                let path = self.file_path(&funcs::text(&arg(0)?)?)?;
                let text = tree::read_text(self.tree, &path).map_err(|e| e.to_string())?;
                let out = if name == "file" {
                    text
                } else {
                    let Value::Object(vars) = arg(1)? else {
                        return Err("templatefile() needs a map of variables".to_string());
                    };
                    let vars = TemplateVars {
                        known: vars.into_iter().map(|(k, v)| (k, Val::Known(v))).collect(),
                        whole: None,
                        owner: "templatefile()".to_string(),
                    };
                    render_template(&path, &text, &vars, self.depth + 1)
                        .map_err(|e| format!("{path}: {}", e.message))?
                };
                *e = Expression::String(out);
                Ok(())
            }
            Expression::TemplateExpr(t) => {
                let template = hcl::Template::from_expr(t).map_err(|e| e.to_string())?;
                // "${expr}" is the value of expr (Terraform 0.11 wrote every
                // expression this way); other templates keep their text, and
                // a file read inside one is not resolved.
                if let [Element::Interpolation(i)] = template.elements() {
                    *e = i.expr.clone();
                    return self.resolve_files(e);
                }
                Ok(())
            }
            Expression::Array(items) => items.iter_mut().try_for_each(|i| self.resolve_files(i)),
            Expression::Object(o) => o.values_mut().try_for_each(|v| self.resolve_files(v)),
            Expression::Traversal(t) => self.resolve_files(&mut t.expr),
            Expression::Parenthesis(p) => self.resolve_files(p),
            Expression::Conditional(c) => {
                self.resolve_files(&mut c.cond_expr)?;
                self.resolve_files(&mut c.true_expr)?;
                self.resolve_files(&mut c.false_expr)
            }
            Expression::Operation(op) => match op.as_mut() {
                Operation::Unary(u) => self.resolve_files(&mut u.expr),
                Operation::Binary(b) => {
                    self.resolve_files(&mut b.lhs_expr)?;
                    self.resolve_files(&mut b.rhs_expr)
                }
            },
            Expression::ForExpr(f) => self.resolve_files(&mut f.collection_expr),
            _ => Ok(()),
        }
    }
}

/// The variables a template is rendered with, and who passes them.
#[derive(Debug, Clone, Default)]
pub struct TemplateVars {
    /// Each variable by name.
    pub known: BTreeMap<String, Val>,
    /// Why the whole map cannot be known, when it cannot.
    pub whole: Option<String>,
    /// Who passes them, for messages: `data.template_file.kube (main.tf:4)`.
    pub owner: String,
}

/// A template that failed, with the line where that is known.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    /// The 1-based line in the template.
    pub line: Option<usize>,
    /// What is wrong; never holds a variable's value.
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Renders a Terraform template (`${...}` interpolations, `%{ if }` and
/// `%{ for }` directives, `$${` and `%%{` escapes) with `vars`. Every
/// variable the template reads must be passed and known; the first that is
/// not fails naming its line.
pub fn render_template(
    file: &str,
    text: &str,
    vars: &TemplateVars,
    depth: usize,
) -> Result<String, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError {
            line: None,
            message: format!("templatefile() calls nest more than {MAX_DEPTH} deep"),
        });
    }
    let parsed: EditTemplate =
        hcl::edit::parser::parse_template(text).map_err(|e| TemplateError {
            line: Some(e.location().line()),
            message: format!("{file} is not a valid template: {}", e.message()),
        })?;
    let mut refs = Refs::default();
    refs.visit_template(&parsed);
    for r in refs.found {
        let line = Some(line_at(text, r.offset));
        let name = &r.root;
        match vars.known.get(name) {
            Some(Val::Known(_)) => {}
            Some(Val::Missing(why)) => {
                return Err(TemplateError {
                    line,
                    message: format!(
                        "${{{name}}} cannot be rendered before `terraform apply`: {} sets {name} from a value kiln cannot know: {why}",
                        vars.owner
                    ),
                });
            }
            None => {
                let message = match &vars.whole {
                    Some(why) => format!(
                        "${{{name}}} cannot be rendered: the variables of {} cannot be known: {why}",
                        vars.owner
                    ),
                    None => format!(
                        "${{{name}}} is not a variable of this template: {} passes {}",
                        vars.owner,
                        if vars.known.is_empty() {
                            "none".to_string()
                        } else {
                            vars.known.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                };
                return Err(TemplateError { line, message });
            }
        }
    }
    let mut ctx = Context::new();
    funcs::declare(&mut ctx);
    for (k, v) in &vars.known {
        if let Val::Known(v) = v {
            ctx.declare_var(k.as_str(), v.clone());
        }
    }
    let mut template: hcl::Template = parsed.into();
    convert_conditions(&mut template);
    template.evaluate(&ctx).map_err(|e| TemplateError { line: None, message: e.to_string() })
}

/// Terraform converts an `%{ if }` condition to a bool, so the strings
/// `"true"` and `"false"` (what `template_file` passes for booleans) count;
/// `tobool` is that conversion.
fn convert_conditions(template: &mut hcl::Template) {
    use hcl::template::{Directive, Element};
    for element in template.elements_mut() {
        let Element::Directive(d) = element else { continue };
        match d.as_mut() {
            Directive::If(i) => {
                let cond = std::mem::replace(&mut i.cond_expr, hcl::Expression::Null);
                i.cond_expr = hcl::expr::FuncCall::builder("tobool").arg(cond).build().into();
                convert_conditions(&mut i.true_template);
                if let Some(f) = &mut i.false_template {
                    convert_conditions(f);
                }
            }
            Directive::For(f) => convert_conditions(&mut f.template),
        }
    }
}

/// Template variables for tests: `pairs`, passed by `owner`.
#[cfg(test)]
pub(crate) fn test_vars(owner: &str, pairs: &[(&str, Val)]) -> TemplateVars {
    TemplateVars {
        known: pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        whole: None,
        owner: owner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Val)]) -> TemplateVars {
        test_vars("data.template_file.t (main.tf:1)", pairs)
    }

    #[test]
    fn renders_interpolations_directives_and_escapes() {
        let v = vars(&[
            ("image", Val::Known(Value::from("k8s:v1"))),
            ("count", Val::Known(Value::from(3u64))),
            ("on", Val::Known(Value::Bool(true))),
            ("zones", Val::Known(Value::Array(vec![Value::from("a"), Value::from("b")]))),
        ]);
        let src = "image: ${image}\nn: ${count}\ncmd: $${HOME} %%{x}\n%{ if on ~}\nflag: yes\n%{ endif ~}\nzones:\n%{ for z in zones ~}\n- ${upper(z)}\n%{ endfor ~}\n";
        assert_eq!(
            render_template("t.yml", src, &v, 0).unwrap(),
            "image: k8s:v1\nn: 3\ncmd: ${HOME} %{x}\nflag: yes\nzones:\n- A\n- B\n"
        );
    }

    #[test]
    fn if_conditions_convert_strings_as_terraform() {
        // template_file passes booleans as strings; cty reads "1" and "0"
        // as bools as well as "true" and "false".
        let v = vars(&[
            ("a", Val::Known(Value::from("1"))),
            ("b", Val::Known(Value::from("0"))),
            ("c", Val::Known(Value::from("true"))),
        ]);
        let src = "%{ if a }A%{ endif }%{ if b }B%{ endif }%{ if c }C%{ endif }";
        assert_eq!(render_template("t.yml", src, &v, 0).unwrap(), "AC");
    }

    #[test]
    fn unknown_and_missing_variables_name_their_line() {
        let v = vars(&[
            ("image", Val::Known(Value::from("x"))),
            (
                "bucket",
                Val::Missing(
                    "`aws_s3_bucket.secrets` (main.tf:9) is known only after `terraform apply`"
                        .into(),
                ),
            ),
        ]);
        let e = render_template("t.yml", "a: ${image}\nb: ${bucket}\n", &v, 0).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(
            e.message.contains("${bucket} cannot be rendered before `terraform apply`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("aws_s3_bucket.secrets` (main.tf:9)"), "{}", e.message);
        let e = render_template("t.yml", "a: ${image}\n\n%{ if nope }x%{ endif }\n", &v, 0)
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("${nope} is not a variable of this template"), "{}", e.message);
        assert!(e.message.contains("passes bucket, image"), "{}", e.message);
        let e = render_template("t.yml", "a\nb: ${image\n", &v, 0).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("t.yml is not a valid template"), "{}", e.message);
        // A name bound by a for directive is not a variable of the template.
        let ok = render_template("t.yml", "%{ for i in [1] }${i}%{ endfor }", &v, 0).unwrap();
        assert_eq!(ok, "1");
    }

    #[test]
    fn count_and_for_each_make_instances_as_terraform_plans_them() {
        let addresses = |meta: &str, v: Value| -> Vec<String> {
            instances(meta, &v).unwrap().iter().map(Instance::address).collect()
        };
        assert_eq!(addresses("count", Value::from(2u64)), ["[0]", "[1]"]);
        assert_eq!(addresses("count", Value::from("1")), ["[0]"]);
        assert!(addresses("count", Value::from(0u64)).is_empty());
        let map: hcl::Map<String, Value> =
            [("b".to_string(), Value::from(1u64)), ("a".to_string(), Value::from(2u64))].into();
        assert_eq!(addresses("for_each", Value::Object(map)), [r#"["a"]"#, r#"["b"]"#]);
        let set = Value::Array(vec![Value::from("x"), Value::from("w"), Value::from("x")]);
        assert_eq!(
            instances("for_each", &set).unwrap(),
            [
                Instance::Each("w".into(), Value::from("w")),
                Instance::Each("x".into(), Value::from("x"))
            ]
        );
        assert!(instances("count", &Value::from(1.5)).unwrap_err().contains("not a whole number"));
        assert!(instances("count", &Value::from(-1)).is_err());
        assert!(
            instances("for_each", &Value::Array(vec![Value::from(1u64)]))
                .unwrap_err()
                .contains("must be a map, or set of strings")
        );
        // count.index and each.* are known in an instance, not outside one.
        let tree = crate::tree::MemTree::new();
        let scope = Scope {
            tree: &tree,
            cwd: String::new(),
            module: ".".into(),
            vars: BTreeMap::new(),
            locals: BTreeMap::new(),
            depth: 0,
            instance: None,
        };
        let expr: EditExpr =
            hcl::edit::parser::parse_expr("\"${each.key}=${each.value}\"").unwrap();
        let site = Site { file: "main.tf", text: "" };
        assert!(
            matches!(scope.eval(&expr, site), Val::Missing(why) if why.contains("outside a block with `for_each`"))
        );
        let one = scope.with_instance(Instance::Each("k".into(), Value::from("v")));
        assert_eq!(one.eval(&expr, site), Val::Known(Value::from("k=v")));
        let expr: EditExpr = hcl::edit::parser::parse_expr("count.index * 2").unwrap();
        assert_eq!(
            scope.with_instance(Instance::Count(3)).eval(&expr, site),
            Val::Known(Value::from(6u64))
        );
    }

    #[test]
    fn line_numbers_count_newlines_before_the_offset() {
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 2), 2);
        assert_eq!(line_at("a\nb\nc", 99), 3);
    }
}
