//! The executor: walks a parsed tree with data and writes the output, within a step and depth budget.
//!
//! Evaluation follows Go's `text/template/exec.go`: a missing map key is an
//! invalid value that prints `<no value>`; a present key holding nil is a nil
//! interface, and a field of it is a "nil pointer" error; each command's
//! nil result turns into the invalid value; `if`, `with` and `range` pop the
//! variables they declare; templates called with `{{template}}` see only `$`.
//! Every node costs one unit of fuel, so a runaway template stops with an
//! error instead of running forever.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use super::ast::{Branch, Command, Node, Operand, Pipe, Tree};
use super::fmt::{display, quote};
use super::funcs::{Funcs, Function, Param, builtin_arity, call_builtin, is_builtin};
use super::value::{Elem, MapRef, Value};
use super::{Error, MissingKey, Options, Templates};

/// Shared limits of one execution, including nested `include`/`tpl` calls.
pub(crate) struct Budget {
    fuel: Cell<u64>,
    /// Executions in progress: `{{template}}` calls and templates run by functions.
    nesting: Cell<usize>,
    output: Cell<usize>,
    /// Executions of each template started by a function and in progress.
    active: RefCell<HashMap<String, usize>>,
}

impl Budget {
    pub(crate) fn new(options: &Options) -> Self {
        Budget {
            fuel: Cell::new(options.fuel),
            nesting: Cell::new(0),
            output: Cell::new(0),
            active: RefCell::new(HashMap::new()),
        }
    }
}

/// The context a function is called in: lets a function such as Helm's
/// `include` or `tpl` run templates of the same set under the same budget.
pub struct Call<'a> {
    machine: &'a Machine<'a>,
}

impl Call<'_> {
    /// Executes the template `name` of the current set with `data`. As Go's
    /// `ExecuteTemplate`, it starts a new execution: its `{{template}}`
    /// calls count from 0 towards [`Options::max_depth`].
    pub fn execute_template(&self, name: &str, data: Value) -> Result<String, String> {
        let active = &self.machine.budget.active;
        *active.borrow_mut().entry(name.to_string()).or_insert(0) += 1;
        let r = self.machine.run(name, data).map_err(Error::into_text);
        if let Some(n) = active.borrow_mut().get_mut(name) {
            *n -= 1;
        }
        r
    }

    /// How many executions of `name` that [`Call::execute_template`] started
    /// are in progress: how deeply a function such as Helm's `include` nests
    /// the same template.
    pub fn active(&self, name: &str) -> usize {
        self.machine.budget.active.borrow().get(name).copied().unwrap_or(0)
    }

    /// Parses `text` as a template named `name` in a copy of the current set
    /// (its definitions added to the copy) and executes it with `data`. The
    /// copy shares the set's templates, so that nested calls cost only what
    /// they parse.
    pub fn execute_text(&self, name: &str, text: &str, data: Value) -> Result<String, String> {
        let m = self.machine;
        let mut set = m.templates.layer();
        set.parse(name, text, m.funcs).map_err(|e| e.to_string())?;
        let inner =
            Machine { templates: &set, funcs: m.funcs, options: m.options, budget: m.budget };
        inner.run(name, data).map_err(Error::into_text)
    }

    /// The functions available to the templates.
    pub fn funcs(&self) -> &Funcs {
        self.machine.funcs
    }
}

/// Everything an execution needs besides the state of one template.
pub(crate) struct Machine<'a> {
    pub templates: &'a Templates,
    pub funcs: &'a Funcs,
    pub options: &'a Options,
    pub budget: &'a Budget,
}

impl Machine<'_> {
    /// Executes the template `name` with `data` as dot and `$`.
    pub(crate) fn run(&self, name: &str, data: Value) -> Result<String, Error> {
        // Go's Execute takes dot as an `any`: a nil one is the invalid
        // value, whose fields are invalid too rather than a nil-pointer error.
        let data = if matches!(data, Value::Nil) { Value::Missing } else { data };
        let Some(tree) = self.templates.get(name) else {
            return Err(Error::NoTemplate { name: name.to_string() });
        };
        self.enter().map_err(|e| Error::Nesting { name: name.to_string(), message: e })?;
        let mut out = String::new();
        let mut state = State {
            m: self,
            tree: &tree,
            vars: vec![("$".into(), data.clone(), false)],
            at: At::None,
            dot_iface: false,
            depth: 0,
        };
        let result = state.walk_list(&data, &tree.root, &mut out);
        self.leave();
        result.map(|_| out)
    }

    /// Counts one more nested execution, unless that would go past the
    /// nesting bound or too near the end of the stack.
    fn enter(&self) -> Result<(), String> {
        let nesting = self.budget.nesting.get();
        if nesting >= self.options.max_nesting {
            return Err(format!(
                "template calls nested deeper than {} levels",
                self.options.max_nesting
            ));
        }
        if super::stack::exhausted() {
            return Err(format!(
                "template calls nested {nesting} levels deep exhaust the execution stack"
            ));
        }
        self.budget.nesting.set(nesting + 1);
        Ok(())
    }

    fn leave(&self) {
        self.budget.nesting.set(self.budget.nesting.get().saturating_sub(1));
    }
}

