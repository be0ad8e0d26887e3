//! One environment of a Terraform-templated platform: the root module's variables,
//! each module instance's locals and arguments, and the manifests they template.

use super::eval::{
    self, Instance, Scope, Site, TemplateVars, Val, expr_refs, line_at, render_template,
};
use super::gotemplate::{self, Snippet};
use super::installed::{Installed, MANIFEST, MODULES_DIR, Mounted};
use super::source::{self, Era, Source};
use super::types;
use super::{ENVIRONMENTS, ModulesDir, TFVARS, files_in, is_manifest, objects, root_dir};
use crate::cache::{NoCache, Step, UnitCache, UnitKey};
use crate::kustomize::order;
use crate::layout::{Cluster, Error, Layout, Location, Unit};
use crate::resource::Resource;
use crate::tree::{self, Tree};
use hcl::edit::Span;
use hcl::edit::expr::{Expression as EditExpr, FuncCall, ObjectKey};
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::template::Element;
use std::collections::{BTreeMap, BTreeSet};

/// Bound on module nesting, so a module that calls itself ends.
const MAX_MODULE_DEPTH: usize = 16;

/// Arguments of a `module` block that are Terraform's, not the module's.
const META_ARGUMENTS: &[&str] =
    &["source", "version", "providers", "count", "for_each", "depends_on"];

/// One `.tf` (or `.tfvars`) file: its path, text and parsed body.
struct TfFile {
    path: String,
    text: String,
    body: Body,
}

impl TfFile {
    fn read(tree: &dyn Tree, at: &Location, path: &str) -> Result<TfFile, Error> {
        let text = tree::read_text(tree, path).map_err(|e| Error::read(&at.with_file(path), e))?;
        let body = hcl::edit::parser::parse_body(&text).map_err(|e| {
            at.with_file(path).invalid(format!(
                "line {}, column {}: not valid HCL: {}",
                e.location().line(),
                e.location().column(),
                e.message()
            ))
        })?;
        Ok(TfFile { path: path.to_string(), text, body })
    }

    fn site(&self) -> Site<'_> {
        Site { file: &self.path, text: &self.text }
    }

    fn line(&self, span: Option<std::ops::Range<usize>>) -> usize {
        line_at(&self.text, span.map_or(0, |s| s.start))
    }
}

/// The `.tf` files of a module directory, in name order (as Terraform reads them).
fn module_files(tree: &dyn Tree, at: &Location, dir: &str) -> Result<Vec<TfFile>, Error> {
    let mut names: Vec<String> =
        files_in(tree, dir).into_iter().filter(|n| n.ends_with(".tf")).collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let path = tree::join(dir, n).map_err(|e| Error::read(at, e))?;
            TfFile::read(tree, at, &path)
        })
        .collect()
}

fn blocks<'f>(
    files: &'f [TfFile],
    kind: &'f str,
) -> impl Iterator<Item = (&'f TfFile, &'f Block)> + 'f {
    files.iter().flat_map(move |f| {
        f.body.iter().filter_map(move |s| match s {
            Structure::Block(b) if b.ident.as_str() == kind => Some((f, b)),
            _ => None,
        })
    })
}

fn label(b: &Block, i: usize) -> &str {
    b.labels.get(i).map_or("", |l| l.as_str())
}

fn attr<'b>(b: &'b Block, name: &str) -> Option<&'b EditExpr> {
    b.body.get_attribute(name).map(|a| &a.value)
}

/// A value given to a module variable, and where it was given.
struct Given {
    val: Val,
    from: String,
}

/// The `variable` blocks of a module with their values: what the caller
/// gives, else the default, else missing; converted to the variable's
/// declared `type` as Terraform converts them, a value that does not
/// convert failing the environment as it fails `terraform plan`.
fn variables(
    files: &[TfFile],
    mut given: BTreeMap<String, Given>,
    unset: &dyn Fn(&str) -> String,
    scope: &Scope<'_>,
    at: &Location,
) -> Result<BTreeMap<String, Val>, Error> {
    let mut out = BTreeMap::new();
    for (f, b) in blocks(files, "variable") {
        let name = label(b, 0).to_string();
        let decl = format!("{}:{}", f.path, f.line(b.span()));
        let ty = match attr(b, "type") {
            Some(t) => Some(types::parse(&t.clone().into()).map_err(|e| {
                at.with_file(&f.path).invalid(format!("variable {name:?} ({decl}): type: {e}"))
            })?),
            None => None,
        };
        let (val, from) = match (given.remove(&name), attr(b, "default")) {
            (Some(g), _) => match g.val {
                Val::Missing(why) => (Val::Missing(format!("set at {}: {why}", g.from)), None),
                known => (known, Some(g.from)),
            },
            (None, Some(d)) => (scope.eval(d, f.site()), None),
            (None, None) => {
                (Val::Missing(unset(&format!("{} (line {})", f.path, f.line(b.span())))), None)
            }
        };
        let val = match (&ty, val) {
            (Some(ty), Val::Known(v)) => match types::convert(&v, ty) {
                Ok(v) => Val::Known(v),
                Err(e) => {
                    let message = match from {
                        Some(from) => format!(
                            "invalid value for input variable: the value given at {from} is not suitable for var.{name} declared at {decl}: {e}"
                        ),
                        None => format!(
                            "invalid default value for variable {name:?} ({decl}): this default value is not compatible with the variable's type constraint: {e}"
                        ),
                    };
                    return Err(at.with_file(&f.path).invalid(message));
                }
            },
            (_, v) => v,
        };
        out.insert(name, val);
    }
    Ok(out)
}

