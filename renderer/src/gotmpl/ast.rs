//! The parse tree of a template: the nodes the parser builds and the executor walks.
//!
//! Each node keeps the byte offset where it starts, so that errors can name
//! a line and column, and prints itself as Go's `parse.Node.String` does,
//! which is what Go shows in `executing "t" at <...>`.

use std::fmt;
use std::sync::Arc;

/// A parsed template: its name, the text it was parsed from and its body.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The template's name (`define`d name or the name given to the parser).
    pub name: String,
    /// The name of the source the text came from (a file name), for error locations.
    pub parse_name: String,
    /// The whole source text, to turn byte offsets into line and column.
    pub text: Arc<str>,
    /// The body.
    pub root: Vec<Node>,
}

/// A node of a template body.
#[derive(Debug)]
pub(crate) enum Node {
    /// Literal text.
    Text(String),
    /// `{{pipeline}}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    /// `{{if}}`.
    If(Branch),
    /// `{{with}}`.
    With(Branch),
    /// `{{range}}`.
    Range(Branch),
    /// `{{template "name" pipeline}}`.
    Template {
        /// Byte offset of the action.
        pos: usize,
        /// The name of the template to run.
        name: String,
        /// The data to run it with.
        pipe: Option<Pipe>,
    },
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
}

/// The shared shape of `if`, `with` and `range`.
#[derive(Debug)]
pub(crate) struct Branch {
    /// The condition or the value ranged over.
    pub pipe: Pipe,
    /// The body.
    pub list: Vec<Node>,
    /// The `else` body; `else if` and `else with` are a nested branch here.
    pub else_list: Option<Vec<Node>>,
}

/// A pipeline, with its optional variable declaration.
#[derive(Debug)]
pub(crate) struct Pipe {
    /// Byte offset of its start.
    pub pos: usize,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// The declared or assigned variables, `$` included in their names.
    pub decl: Vec<Variable>,
    /// The commands, separated by `|`.
    pub cmds: Vec<Command>,
}

/// A declared variable in a pipeline.
#[derive(Debug)]
pub(crate) struct Variable {
    /// The name with its `$`.
    pub name: String,
}

/// One command of a pipeline: a function or operand with its arguments.
#[derive(Debug)]
pub(crate) struct Command {
    /// Byte offset.
    pub pos: usize,
    /// The operands; the first is what is run.
    pub args: Vec<Operand>,
}

/// An operand of a command.
#[derive(Debug)]
pub(crate) enum Operand {
    /// `.`.
    Dot(usize),
    /// `nil`.
    Nil(usize),
    /// `true` or `false`.
    Bool(usize, bool),
    /// A number constant.
    Number(Box<Number>),
    /// A string constant: its source text and its value.
    String {
        /// Byte offset.
        pos: usize,
        /// As written, quotes included.
        quoted: String,
        /// The unquoted value.
        value: Arc<str>,
    },
    /// `.a.b`: a field chain on dot.
    Field(usize, Vec<String>),
    /// `$x.a.b`: a variable with an optional field chain.
    Variable(usize, String, Vec<String>),
    /// A function name.
    Identifier(usize, String),
    /// `(pipeline)`.
    Pipe(Box<Pipe>),
    /// `(pipeline).a.b` or `$x` followed by fields after a parenthesis.
    Chain(usize, Box<Operand>, Vec<String>),
}

/// A number constant, as Go's parser classifies it.
#[derive(Debug)]
pub(crate) struct Number {
    /// Byte offset.
    pub pos: usize,
    /// As written.
    pub text: String,
    /// Its value if it is an integer that fits int64.
    pub int: Option<i64>,
    /// Its value as a float, if it has one.
    pub float: Option<f64>,
    /// Whether Go treats it as a float constant when the type is free
    /// (it is written with `.`, `e` or `p` and is not a hex or rune integer).
    pub is_float: bool,
    /// Its value if it is a complex constant (`1+2i`, `4i`): such a constant
    /// is a complex128 when the type is free, and also an int or float when
    /// its imaginary part is zero.
    pub complex: Option<(f64, f64)>,
}

impl Number {
    /// Its value if Go's parser marks it unsigned: a non-negative integer,
    /// or a float constant that is one.
    pub fn uint(&self) -> Option<u64> {
        match (self.int, self.float) {
            (Some(i), _) => u64::try_from(i).ok(),
            (None, Some(f)) if (0.0..18446744073709551616.0).contains(&f) && f.fract() == 0.0 => {
                Some(f as u64)
            }
            _ => None,
        }
    }
}

impl Operand {
    /// Byte offset of the operand.
    pub fn pos(&self) -> usize {
        match self {
            Operand::Dot(p)
            | Operand::Nil(p)
            | Operand::Bool(p, _)
            | Operand::Field(p, _)
            | Operand::Variable(p, _, _)
            | Operand::Identifier(p, _)
            | Operand::Chain(p, _, _) => *p,
            Operand::String { pos, .. } => *pos,
            Operand::Number(n) => n.pos,
            Operand::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Dot(_) => f.write_str("."),
            Operand::Nil(_) => f.write_str("nil"),
            Operand::Bool(_, b) => write!(f, "{b}"),
            Operand::Number(n) => f.write_str(&n.text),
            Operand::String { quoted, .. } => f.write_str(quoted),
            Operand::Field(_, idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Operand::Variable(_, name, idents) => {
                f.write_str(name)?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Operand::Identifier(_, name) => f.write_str(name),
            Operand::Pipe(p) => write!(f, "({p})"),
            Operand::Chain(_, node, fields) => {
                write!(f, "{node}")?;
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&v.name)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Tree {
    /// The `NAME:LINE:COL` of a byte offset, as Go's `ErrorContext` prints it
    /// (the column is the 0-based byte offset within the line).
    pub fn location(&self, pos: usize) -> String {
        let (line, col) = line_col(&self.text, pos);
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

/// The 1-based line and 0-based byte column of a byte offset.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(nl) => before.len() - nl - 1,
        None => before.len(),
    };
    (line, col)
}