/// How a list of nodes ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node being evaluated, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Op(&'t Operand),
    Pipe(&'t Pipe),
}

type R<T> = Result<T, Error>;

struct State<'m, 't> {
    m: &'m Machine<'m>,
    tree: &'t Arc<Tree>,
    /// Variables in scope: name, value, and whether the value is a range
    /// element Go holds as an `interface {}`.
    vars: Vec<(String, Value, bool)>,
    at: At<'t>,
    /// Dot is an element of a list or map being ranged over, which Go holds
    /// as an `interface {}` (and names so in field errors); a pipeline's
    /// result, the data and a template's argument have their own type.
    dot_iface: bool,
    /// How many `{{template}}` calls deep this state is in its execution.
    depth: usize,
}

impl<'m, 't> State<'m, 't> {
    fn error(&self, message: impl Into<String>) -> Error {
        let message = message.into();
        let (pos, context) = match self.at {
            At::None => {
                return Error::Exec { text: format!("template: {}: {}", self.tree.name, message) };
            }
            At::Op(o) => (o.pos(), o.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
        };
        Error::Exec {
            text: format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                quote(&self.tree.name),
                context,
                message
            ),
        }
    }

    fn tick(&self) -> R<()> {
        let fuel = self.m.budget.fuel.get();
        if fuel == 0 {
            return Err(self.error(format!(
                "template execution exceeded its budget of {} steps",
                self.m.options.fuel
            )));
        }
        self.m.budget.fuel.set(fuel - 1);
        Ok(())
    }