/// Evaluates the locals of a module, each after the locals it reads.
fn locals(files: &[TfFile], scope: &mut Scope<'_>) {
    let mut pending: Vec<(String, &EditExpr, Site<'_>)> = blocks(files, "locals")
        .flat_map(|(f, b)| {
            b.body.attributes().map(move |a| (a.key.as_str().to_string(), &a.value, f.site()))
        })
        .collect();
    loop {
        let names: BTreeSet<String> = pending.iter().map(|(n, _, _)| n.clone()).collect();
        let before = pending.len();
        let mut waiting = Vec::new();
        for (name, expr, site) in pending {
            let waits = expr_refs(expr).iter().any(|r| {
                r.root == "local"
                    && r.attr.as_ref().is_some_and(|a| a != &name && names.contains(a))
            });
            if waits {
                waiting.push((name, expr, site));
            } else {
                let v = scope.eval(expr, site);
                scope.locals.insert(name, v);
            }
        }
        pending = waiting;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (name, expr, site) in pending {
        let at = site.at(expr.span().map_or(0, |s| s.start));
        scope
            .locals
            .insert(name.clone(), Val::Missing(format!("local.{name} ({at}) depends on itself")));
    }
}

/// A manifest Terraform reads: a template and its variables, or a plain file.
struct Manifest {
    file: String,
    /// The file's text, read when it was found.
    text: String,
    vars: Option<TemplateVars>,
    /// For a `gotemplate_file`, its snippets: the template is Go's.
    snippets: Option<Vec<Snippet>>,
    /// The instance address of a block with `count` or `for_each`.
    address: Option<String>,
}

/// `file(...)` and `templatefile(...)` calls in an expression.
#[derive(Default)]
struct FileCalls<'e> {
    found: Vec<&'e FuncCall>,
}

impl<'e> FileCalls<'e> {
    fn collect(expr: &'e EditExpr) -> Vec<&'e FuncCall> {
        // The visitor cannot hand out references that outlive its calls, so
        // the walk is written out for the expressions that hold calls.
        let mut calls = FileCalls::default();
        calls.walk(expr);
        calls.found
    }

    fn walk(&mut self, expr: &'e EditExpr) {
        match expr {
            EditExpr::FuncCall(call) => {
                if call.name.namespace.is_empty()
                    && matches!(call.name.name.as_str(), "file" | "templatefile")
                {
                    self.found.push(call);
                }
                call.args.iter().for_each(|a| self.walk(a));
            }
            EditExpr::Array(items) => items.iter().for_each(|a| self.walk(a)),
            EditExpr::Object(o) => o.iter().for_each(|(_, v)| self.walk(v.expr())),
            EditExpr::StringTemplate(t) => t.iter().for_each(|e| self.walk_element(e)),
            EditExpr::HeredocTemplate(t) => t.template.iter().for_each(|e| self.walk_element(e)),
            EditExpr::Parenthesis(p) => self.walk(p.inner()),
            EditExpr::Conditional(c) => {
                self.walk(&c.cond_expr);
                self.walk(&c.true_expr);
                self.walk(&c.false_expr);
            }
            EditExpr::Traversal(t) => self.walk(&t.expr),
            EditExpr::UnaryOp(u) => self.walk(&u.expr),
            EditExpr::BinaryOp(b) => {
                self.walk(&b.lhs_expr);
                self.walk(&b.rhs_expr);
            }
            EditExpr::ForExpr(f) => self.walk(&f.value_expr),
            _ => {}
        }
    }

    fn walk_element(&mut self, e: &'e Element) {
        if let Element::Interpolation(i) = e {
            self.walk(&i.expr);
        }
    }
}

/// The path a `template = ...` argument reads with `file()`, when it does.
fn template_path(expr: &EditExpr) -> Option<&EditExpr> {
    match expr {
        EditExpr::FuncCall(call) if call.name.name.as_str() == "file" && call.args.len() == 1 => {
            call.args.iter().next()
        }
        EditExpr::StringTemplate(t) => match t.iter().collect::<Vec<_>>().as_slice() {
            [Element::Interpolation(i)] => template_path(&i.expr),
            _ => None,
        },
        EditExpr::Parenthesis(p) => template_path(p.inner()),
        _ => None,
    }
}

/// The variables a `vars = {...}` map (or `templatefile`'s second argument)
/// passes, each evaluated on its own so one unknown value spoils only itself.
fn template_vars(
    scope: &Scope<'_>,
    expr: Option<&EditExpr>,
    site: Site<'_>,
    owner: String,
) -> TemplateVars {
    let mut vars = TemplateVars { owner, ..TemplateVars::default() };
    match expr {
        None => {}
        Some(EditExpr::Object(o)) => {
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(id) => Val::Known(hcl::Value::from(id.as_str())),
                    ObjectKey::Expression(e) => scope.eval(e, site),
                };
                match key {
                    Val::Known(hcl::Value::String(k)) => {
                        vars.known.insert(k, scope.eval(v.expr(), site));
                    }
                    Val::Known(_) => {
                        vars.whole = Some(format!("{}: a key that is not a string", site.at(0)))
                    }
                    Val::Missing(why) => vars.whole = Some(why),
                }
            }
        }
        Some(e) => match scope.eval(e, site) {
            Val::Known(hcl::Value::Object(m)) => {
                vars.known = m.into_iter().map(|(k, v)| (k, Val::Known(v))).collect();
            }
            Val::Known(_) => {
                let at = site.at(e.span().map_or(0, |s| s.start));
                vars.whole = Some(format!("{at}: the variables are not a map"));
            }
            Val::Missing(why) => vars.whole = Some(why),
        },
    }
    vars
}