    fn write(&self, out: &mut String, s: &str) -> R<()> {
        let total = self.m.budget.output.get() + s.len();
        if total > self.m.options.max_output {
            return Err(
                self.error(format!("template output exceeds {} bytes", self.m.options.max_output))
            );
        }
        self.m.budget.output.set(total);
        out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t [Node], out: &mut String) -> R<Flow> {
        for node in list {
            match self.walk(dot, node, out)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'t Node, out: &mut String) -> R<Flow> {
        self.tick()?;
        match node {
            Node::Text(t) => self.write(out, t)?,
            Node::Action(pipe) => self.walk_action(dot, pipe, out)?,
            Node::If(b) => return self.walk_if(dot, b, false, out),
            Node::With(b) => return self.walk_if(dot, b, true, out),
            Node::Range(b) => {
                let mark = self.vars.len();
                let r = self.walk_range(dot, b, out);
                self.vars.truncate(mark);
                r?;
            }
            Node::Template { pos, name, pipe } => self.walk_template(dot, *pos, name, pipe, out)?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// `{{template NAME PIPE}}`: the named template with the pipeline's
    /// value as dot, one level deeper. Each arm of [`State::walk`] that
    /// recurses is a function of its own, so that a nesting level costs
    /// only the stack frames of the arms it passes through.
    #[inline(never)]
    fn walk_template(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &str,
        pipe: &'t Option<Pipe>,
        out: &mut String,
    ) -> R<()> {
        let context = || match pipe {
            Some(p) => format!("{{{{template {} {p}}}}}", quote(name)),
            None => format!("{{{{template {}}}}}", quote(name)),
        };
        let Some(tree) = self.m.templates.get(name) else {
            let e = self.error_at(pos, &context());
            return Err(e.with_message(format!("template {} not defined", quote(name))));
        };
        // Go checks its depth before it evaluates the argument.
        if self.depth >= self.m.options.max_depth {
            let e = self.error_at(pos, &context());
            return Err(e.with_message(format!(
                "exceeded maximum template depth ({})",
                self.m.options.max_depth
            )));
        }
        let data = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Missing,
        };
        self.at = At::None;
        if let Err(message) = self.m.enter() {
            return Err(self.error_at(pos, &context()).with_message(message));
        }
        let mut inner = State {
            m: self.m,
            tree: &tree,
            vars: vec![("$".into(), data.clone(), false)],
            at: At::None,
            dot_iface: false,
            depth: self.depth + 1,
        };
        let r = inner.walk_list(&data, &tree.root, out);
        self.m.leave();
        r?;
        Ok(())
    }

    /// `{{PIPE}}`: the pipeline's value printed, unless it declares variables.
    #[inline(never)]
    fn walk_action(&mut self, dot: &Value, pipe: &'t Pipe, out: &mut String) -> R<()> {
        let v = self.eval_pipeline(dot, pipe)?;
        if pipe.decl.is_empty() {
            self.at = At::Pipe(pipe);
            match &v {
                // `%v` of a string is the string: written without a copy.
                Value::String(s) => self.write(out, s)?,
                _ => {
                    let s = self.printable(&v)?;
                    self.write(out, &s)?;
                }
            }
        }
        Ok(())
    }

    /// `{{if}}` and `{{with}}` (`with` true): one branch by the pipeline's truth.
    #[inline(never)]
    fn walk_if(&mut self, dot: &Value, b: &'t Branch, with: bool, out: &mut String) -> R<Flow> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if v.is_true() {
            if with {
                let outer = std::mem::replace(&mut self.dot_iface, false);
                let flow = self.walk_list(&v, &b.list, out);
                self.dot_iface = outer;
                flow?
            } else {
                self.walk_list(dot, &b.list, out)?
            }
        } else if let Some(else_list) = &b.else_list {
            self.walk_list(dot, else_list, out)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    /// Go's `printableValue` followed by `fmt.Fprint`.
    fn printable(&self, v: &Value) -> R<String> {
        if let Value::Func(_) = v {
            return Err(self.error(format!(
                "can't print {} of type {}",
                self.context(),
                v.type_name()
            )));
        }
        if let Value::Struct(st) = v
            && st.pointer_string
            && let Some(text) = &st.string
        {
            return Ok(text.clone());
        }
        Ok(display(v))
    }

    fn context(&self) -> String {
        match self.at {
            At::Pipe(p) => p.to_string(),
            At::Op(o) => o.to_string(),
            At::None => String::new(),
        }
    }

    fn walk_range(&mut self, dot: &Value, b: &'t Branch, out: &mut String) -> R<()> {
        let v = self.eval_pipeline(dot, &b.pipe)?.unwrap_map_type();
        let mark = self.vars.len();
        // Items come one at a time, so a huge integer range meets the step
        // budget instead of being built in memory first.
        let items: Box<dyn Iterator<Item = (Value, Value)>> = match &v {
            Value::List(l) => {
                let l = l.clone();
                Box::new((0..l.len()).map(move |i| (Value::Int(i as i64), l[i].clone())))
            }
            Value::Map(m) => Box::new(m.entries().into_iter().map(|(k, e)| (Value::from(k), e))),
            Value::Int(_)
            | Value::Int64(_)
            | Value::Uint64(_)
            | Value::Uint8(_)
            | Value::Named(_) => {
                let n = v.as_integer().unwrap_or(0);
                // Go reports where the pipeline's evaluation ended.
                if b.pipe.decl.len() > 1 {
                    return Err(
                        self.error(format!("can't use {n} to iterate over more than one variable"))
                    );
                }
                // The counter has the integer's own type, as Go's range gives it.
                let typed: Box<dyn Fn(i128) -> Value> = match v {
                    Value::Int64(_) => Box::new(|i| Value::Int64(i as i64)),
                    Value::Uint64(_) => Box::new(|i| Value::Uint64(i as u64)),
                    Value::Uint8(_) => Box::new(|i| Value::Uint8(i as u8)),
                    Value::Named(n) => Box::new(move |i| Value::named(n.ty, i as i64)),
                    _ => Box::new(|i| Value::Int(i as i64)),
                };
                Box::new((0..n).map(move |i| (typed(i), typed(i))))
            }
            Value::Missing | Value::Nil => Box::new(std::iter::empty()),
            other => {
                return Err(self.error(format!("range can't iterate over {}", display(other))));
            }
        };
        let mut items = items.peekable();
        if items.peek().is_none() {
            if let Some(else_list) = &b.else_list {
                self.walk_list(dot, else_list, out)?;
            }
            return Ok(());
        }
        for (index, elem) in items {
            self.tick()?;
            let decl = &b.pipe.decl;
            // What a `[]interface{}` or a map holds is an `interface {}`;
            // the elements of a typed slice (`splitList`'s `[]string`,
            // `until`'s `[]int`) or map (`splitn`'s `map[string]string`)
            // and an integer's counter are concrete.
            let elem_iface = match &v {
                Value::List(l) => matches!(l.elem(), Elem::Any),
                Value::Map(m) => m.holds_interface(),
                _ => v.as_integer().is_none(),
            };
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0].name, index.clone(), false)?;
                    self.set_var(&decl[1].name, elem.clone(), elem_iface)?;
                } else if let Some(d) = decl.first() {
                    self.set_var(&d.name, elem.clone(), elem_iface)?;
                }
            } else {
                let n = self.vars.len();
                match decl.len() {
                    1 => (self.vars[n - 1].1, self.vars[n - 1].2) = (elem.clone(), elem_iface),
                    2 => {
                        (self.vars[n - 1].1, self.vars[n - 1].2) = (elem.clone(), elem_iface);
                        self.vars[n - 2].1 = index.clone();
                    }
                    _ => {}
                }
            }
            let outer = std::mem::replace(&mut self.dot_iface, elem_iface);
            let flow = self.walk_list(&elem, &b.list, out);
            self.dot_iface = outer;
            self.vars.truncate(mark);
            match flow? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        Ok(())
    }