/// The `vars` of a template data source: its `vars = {...}` argument, or
/// the `vars { ... }` block that Terraform 0.11 and earlier also read.
fn block_vars(scope: &Scope<'_>, b: &Block, site: Site<'_>, owner: String) -> TemplateVars {
    if let Some(expr) = attr(b, "vars") {
        return template_vars(scope, Some(expr), site, owner);
    }
    let mut vars = TemplateVars { owner, ..TemplateVars::default() };
    for block in b.body.blocks().filter(|v| v.ident.as_str() == "vars" && v.labels.is_empty()) {
        for a in block.body.attributes() {
            vars.known.insert(a.key.as_str().to_string(), scope.eval(&a.value, site));
        }
    }
    vars
}

/// `template_file`'s `vars` is a map of strings: Terraform converts each
/// value before the template sees it (`1.0` is `"1"`, `true` is `"true"`,
/// so `%{ if n == 1 }` is false and `%{ if n == "1" }` true), and a list or
/// map fails the data source. `templatefile()` keeps the types.
fn vars_as_strings(vars: &mut TemplateVars) {
    let mut refused = None;
    for (name, v) in &mut vars.known {
        let Val::Known(value) = v else { continue };
        if value.is_null() {
            continue;
        }
        match super::funcs::text(value) {
            Ok(s) => *value = hcl::Value::String(s),
            Err(why) => {
                refused.get_or_insert_with(|| {
                    format!("vars.{name}: {why} (template_file passes its vars as strings)")
                });
            }
        }
    }
    if let Some(why) = refused {
        vars.known.clear();
        vars.whole = Some(why);
    }
}

/// Everything one environment's render shares.
struct Walk<'a> {
    /// The repository, with a modules directory mounted when one is given.
    tree: &'a dyn Tree,
    env: &'a str,
    root: String,
    cluster: Cluster,
    /// What `terraform init` installed, when the tree holds its manifest.
    installed: Option<Installed>,
    /// The Terraform versions the root module's `required_version` admits.
    era: Option<Era>,
    cache: &'a dyn UnitCache,
}

/// The root module's `terraform { required_version = "..." }`, when it is a literal.
fn required_version(files: &[TfFile]) -> Option<String> {
    blocks(files, "terraform").find_map(|(_, b)| match attr(b, "required_version")? {
        EditExpr::String(s) => Some(s.value().to_string()),
        _ => None,
    })
}

/// The key of a unit's build: its directory and, for each manifest, the
/// file, a digest of its text and snippets, the variables it is rendered
/// with and its instance address. The build reads nothing else (templates
/// read no files), so equal keys give equal objects whatever tree they
/// come from, a modules directory outside the repository included.
fn unit_spec(dir: &str, manifests: &[Manifest]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let digest = |text: &str| format!("{:x}", Sha256::digest(text.as_bytes()));
    let mut spec = format!("{dir}\n");
    for m in manifests {
        spec.push_str(&format!("{}\0{}\0{:?}\0{:?}\0", m.file, digest(&m.text), m.vars, m.address));
        for s in m.snippets.iter().flatten() {
            spec.push_str(&format!("{}\0{}\0", s.name, digest(&s.text)));
        }
        spec.push('\n');
    }
    spec.into_bytes()
}

/// A unit's objects: each manifest rendered (a template with its
/// variables, a Go template with its snippets, a plain file as written),
/// in kustomize's legacy order.
fn render_unit(manifests: &[Manifest], at: &Location) -> Result<Vec<Resource>, Error> {
    let mut out: Vec<Resource> = Vec::new();
    for m in manifests {
        let fat = at.with_file(&m.file);
        let rendered = match &m.vars {
            None => m.text.clone(),
            Some(vars) => match &m.snippets {
                None => render_template(&m.file, &m.text, vars, 0),
                Some(snippets) => gotemplate::render(&m.text, snippets, vars),
            }
            .map_err(|e| Error::Template { at: fat.clone(), message: e.to_string() })?,
        };
        let mut objs = objects(&fat, &rendered)?;
        if let Some(address) = &m.address {
            // One instance of a block with count or for_each: its address
            // tells the instances' objects apart.
            for r in &mut objs {
                r.source = format!("{} ({address})", m.file);
            }
        }
        out.extend(objs);
    }
    order::legacy_sort(&mut out);
    Ok(out)
}

impl Walk<'_> {
    /// Reads a manifest at `path` (from `file()`'s point of view) read by
    /// `what`; templates that are not manifests are reported and left out.
    fn manifest(
        &mut self,
        scope: &Scope<'_>,
        path: &Val,
        what: &str,
        at: &Location,
    ) -> Result<Option<(String, String)>, Error> {
        let path = match path {
            Val::Known(v) => super::funcs::text(v).and_then(|p| scope.file_path(&p)),
            Val::Missing(why) => Err(why.clone()),
        };
        let path = match path {
            Ok(p) => p,
            Err(why) => {
                self.cluster
                    .skipped
                    .push(format!("{what}: the file it reads cannot be known: {why}"));
                return Ok(None);
            }
        };
        if self.tree.kind(&path) != Some(tree::EntryKind::File) {
            return Err(
                at.invalid(format!("{what} reads {path}, which is not a file in the repository"))
            );
        }
        let text =
            tree::read_text(self.tree, &path).map_err(|e| Error::read(&at.with_file(&path), e))?;
        if !is_manifest(&text) {
            self.cluster.skipped.push(format!("{path}: read by {what}, not a Kubernetes manifest"));
            return Ok(None);
        }
        Ok(Some((path, text)))
    }

    /// The snippets of a `gotemplate_file`: every entry of the directory its
    /// `snippets` argument names (from where `terraform` runs), in name
    /// order, as the provider lists and parses them; none when it is unset
    /// or empty.
    fn snippets(
        &self,
        scope: &Scope<'_>,
        expr: Option<&EditExpr>,
        site: Site<'_>,
        what: &str,
        at: &Location,
    ) -> Result<Vec<Snippet>, Error> {
        let Some(expr) = expr else { return Ok(Vec::new()) };
        let dir = match scope.eval(expr, site) {
            Val::Known(v) => super::funcs::text(&v),
            Val::Missing(why) => Err(why),
        };
        let dir = match dir {
            Ok(d) if d.is_empty() => return Ok(Vec::new()),
            Ok(d) => scope.file_path(&d),
            Err(why) => Err(why),
        }
        .map_err(|why| {
            at.invalid(format!("{what}: its snippets directory cannot be known: {why}"))
        })?;
        let mut entries = self.tree.list(&dir).map_err(|_| {
            at.invalid(format!("{what}: snippets {dir} is not a directory of the repository"))
        })?;
        entries.sort();
        let mut out = Vec::with_capacity(entries.len());
        for (name, kind) in entries {
            let path = tree::join(&dir, &name).map_err(|e| Error::read(at, e))?;
            if kind != tree::EntryKind::File {
                return Err(at.invalid(format!(
                    "{what}: snippets {dir}: {path} is not a file, and the provider parses every entry of the directory"
                )));
            }
            let text = tree::read_text(self.tree, &path)
                .map_err(|e| Error::read(&at.with_file(&path), e))?;
            out.push(Snippet { name, text });
        }
        Ok(out)
    }

    /// The manifests of one module instance, in the order its files declare
    /// them; a block with `count` or `for_each` gives its manifests once per
    /// instance.
    fn manifests(
        &mut self,
        files: &[TfFile],
        scope: &Scope<'_>,
        at: &Location,
    ) -> Result<Vec<Manifest>, Error> {
        let mut out: Vec<Manifest> = Vec::new();
        for f in files {
            for s in f.body.iter() {
                let Structure::Block(b) = s else { continue };
                let address = match b.ident.as_str() {
                    "data" => format!("data.{}.{}", label(b, 0), label(b, 1)),
                    "resource" => format!("{}.{}", label(b, 0), label(b, 1)),
                    "locals" | "output" => {
                        self.block_manifests(f, b, scope, at, None, &mut out)?;
                        continue;
                    }
                    _ => continue,
                };
                match self.instances(scope, f, b, &address, at)? {
                    None => self.block_manifests(f, b, scope, at, None, &mut out)?,
                    Some(instances) => {
                        for instance in instances {
                            let address = format!("{address}{}", instance.address());
                            let scope = scope.with_instance(instance);
                            self.block_manifests(f, b, &scope, at, Some(address), &mut out)?;
                        }
                    }
                }
            }
        }
        // The same file read twice with the same variables (content and
        // etag of one object) is one manifest.
        let mut seen = BTreeSet::new();
        out.retain(|m| seen.insert(format!("{}\0{:?}", m.file, m.vars.as_ref().map(|v| &v.known))));
        Ok(out)
    }

    /// The instances of a block with `count` or `for_each` (`None` without
    /// either); a value kiln cannot know makes none, and is reported.
    fn instances(
        &mut self,
        scope: &Scope<'_>,
        f: &TfFile,
        b: &Block,
        address: &str,
        at: &Location,
    ) -> Result<Option<Vec<Instance>>, Error> {
        let Some((meta, expr)) =
            ["count", "for_each"].into_iter().find_map(|m| attr(b, m).map(|e| (m, e)))
        else {
            return Ok(None);
        };
        let line = f.line(b.span());
        match scope.eval(expr, f.site()) {
            Val::Known(v) => eval::instances(meta, &v).map(Some).map_err(|e| {
                at.with_file(&f.path).invalid(format!("{address} (line {line}): {e}"))
            }),
            Val::Missing(why) => {
                self.cluster.skipped.push(format!(
                    "{address} ({}:{line}): its {meta} cannot be known, so neither can its instances: {why}",
                    f.path
                ));
                Ok(Some(Vec::new()))
            }
        }
    }

    /// The manifests one block (one instance of it, at `address`) templates or reads.
    fn block_manifests(
        &mut self,
        f: &TfFile,
        b: &Block,
        scope: &Scope<'_>,
        at: &Location,
        address: Option<String>,
        out: &mut Vec<Manifest>,
    ) -> Result<(), Error> {
        let kind = b.ident.as_str();
        let line = f.line(b.span());
        if kind == "data" && matches!(label(b, 0), "template_file" | "gotemplate_file") {
            let go = label(b, 0) == "gotemplate_file";
            let what = format!("data.{}.{} ({}:{line})", label(b, 0), label(b, 1), f.path);
            let Some(template) = attr(b, "template") else { return Ok(()) };
            let path = match template_path(template) {
                Some(path) => scope.eval(path, f.site()),
                // The gotemplate provider reads `template` as a file's
                // path when a file is there, else as the text itself.
                None if go => match scope.eval(template, f.site()) {
                    Val::Known(hcl::Value::String(p))
                        if scope
                            .file_path(&p)
                            .is_ok_and(|p| self.tree.kind(&p) == Some(tree::EntryKind::File)) =>
                    {
                        Val::Known(hcl::Value::String(p))
                    }
                    _ => {
                        self.cluster
                            .skipped
                            .push(format!("{what}: an inline template, not a manifest file"));
                        return Ok(());
                    }
                },
                None => {
                    self.cluster
                        .skipped
                        .push(format!("{what}: an inline template, not a manifest file"));
                    return Ok(());
                }
            };
            if let Some((file, text)) = self.manifest(scope, &path, &what, at)? {
                let snippets = if go {
                    Some(self.snippets(scope, attr(b, "snippets"), f.site(), &what, at)?)
                } else {
                    None
                };
                let mut vars = block_vars(scope, b, f.site(), what);
                vars_as_strings(&mut vars);
                let address = address.clone();
                out.push(Manifest { file, text, vars: Some(vars), snippets, address });
            }
            return Ok(());
        }
        if !matches!(kind, "resource" | "data" | "locals" | "output") {
            return Ok(());
        }
        let mut exprs: Vec<&EditExpr> = b.body.attributes().map(|a| &a.value).collect();
        nested_attributes(&b.body, &mut exprs);
        for expr in exprs {
            for call in FileCalls::collect(expr) {
                let name = call.name.name.as_str();
                let what = format!("{name}() ({}:{})", f.path, f.line(call.span()));
                let mut args = call.args.iter();
                let Some(path) = args.next() else { continue };
                let path = scope.eval(path, f.site());
                let Some((file, text)) = self.manifest(scope, &path, &what, at)? else { continue };
                let vars = (name == "templatefile")
                    .then(|| template_vars(scope, args.next(), f.site(), what));
                out.push(Manifest { file, text, vars, snippets: None, address: address.clone() });
            }
        }
        // An S3 object uploaded from a file (`source = "..."`).
        if kind == "resource"
            && let Some(source @ EditExpr::String(_)) = attr(b, "source")
        {
            let what = format!("{}.{} ({}:{line})", label(b, 0), label(b, 1), f.path);
            let path = scope.eval(source, f.site());
            if let Some((file, text)) = self.manifest(scope, &path, &what, at)? {
                let address = address.clone();
                out.push(Manifest { file, text, vars: None, snippets: None, address });
            }
        }
        Ok(())
    }

    /// Renders one module instance as a unit (through the unit cache),
    /// then the modules it calls. `path` is the module's static path (the
    /// module names from the root, instance keys left out), as
    /// `modules.json` keys it.
    #[allow(clippy::too_many_arguments)]
    fn module(
        &mut self,
        dir: &str,
        unit: &str,
        path: &[String],
        source_file: &str,
        given: BTreeMap<String, Given>,
        unset: &dyn Fn(&str) -> String,
        depth: usize,
    ) -> Result<(), Error> {
        let at = Location::new(self.env, unit, dir);
        if depth > MAX_MODULE_DEPTH {
            return Err(at.invalid(format!("modules nest more than {MAX_MODULE_DEPTH} deep")));
        }
        let files = module_files(self.tree, &at, dir)?;
        if depth == 0 {
            self.era = required_version(&files).and_then(|c| Era::of_constraint(&c));
        }
        let module_path =
            if dir == self.root { ".".to_string() } else { tree::relative(&self.root, dir) };
        let mut scope = Scope {
            tree: self.tree,
            cwd: self.root.clone(),
            module: module_path,
            vars: BTreeMap::new(),
            locals: BTreeMap::new(),
            depth: 0,
            instance: None,
        };
        scope.vars = variables(&files, given, unset, &scope, &at)?;
        locals(&files, &mut scope);
        let manifests = self.manifests(&files, &scope, &at)?;
        if !manifests.is_empty() {
            let spec = unit_spec(dir, &manifests);
            let key = UnitKey { cluster: self.env, unit, step: Step::Terraform, spec: &spec };
            let objects = self.cache.build(&key, self.tree, &|_| render_unit(&manifests, &at))?;
            if !objects.is_empty() {
                let mut u = Unit::new(unit, if dir.is_empty() { "." } else { dir }, source_file);
                u.objects = objects;
                self.cluster.units.push(u);
            }
        }
        for (f, b) in blocks(&files, "module") {
            let name = label(b, 0);
            let line = f.line(b.span());
            let child_unit =
                if unit == ROOT_UNIT { name.to_string() } else { format!("{unit}.{name}") };
            let mut child_path = path.to_vec();
            child_path.push(name.to_string());
            let child = self.module_dir(dir, &child_path, f, b, line)?;
            // A module with count or for_each is called once per instance,
            // each a unit named by its instance address.
            let calls: Vec<(String, Option<Scope<'_>>)> =
                match self.instances(&scope, f, b, &format!("module.{name}"), &at)? {
                    None => vec![(child_unit, None)],
                    Some(instances) => instances
                        .into_iter()
                        .map(|i| {
                            (format!("{child_unit}{}", i.address()), Some(scope.with_instance(i)))
                        })
                        .collect(),
                };
            for (child_unit, instance_scope) in calls {
                let scope = instance_scope.as_ref().unwrap_or(&scope);
                let args: BTreeMap<String, Given> = b
                    .body
                    .attributes()
                    .filter(|a| !META_ARGUMENTS.contains(&a.key.as_str()))
                    .map(|a| {
                        let from = format!("{}:{}", f.path, f.line(a.span()));
                        (
                            a.key.as_str().to_string(),
                            Given { val: scope.eval(&a.value, f.site()), from },
                        )
                    })
                    .collect();
                let call = format!("module.{child_unit} ({}:{line})", f.path);
                let unset =
                    move |decl: &str| format!("{call} does not set it and {decl} gives no default");
                self.module(&child, &child_unit, &child_path, &f.path, args, &unset, depth + 1)?;
            }
        }
        Ok(())
    }

    /// The era a source is read in when the root module gives no
    /// `required_version`: the address dates the configuration. A registry
    /// address (`namespace/name/provider`) is read as one (valid from
    /// 0.10.6 on), unless `terraform init` recorded no install of that
    /// call from that address and the repository holds a directory at that
    /// path from the calling module: then only go-getter's file detector,
    /// before the registry, could have read it.
    fn undated_era(&self, dir: &str, module_path: &[String], source: &str) -> Era {
        let installed = self.installed.as_ref().is_some_and(|i| i.has(module_path, source));
        let local_dir =
            tree::join(dir, source).is_ok_and(|d| self.tree.kind(&d) == Some(tree::EntryKind::Dir));
        if source::is_registry_address(source) && !installed && local_dir {
            Era::Detectors
        } else {
            Era::Registry
        }
    }

    /// The directory of the module a `module` block calls: a local path
    /// (as the Terraform version the root module targets reads one; see
    /// [`source`]) from the calling module's directory, or where `terraform
    /// init` installed a remote package (see [`installed`]). A remote module
    /// that is not installed fails: kiln fetches nothing, and Terraform
    /// cannot plan without it either.
    fn module_dir(
        &self,
        dir: &str,
        module_path: &[String],
        f: &TfFile,
        b: &Block,
        line: usize,
    ) -> Result<String, Error> {
        let call = format!("module.{} ({}:{line})", module_path.join("."), f.path);
        let fail =
            |why: String| Location::new(self.env, "", &f.path).invalid(format!("{call}: {why}"));
        let source = match attr(b, "source") {
            Some(EditExpr::String(s)) => s.value().to_string(),
            Some(_) => return Err(fail("source must be a literal string".to_string())),
            None => return Err(fail("no source".to_string())),
        };
        let era = self.era.unwrap_or_else(|| self.undated_era(dir, module_path, &source));
        let child = match source::classify(&source, era).map_err(&fail)? {
            Source::Local(rel) => {
                let child =
                    tree::join(dir, &rel).map_err(|e| fail(format!("source {source:?}: {e}")))?;
                if self.tree.kind(&child) != Some(tree::EntryKind::Dir) {
                    return Err(fail(format!(
                        "source {source:?} is {child}, which is not a directory of the repository"
                    )));
                }
                child
            }
            Source::Remote => {
                let how = format!(
                    "kiln fetches no module: run `terraform init` (or `terraform get`) in {} and commit {MODULES_DIR}, or give kiln that directory with --terraform-modules DIR (terraformModules: in kiln.yaml)",
                    if self.root.is_empty() { "." } else { &self.root }
                );
                let Some(installed) = &self.installed else {
                    return Err(fail(format!(
                        "source {source:?} is not fetched: no {MODULES_DIR}/{MANIFEST} in {}; {how}",
                        if self.root.is_empty() { "." } else { &self.root }
                    )));
                };
                let child = installed
                    .dir(&self.root, module_path, &source)
                    .map_err(|why| fail(format!("source {source:?}: {why}; {how}")))?;
                if self.tree.kind(&child) != Some(tree::EntryKind::Dir) {
                    return Err(fail(format!(
                        "source {source:?}: {} installs it at {child}, which is missing; {how}",
                        installed.path
                    )));
                }
                child
            }
        };
        Ok(child)
    }
}