    fn set_var(&mut self, name: &str, v: Value, iface: bool) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                slot.2 = iface;
                Ok(())
            }
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _, _)| n == name) {
            Some((_, v, _)) => Ok(v.clone()),
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            // A nil interface result becomes the invalid value, as Go's
            // `reflect.ValueOf(value.Interface())` does.
            value = Some(match v {
                Value::Nil => Value::Missing,
                v => v,
            });
        }
        let value = value.unwrap_or(Value::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&var.name, value.clone(), false)?;
            } else {
                self.vars.push((var.name.clone(), value.clone(), false));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Operand], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            // Go names a parenthesised pipeline without its parentheses.
            let first = match &args[0] {
                Operand::Pipe(p) => p.to_string(),
                other => other.to_string(),
            };
            return Err(self.error(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'t Command, fin: Option<Value>) -> R<Value> {
        self.tick()?;
        let first = &cmd.args[0];
        match first {
            Operand::Field(_, idents) => {
                self.at = At::Op(first);
                self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, fin)
            }
            Operand::Chain(_, node, fields) => {
                self.at = At::Op(first);
                let recv = self.eval_chain_receiver(dot, first, node)?;
                self.eval_field_chain(dot, recv, first, fields, &cmd.args, fin)
            }
            Operand::Identifier(_, name) => {
                self.at = At::Op(first);
                self.eval_function(dot, name, cmd, &cmd.args[1..], fin)
            }
            Operand::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                self.eval_pipeline(dot, p)
            }
            Operand::Variable(_, name, idents) => {
                self.at = At::Op(first);
                let v = self.var_value(name)?;
                if idents.is_empty() {
                    self.not_a_function(&cmd.args, &fin)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, first, idents, &cmd.args, fin)
            }
            _ => {
                self.at = At::Op(first);
                self.not_a_function(&cmd.args, &fin)?;
                self.literal(dot, first)
            }
        }
    }

    fn literal(&mut self, dot: &Value, op: &'t Operand) -> R<Value> {
        match op {
            Operand::Bool(_, b) => Ok(Value::Bool(*b)),
            Operand::Dot(_) => Ok(dot.clone()),
            Operand::Nil(_) => Err(self.error("nil is not a command")),
            Operand::String { value, .. } => Ok(Value::String(value.clone())),
            Operand::Number(n) => {
                if let Some((re, im)) = n.complex {
                    return Ok(Value::Complex(re, im));
                }
                if n.is_float
                    && let Some(f) = n.float
                {
                    return Ok(Value::Float(f));
                }
                match n.int {
                    Some(i) => Ok(Value::Int(i)),
                    None => Err(self.error(format!("{} overflows int", n.text))),
                }
            }
            _ => Err(self.error(format!("can't evaluate command {}", quote(&op.to_string())))),
        }
    }

    fn eval_chain_receiver(
        &mut self,
        dot: &Value,
        chain: &'t Operand,
        node: &'t Operand,
    ) -> R<Value> {
        if let Operand::Nil(_) = node {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        // Go leaves the error position at the last node evaluated inside the receiver.
        self.eval_arg(dot, node)
    }

    /// Evaluates an argument operand.
    fn eval_arg(&mut self, dot: &Value, op: &'t Operand) -> R<Value> {
        self.at = At::Op(op);
        match op {
            Operand::Dot(_) => Ok(dot.clone()),
            Operand::Nil(_) => Ok(Value::Nil),
            Operand::Field(_, idents) => {
                self.eval_field_chain(dot, dot.clone(), op, idents, std::slice::from_ref(op), None)
            }
            Operand::Variable(_, name, idents) => {
                let v = self.var_value(name)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, op, idents, std::slice::from_ref(op), None)
            }
            Operand::Pipe(p) => self.eval_pipeline(dot, p),
            Operand::Identifier(_, name) => {
                let cmd = Command { pos: op.pos(), args: Vec::new() };
                self.eval_function_at(dot, name, &cmd, op.pos(), &[], None)
            }
            Operand::Chain(_, node, fields) => {
                let recv = self.eval_chain_receiver(dot, op, node)?;
                self.eval_field_chain(dot, recv, op, fields, std::slice::from_ref(op), None)
            }
            Operand::Bool(..) | Operand::String { .. } | Operand::Number(_) => {
                self.literal(dot, op)
            }
        }
    }

    /// Whether Go evaluates the operand to a value of static type
    /// `interface {}`: what a map or list holds (a field, dot or a variable
    /// inside a range), not a pipeline's result, a constant or a variable
    /// set from a pipeline.
    fn holds_interface(&self, op: &Operand) -> bool {
        match op {
            Operand::Dot(_) => self.dot_iface,
            Operand::Field(..) | Operand::Chain(..) => true,
            Operand::Variable(_, name, idents) => {
                !idents.is_empty()
                    || self.vars.iter().rev().find(|(n, _, _)| n == name).is_some_and(|v| v.2)
            }
            _ => false,
        }
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        node: &'t Operand,
        idents: &'t [String],
        args: &'t [Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        let n = idents.len();
        // A variable, a parenthesised pipeline and dot outside a range hold
        // a concrete value; what a map or list holds is an `interface {}`,
        // which Go names in errors.
        let mut concrete = match node {
            Operand::Variable(_, name, _) => {
                !self.vars.iter().rev().find(|(n, _, _)| n == name).is_some_and(|v| v.2)
            }
            Operand::Chain(..) => true,
            Operand::Field(..) => !self.dot_iface,
            _ => false,
        };
        for ident in &idents[..n - 1] {
            // An entry of a map has the map's element type.
            let next_concrete = matches!(&recv, Value::Map(m) if !m.holds_interface());
            recv = self.eval_field(dot, ident, node, (&[], None), recv, concrete)?;
            concrete = next_concrete;
        }
        self.eval_field(dot, &idents[n - 1], node, (args, fin), recv, concrete)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Operand,
        (args, fin): (&'t [Operand], Option<Value>),
        recv: Value,
        concrete: bool,
    ) -> R<Value> {
        let has_args = args.len() > 1 || fin.is_some();
        match &recv {
            Value::Missing => {
                if self.m.options.missing_key == MissingKey::Error {
                    return Err(self.error(format!("nil data; no entry for key {}", quote(name))));
                }
                Ok(Value::Missing)
            }
            Value::Nil => Err(self.error(format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Map(m) => {
                // Go looks for a method before it looks for a key.
                if let Some(method) = m.map_type().and_then(|t| t.methods.get(name)) {
                    let receiver = Value::Map(m.clone());
                    return self.call_method(
                        dot,
                        node,
                        name,
                        method.clone(),
                        Some(receiver),
                        (args, fin),
                    );
                }
                self.map_key(m, name, has_args)
            }
            Value::Struct(s) => {
                if let Some(method) = s.methods.get(name) {
                    return self.call_method(dot, node, name, method.clone(), None, (args, fin));
                }
                match s.fields.iter().find(|(f, _)| f == name) {
                    Some(_) if !name.starts_with(char::is_uppercase) => Err(self.error(format!(
                        "{name} is an unexported field of struct type {}",
                        s.type_name
                    ))),
                    Some((_, v)) => {
                        if has_args {
                            return Err(self.error(format!(
                                "{name} has arguments but cannot be invoked as function"
                            )));
                        }
                        Ok(v.clone())
                    }
                    // A map type with methods (Helm's `.Files`) answers
                    // other names with its entries, as a plain map does.
                    None => match s.as_map() {
                        Some(m) => self.map_key(m, name, has_args),
                        None => Err(self
                            .error(format!("can't evaluate field {name} in type {}", s.type_name))),
                    },
                }
            }
            Value::Named(n) => match n.method(name) {
                Some(method) => self.call_method(dot, node, name, method, None, (args, fin)),
                None => {
                    Err(self.error(format!("can't evaluate field {name} in type {}", n.ty.name)))
                }
            },
            other => {
                let t = if concrete { other.type_name() } else { "interface {}".to_string() };
                Err(self.error(format!("can't evaluate field {name} in type {t}")))
            }
        }
    }

    /// `.name` on a map: its entry, or what the `missingkey` option gives
    /// for an absent one.
    fn map_key(&self, m: &MapRef, name: &str, has_args: bool) -> R<Value> {
        if has_args {
            return Err(self.error(format!("{name} is not a method but has arguments")));
        }
        match m.get(name) {
            Some(v) => Ok(v),
            None => match self.m.options.missing_key {
                MissingKey::Error => {
                    Err(self.error(format!("map has no entry for key {}", quote(name))))
                }
                MissingKey::Zero => Ok(m.elem_zero()),
                MissingKey::Default => Ok(Value::Missing),
            },
        }
    }

    /// Calls a method of a struct or of a named map type; `receiver` comes
    /// first in the arguments when the method needs it.
    fn call_method(
        &mut self,
        dot: &Value,
        node: &'t Operand,
        name: &str,
        method: Function,
        receiver: Option<Value>,
        (args, fin): (&'t [Operand], Option<Value>),
    ) -> R<Value> {
        let rest = args.get(1..).unwrap_or(&[]);
        // A struct's method checks its arguments against its parameter
        // types as a function does; a map type's methods take the receiver
        // first and check their own.
        let mut argv = if receiver.is_none() {
            let typed = method.clone();
            self.eval_typed_args(dot, rest, fin, |i| typed.param(i))?
        } else {
            self.eval_args(dot, rest, fin)?
        };
        if let Err(e) = method.check_arity(name, argv.len()) {
            self.at = At::Op(node);
            return Err(self.error(e));
        }
        if let Some(why) = method.refusal() {
            // Go reports it where it last stood (the receiver's node).
            return Err(self.error(why.to_string()));
        }
        if let Some(r) = receiver {
            argv.insert(0, r);
        }
        let ctx = Call { machine: self.m };
        // Go points at the method's node only when the call fails;
        // otherwise the position stays on its last argument.
        method.call(&ctx, &argv).map_err(|e| {
            self.at = At::Op(node);
            self.error(format!("error calling {name}: {e}"))
        })
    }

    fn eval_args(&mut self, dot: &Value, args: &'t [Operand], fin: Option<Value>) -> R<Vec<Value>> {
        let mut argv = Vec::with_capacity(args.len() + 1);
        for a in args {
            argv.push(self.eval_arg(dot, a)?.into_arg());
        }
        if let Some(f) = fin {
            argv.push(f.into_arg());
        }
        Ok(argv)
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &'t str,
        cmd: &'t Command,
        args: &'t [Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        self.eval_function_at(dot, name, cmd, cmd.pos, args, fin)
    }

    fn eval_function_at(
        &mut self,
        dot: &Value,
        name: &str,
        ctx: &Command,
        pos: usize,
        args: &'t [Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        let user = self.m.funcs.get(name).cloned();
        let nargs = args.len() + usize::from(fin.is_some());
        let at_call = |s: &Self| State::error_at(s, pos, ctx);
        if let Some(f) = user {
            f.check_arity(name, nargs).map_err(|e| self.error(e))?;
            let argv = self.eval_typed_args(dot, args, fin, |i| f.param(i))?;
            let call = Call { machine: self.m };
            let v = f.call(&call, &argv);
            return self.bounded(v).map_err(|e| {
                // A chain of errors through thousands of nested `include`s
                // stops growing at the bound, instead of being copied
                // once per level.
                if e.len() > super::MAX_ERROR_CHAIN {
                    return Error::Exec { text: e };
                }
                at_call(self).with_message(format!("error calling {name}: {e}"))
            });
        }
        if !is_builtin(name) {
            return Err(
                at_call(self).with_message(format!("{} is not a defined function", quote(name)))
            );
        }
        let (min, max) = builtin_arity(name);
        if nargs < min || max.is_some_and(|m| nargs > m) {
            let want = match max {
                Some(m) => m.to_string(),
                None => format!("at least {min}"),
            };
            return Err(
                self.error(format!("wrong number of args for {name}: want {want} got {nargs}"))
            );
        }
        if name == "and" || name == "or" {
            let want = name == "or";
            let mut v = Value::Missing;
            for a in args {
                v = self.eval_arg(dot, a)?;
                if v.is_true() == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        // Go's built-ins take `reflect.Value`s, which keep a missing value
        // missing, except the fmt-like ones, which take `interface{}`s.
        let fmt_like = matches!(name, "print" | "printf" | "println" | "html" | "js" | "urlquery");
        let mut argv = if fmt_like {
            let param =
                |i: usize| if name == "printf" && i == 0 { Param::String } else { Param::Any };
            self.eval_typed_args(dot, args, fin, param)?
        } else {
            let mut argv = Vec::with_capacity(nargs);
            for a in args {
                // The constant nil reaches a `reflect.Value` parameter as the
                // zero Value, as a missing key does.
                let v = self.eval_arg(dot, a)?;
                argv.push(if matches!(a, Operand::Nil(_)) { Value::Missing } else { v });
            }
            argv.extend(fin);
            argv
        };
        if name == "call" {
            argv = argv.into_iter().map(Value::into_arg).collect();
            if !matches!(argv[0], Value::Func(_) | Value::Nil | Value::Missing) {
                // Go names the callee as written (its first argument node)
                // or, for a piped value, as `reflect.Value.String` prints it.
                let callee = match args.first() {
                    Some(Operand::Pipe(p)) => p.to_string(),
                    Some(a) => a.to_string(),
                    None => match &argv[0] {
                        Value::String(s) => s.to_string(),
                        other => format!("<{} Value>", other.type_name()),
                    },
                };
                let e = format!("non-function {callee} of type {}", argv[0].type_name());
                return Err(at_call(self).with_message(format!("error calling call: {e}")));
            }
        }
        let call = Call { machine: self.m };
        let mut v = call_builtin(&call, name, &argv);
        // `slice` passes its indexes to indexArg as they come, without
        // looking inside an interface: an index read from a map or list
        // (a nil one too) is an `interface {}` in its message.
        if name == "slice"
            && let Err(e) = &v
            && e.starts_with("cannot index slice/array with ")
            && let Some(i) = argv.iter().skip(1).position(|a| a.as_integer().is_none())
            && !matches!(argv[i + 1], Value::Missing)
            && args.get(i + 1).is_some_and(|a| self.holds_interface(a))
        {
            v = Err("cannot index slice/array with type interface {}".to_string());
        }
        self.bounded(v)
            .map_err(|e| at_call(self).with_message(format!("error calling {name}: {e}")))
    }

    /// Refuses a function result larger than the output bound, so that a
    /// template doubling a string or list in a loop stops before memory runs out.
    fn bounded(&self, v: Result<Value, String>) -> Result<Value, String> {
        let max = self.m.options.max_output;
        match &v {
            Ok(Value::String(s)) if s.len() > max => Err(format!("result exceeds {max} bytes")),
            // Bytes joined from two strings may make UTF-8 together.
            Ok(Value::String(s)) if let Some(joined) = super::sprig::rejoin_bytes(s) => {
                Ok(Value::from(joined))
            }
            Ok(Value::List(l)) if l.len() > max => Err(format!("result exceeds {max} elements")),
            _ => v,
        }
    }

    /// Evaluates arguments for parameters of Go types, with Go's checks:
    /// constants must fit the type, values must have it exactly.
    fn eval_typed_args(
        &mut self,
        dot: &Value,
        args: &'t [Operand],
        fin: Option<Value>,
        param: impl Fn(usize) -> Param,
    ) -> R<Vec<Value>> {
        let mut argv = Vec::with_capacity(args.len() + 1);
        for (i, a) in args.iter().enumerate() {
            let p = param(i);
            let v = match (p, a) {
                (Param::Any, _) => self.eval_arg(dot, a)?,
                (
                    _,
                    Operand::Number(_)
                    | Operand::Bool(..)
                    | Operand::String { .. }
                    | Operand::Nil(_),
                ) => {
                    self.at = At::Op(a);
                    self.typed_constant(p, a)?
                }
                _ => {
                    let v = self.eval_arg(dot, a)?;
                    self.check_type(p, v)?
                }
            };
            argv.push(v.into_arg());
        }
        if let Some(f) = fin {
            let v = self.check_type(param(args.len()), f)?;
            argv.push(v.into_arg());
        }
        Ok(argv)
    }

    /// A constant operand for a typed parameter (Go's `evalString`, `evalInteger` ...).
    fn typed_constant(&mut self, p: Param, a: &'t Operand) -> R<Value> {
        let ok = match (p, a) {
            (Param::String, Operand::String { value, .. }) => Some(Value::String(value.clone())),
            (Param::Int, Operand::Number(n)) => n.int.map(Value::Int),
            (Param::Named(ty), Operand::Number(n)) => n.int.map(|i| Value::named(ty, i)),
            // Go sets an unsigned constant into the parameter's type, which
            // keeps its low bits.
            (Param::Uint32, Operand::Number(n)) => {
                n.uint().map(|u| Value::Uint64(u64::from(u as u32)))
            }
            (Param::Float, Operand::Number(n)) => n.float.map(Value::Float),
            (Param::Bool, Operand::Bool(_, b)) => Some(Value::Bool(*b)),
            (p, Operand::Nil(_)) if p.can_be_nil() => Some(Value::Nil),
            _ => None,
        };
        if let Some(v) = ok {
            return Ok(v);
        }
        let message = match (p, a) {
            (_, Operand::Nil(_)) => format!("cannot assign nil to {}", p.go_name()),
            (Param::String, _) => format!("expected string; found {a}"),
            (Param::Int | Param::Named(_), _) => format!("expected integer; found {a}"),
            (Param::Uint32, _) => format!("expected unsigned integer; found {a}"),
            (Param::Float, _) => format!("expected float; found {a}"),
            (Param::Bool, _) => format!("expected bool; found {a}"),
            _ => format!("can't handle {a} for arg of type {}", p.go_name()),
        };
        Err(self.error(message))
    }

    /// Go's `validateType` for a value passed to a typed parameter.
    fn check_type(&self, p: Param, v: Value) -> R<Value> {
        let fits = match (p, &v) {
            (Param::Any, _)
            | (Param::String, Value::String(_))
            | (Param::Int, Value::Int(_))
            | (Param::Float, Value::Float(_))
            | (Param::Bool, Value::Bool(_)) => true,
            // A `[]string` is no `[]interface{}`.
            (Param::List, Value::List(l)) => l.elem() == super::value::Elem::Any,
            (Param::StringList, Value::List(l)) => l.elem() == super::value::Elem::String,
            // A named map type converts to the parameter's plain map type.
            (Param::Map, Value::Map(m)) if m.map_type().is_none_or(|t| t.convertible) => {
                return Ok(Value::Map(m.plain()));
            }
            (Param::Struct(name), Value::Struct(st)) => st.type_name == name,
            (Param::Named(ty), Value::Named(n)) => n.is(ty),
            (p, Value::Missing) if p.can_be_nil() => return Ok(Value::Nil),
            (_, Value::Missing) => {
                return Err(self.error(format!("invalid value; expected {}", p.go_name())));
            }
            _ => false,
        };
        if fits {
            return Ok(v);
        }
        let got = match v {
            Value::Nil => "interface {}".to_string(),
            other => other.type_name(),
        };
        Err(self.error(format!("wrong type for value; expected {}; got {got}", p.go_name())))
    }

    /// A placeholder error at a position; `with_message` fills in its text.
    /// The context is printed only here, when an error is made: calls that
    /// succeed, nearly all of them, do not pay for printing their command.
    fn error_at(&self, pos: usize, ctx: &dyn std::fmt::Display) -> PendingError {
        PendingError {
            location: self.tree.location(pos),
            name: self.tree.name.clone(),
            context: ctx.to_string(),
        }
    }
}

/// An execution error whose location is known but whose message is not yet.
struct PendingError {
    location: String,
    name: String,
    context: String,
}

impl PendingError {
    fn with_message(self, message: impl Into<String>) -> Error {
        Error::Exec {
            text: format!(
                "template: {}: executing {} at <{}>: {}",
                self.location,
                quote(&self.name),
                self.context,
                message.into()
            ),
        }
    }
}