fn nested_attributes<'b>(body: &'b Body, out: &mut Vec<&'b EditExpr>) {
    for b in body.blocks() {
        out.extend(b.body.attributes().map(|a| &a.value));
        nested_attributes(&b.body, out);
    }
}

/// The unit of the root module's own manifests.
pub const ROOT_UNIT: &str = "root";

/// The values the root module's variables get before defaults: `terraform.tfvars`,
/// then `*.auto.tfvars` in name order, then the environment's file, each
/// later one winning (Terraform's order for `-var-file` given last).
fn root_values(tree: &dyn Tree, root: &str, env: &str) -> Result<BTreeMap<String, Given>, Error> {
    let mut names: Vec<String> = files_in(tree, root)
        .into_iter()
        .filter(|n| n == "terraform.tfvars" || n.ends_with(".auto.tfvars"))
        .collect();
    names.sort_by_key(|n| (n != "terraform.tfvars", n.clone()));
    let mut paths = names
        .iter()
        .map(|n| tree::join(root, n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::read(&Location::new(env, "", root), e))?;
    paths.push(format!("{ENVIRONMENTS}/{env}{TFVARS}"));
    let mut out = BTreeMap::new();
    // A tfvars file holds values only: nothing in scope.
    let empty = Scope {
        tree,
        cwd: root.to_string(),
        module: ".".to_string(),
        vars: BTreeMap::new(),
        locals: BTreeMap::new(),
        depth: 0,
        instance: None,
    };
    for path in paths {
        let f = TfFile::read(tree, &Location::new(env, "", &path), &path)?;
        for a in f.body.attributes() {
            let from = format!("{}:{}", f.path, f.line(a.span()));
            out.insert(
                a.key.as_str().to_string(),
                Given { val: empty.eval(&a.value, f.site()), from },
            );
        }
    }
    Ok(out)
}

/// Renders one environment: the root module with `environments/<env>.tfvars`,
/// then every module it calls, each module instance one unit.
pub fn render_environment(tree: &dyn Tree, env: &str) -> Result<Cluster, Error> {
    render_environment_with(tree, env, None, &NoCache)
}

/// [`render_environment`], with a modules directory (what `terraform init`
/// left in `.terraform/modules`, mounted there; see [`installed`]) and each
/// unit's build handed to `cache`: the walk through the modules (variables,
/// locals, arguments, which templates are read with which variables) runs
/// every time, and gives each unit's key; rendering the templates into
/// objects is the build.
pub fn render_environment_with(
    tree: &dyn Tree,
    env: &str,
    modules: Option<ModulesDir<'_>>,
    cache: &dyn UnitCache,
) -> Result<Cluster, Error> {
    let root = root_dir(tree).ok_or_else(|| Error::Empty {
        layout: Layout::Terraform,
        message: format!("no .tf file in {}/ or at the repository root", super::TERRAFORM),
    })?;
    let mount_at = tree::join(&root, MODULES_DIR)
        .map_err(|e| Error::read(&Location::new(env, "", &root), e))?;
    let mounted = modules.map(|m| Mounted {
        base: tree,
        at: mount_at,
        modules: m.tree,
        modules_root: m.root.to_string(),
    });
    let tree: &dyn Tree = match &mounted {
        Some(m) => m,
        None => tree,
    };
    let installed = Installed::read(tree, &root).map_err(|message| Error::Config { message })?;
    let given = root_values(tree, &root, env)?;
    let env_file = format!("{ENVIRONMENTS}/{env}{TFVARS}");
    let unset = |decl: &str| format!("{env_file} does not set it and {decl} gives no default");
    let mut walk = Walk {
        tree,
        env,
        root: root.clone(),
        cluster: Cluster::new(env),
        installed,
        era: None,
        cache,
    };
    walk.module(&root, ROOT_UNIT, &[], &env_file, given, &unset, 0)?;
    if walk.cluster.units.is_empty() {
        return Err(Error::Empty {
            layout: Layout::Terraform,
            message: format!(
                "environment {env}: no Kubernetes manifest among the templates and files the modules in {} read{}",
                if root.is_empty() { "." } else { &root },
                if walk.cluster.skipped.is_empty() {
                    String::new()
                } else {
                    format!(" (left out: {})", walk.cluster.skipped.join("; "))
                }
            ),
        });
    }
    Ok(walk.cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(pairs: &[(&str, hcl::Value)]) -> TemplateVars {
        TemplateVars {
            known: pairs.iter().map(|(k, v)| (k.to_string(), Val::Known(v.clone()))).collect(),
            whole: None,
            owner: "data.template_file.t (main.tf:1)".to_string(),
        }
    }

    /// Each module instance's render goes through the unit cache, keyed by
    /// what it renders: a second render of an unchanged environment builds
    /// nothing; a changed template, environment file or module argument
    /// builds the units it reaches; a comment in a module builds none.
    #[test]
    fn module_instances_are_cached_by_what_they_render() {
        use crate::tree::MemTree;
        use std::sync::atomic::Ordering;
        let memo = crate::cache::tests::Memo::default();
        let mut t = MemTree::new();
        t.insert("environments/dev.tfvars", "image = \"a:1\"\n");
        t.insert(
            "terraform/main.tf",
            "variable \"image\" {}\nmodule \"m\" {\n  source = \"./m\"\n  image  = var.image\n}\nlocals {\n  ns = file(\"ns.yml\")\n}\n",
        );
        t.insert("terraform/ns.yml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n");
        let module = "variable \"image\" {}\ndata \"template_file\" \"p\" {\n  template = file(\"${path.module}/pod.yml\")\n  vars     = { image = var.image }\n}\n";
        t.insert("terraform/m/main.tf", module);
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: ${image}\n";
        t.insert("terraform/m/pod.yml", pod);
        let ran = || memo.ran.load(Ordering::SeqCst);
        let image = |c: &Cluster| crate::yaml::to_string(&c.units[1].objects[0].value);
        let first = render_environment_with(&t, "dev", None, &memo).unwrap();
        assert_eq!((ran(), first.units.len()), (2, 2));
        assert!(image(&first).contains("image: a:1"), "{}", image(&first));
        render_environment_with(&t, "dev", None, &memo).unwrap();
        assert_eq!(ran(), 2, "nothing built again");
        t.insert("terraform/m/main.tf", format!("{module}# a note\n"));
        render_environment_with(&t, "dev", None, &memo).unwrap();
        assert_eq!(ran(), 2, "a comment changes no unit's key");
        t.insert("terraform/m/pod.yml", pod.replace("name: p", "name: q"));
        render_environment_with(&t, "dev", None, &memo).unwrap();
        assert_eq!(ran(), 3, "the template's unit only");
        t.insert("environments/dev.tfvars", "image = \"a:2\"\n");
        let last = render_environment_with(&t, "dev", None, &memo).unwrap();
        assert_eq!(ran(), 4, "the unit the variable reaches");
        assert!(image(&last).contains("image: a:2"), "{}", image(&last));
        assert_eq!(last.units, render_environment(&t, "dev").unwrap().units);
    }

    #[test]
    fn template_file_vars_reach_the_template_as_strings() {
        let mut vars = known(&[
            ("n", hcl::Value::from(1)),
            ("f", hcl::Value::from(1.5)),
            ("b", hcl::Value::from(true)),
            ("s", hcl::Value::from("x")),
        ]);
        vars_as_strings(&mut vars);
        let text = "%{ if n == 1 }num%{ else }str%{ endif } %{ if n == \"1\" }eq%{ endif } ${f} %{ if b }yes%{ endif } ${s}";
        assert_eq!(render_template("t.yml", text, &vars, 0).unwrap(), "str eq 1.5 yes x");
    }

    #[test]
    fn template_file_vars_refuse_a_list() {
        let mut vars = known(&[
            ("l", hcl::Value::Array(vec![hcl::Value::from("a")])),
            ("s", hcl::Value::from("x")),
        ]);
        vars_as_strings(&mut vars);
        let err = render_template("t.yml", "${s}", &vars, 0).unwrap_err();
        assert!(
            err.message.contains("vars.l: a list where a string is required"),
            "{}",
            err.message
        );
    }
}
