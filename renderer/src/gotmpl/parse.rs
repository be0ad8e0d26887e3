//! The parser: turns tokens into trees, one for the template and one per `define` or `block`.
//!
//! It applies the checks Go's parser makes before execution: functions must
//! exist, variables must be declared in scope, `break`/`continue` only inside
//! `range`, pipelines may not pipe into constants, and definitions may not
//! repeat within one text. Errors read `template: NAME:LINE: message`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Error;
use super::ast::{Branch, Command, Node, Number, Operand, Pipe, Tree, Variable, line_col};
use super::fmt::quote;
use super::lex::{Kind, Token, lex};

/// The deepest nesting of parentheses and control structures the parser accepts.
const MAX_NESTING: usize = 200;

/// Parses `text` as the template `name`; returns its tree and the trees it defines.
/// `has_func` says whether a function name exists.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Vec<Tree>, Error> {
    let src: Arc<str> = Arc::from(text);
    let tokens = lex(text);
    let mut p = Parser {
        name,
        text: src.clone(),
        tokens,
        i: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        nesting: 0,
        has_func,
        defined: BTreeMap::new(),
        action_pos: None,
    };
    let mut root = p.parse_top()?;
    // Go adds the top-level tree last: a definition of the same name gives
    // way when either of the two is empty, and is an error otherwise.
    if let Some(def) = p.defined.remove(name) {
        if is_empty(&root) {
            root = def;
        } else if !is_empty(&def) {
            // Go finds the clash after the whole text is read: at the line of its end.
            let (line, _) = line_col(&p.text, p.text.len());
            let message = format!("template: multiple definition of template {}", quote(name));
            return Err(Error::Parse { name: name.to_string(), line, message });
        }
    }
    let mut trees =
        vec![Tree { name: name.to_string(), parse_name: name.to_string(), text: src, root }];
    for (n, list) in std::mem::take(&mut p.defined) {
        trees.push(Tree {
            name: n,
            parse_name: name.to_string(),
            text: p.text.clone(),
            root: list,
        });
    }
    Ok(trees)
}

struct Parser<'a> {
    name: &'a str,
    text: Arc<str>,
    tokens: Vec<Token>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    nesting: usize,
    has_func: &'a dyn Fn(&str) -> bool,
    defined: BTreeMap<String, Vec<Node>>,
    /// Where the left delimiter of the action being parsed stands (None outside actions).
    action_pos: Option<usize>,
}

/// What ended a list of nodes.
enum End {
    End,
    /// `else`, and whether an `if` or `with` follows it directly.
    Else(Option<&'static str>),
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[self.i.min(last)]
    }

    fn next(&mut self) -> Token {
        // Reading past the end keeps returning the last token (EOF or an error);
        // the index still advances so that backing up one token stays exact.
        let t = self.peek().clone();
        self.i += 1;
        t
    }

    fn skip_space(&mut self) {
        while self.peek().kind == Kind::Space {
            self.i += 1;
        }
    }

    fn peek_non_space(&mut self) -> &Token {
        self.skip_space();
        self.peek()
    }

    fn next_non_space(&mut self) -> Token {
        self.skip_space();
        self.next()
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, Error> {
        let pos = self.tokens[self.i.saturating_sub(1).min(self.tokens.len() - 1)].pos;
        let (line, _) = line_col(&self.text, pos);
        Err(Error::Parse { name: self.name.to_string(), line, message: message.into() })
    }

    fn unexpected<T>(&self, tok: &Token, context: &str) -> Result<T, Error> {
        let (line, _) = line_col(&self.text, tok.pos);
        let message = if tok.kind == Kind::Error {
            // Go names where an action that runs over lines began.
            let mut extra = String::new();
            let action_line = self.action_pos.map_or(0, |pos| line_col(&self.text, pos).0);
            if action_line != 0 && action_line != line {
                extra = format!(" in action started at {}:{}", self.name, action_line);
                if tok.text.ends_with(" action") {
                    extra = extra.split_off(" in action".len());
                }
            }
            format!("{}{extra}", tok.text)
        } else {
            format!("unexpected {} in {}", describe(tok), context)
        };
        Err(Error::Parse { name: self.name.to_string(), line, message })
    }

    fn deeper(&mut self) -> Result<(), Error> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return self.err("max expression depth exceeded");
        }
        Ok(())
    }

    fn parse_top(&mut self) -> Result<Vec<Node>, Error> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                let t = self.next_non_space();
                if t.kind == Kind::Keyword && t.text == "define" {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return self.err("unexpected {{end}}"),
                Item::Else(_) => return self.err("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> Result<(), Error> {
        let context = "define clause";
        let tok = self.next_non_space();
        let name = match tok.kind {
            Kind::String | Kind::RawString => self.unquote(&tok)?,
            _ => return self.unexpected(&tok, context),
        };
        let tok = self.next_non_space();
        if tok.kind != Kind::RightDelim {
            return self.unexpected(&tok, context);
        }
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if !matches!(end, End::End) {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add_definition(name, list)
    }

    fn add_definition(&mut self, name: String, list: Vec<Node>) -> Result<(), Error> {
        let empty = is_empty(&list);
        match self.defined.get(&name) {
            Some(old) if !is_empty(old) => {
                if !empty {
                    return self.err(format!(
                        "template: multiple definition of template {}",
                        quote(&name)
                    ));
                }
            }
            _ => {
                self.defined.insert(name, list);
            }
        }
        Ok(())
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, End), Error> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End => return Ok((list, End::End)),
                Item::Else(k) => return Ok((list, End::Else(k))),
            }
        }
        // Go names the line of the end of the text (the peeked EOF), past
        // the text's last newline.
        let (line, _) = line_col(&self.text, self.text.len());
        Err(Error::Parse { name: self.name.to_string(), line, message: "unexpected EOF".into() })
    }

    fn text_or_action(&mut self) -> Result<Item, Error> {
        let tok = self.next_non_space();
        match tok.kind {
            Kind::Text => Ok(Item::Node(Node::Text(tok.text))),
            Kind::LeftDelim => {
                // Only an error needs its line: counting lines here would
                // make parsing quadratic in the template's length.
                self.action_pos = Some(tok.pos);
                let item = self.action();
                self.action_pos = None;
                item
            }
            _ => self.unexpected(&tok, "input"),
        }
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<Token, Error> {
        let t = self.next_non_space();
        if t.kind != Kind::RightDelim {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn action(&mut self) -> Result<Item, Error> {
        let tok = self.next_non_space();
        if tok.kind == Kind::Keyword {
            match tok.text.as_str() {
                "block" => return self.block_control().map(Item::Node),
                "break" | "continue" => {
                    let context = format!("{{{{{}}}}}", tok.text);
                    self.expect_right_delim(&context)?;
                    if self.range_depth == 0 {
                        return self.err(format!("{context} outside {{{{range}}}}"));
                    }
                    let node = if tok.text == "break" { Node::Break } else { Node::Continue };
                    return Ok(Item::Node(node));
                }
                "else" => {
                    let peek = self.peek_non_space();
                    if peek.kind == Kind::Keyword && (peek.text == "if" || peek.text == "with") {
                        let k = if peek.text == "if" { "if" } else { "with" };
                        return Ok(Item::Else(Some(k)));
                    }
                    self.expect_right_delim("else")?;
                    return Ok(Item::Else(None));
                }
                "end" => {
                    self.expect_right_delim("end")?;
                    return Ok(Item::End);
                }
                "if" => return self.control("if").map(|b| Item::Node(Node::If(b))),
                "with" => return self.control("with").map(|b| Item::Node(Node::With(b))),
                "range" => return self.control("range").map(|b| Item::Node(Node::Range(b))),
                "template" => return self.template_control().map(Item::Node),
                _ => {}
            }
        }
        self.i -= 1;
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action(pipe)))
    }

    fn control(&mut self, context: &'static str) -> Result<Branch, Error> {
        self.deeper()?;
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match end {
            End::End => None,
            End::Else(Some(k)) if k == context && context != "range" => {
                // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the outer `{{end}}`.
                self.next_non_space();
                let inner = self.control(context)?;
                let node = if context == "if" { Node::If(inner) } else { Node::With(inner) };
                Some(vec![node])
            }
            End::Else(Some(_)) => {
                // Go leaves the keyword to the next list, which does not expect it.
                let tok = self.next_non_space();
                return self.unexpected(&tok, "input");
            }
            End::Else(None) => {
                let (else_list, end) = self.item_list()?;
                if !matches!(end, End::End) {
                    return self.err("expected end; found {{else}}");
                }
                Some(else_list)
            }
        };
        self.vars.truncate(nvars);
        self.nesting -= 1;
        Ok(Branch { pipe, list, else_list })
    }

    fn template_name(&mut self, context: &str) -> Result<(Token, String), Error> {
        let tok = self.next_non_space();
        match tok.kind {
            Kind::String | Kind::RawString => {
                let name = self.unquote(&tok)?;
                Ok((tok, name))
            }
            _ => self.unexpected(&tok, context),
        }
    }

    fn template_control(&mut self) -> Result<Node, Error> {
        let context = "template clause";
        let (tok, name) = self.template_name(context)?;
        let pipe = if self.peek_non_space().kind != Kind::RightDelim {
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            self.next();
            None
        };
        Ok(Node::Template { pos: tok.pos, name, pipe })
    }

    fn block_control(&mut self) -> Result<Node, Error> {
        let context = "block clause";
        let (tok, name) = self.template_name(context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_range;
        if !matches!(end, End::End) {
            return self.err(format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add_definition(name.clone(), list)?;
        Ok(Node::Template { pos: tok.pos, name, pipe: Some(pipe) })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe, Error> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe { pos, is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        loop {
            if self.peek_non_space().kind != Kind::Variable {
                break;
            }
            let save = self.i;
            let v = self.next();
            let next = self.peek_non_space().clone();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    pipe.decl.push(Variable { name: v.text.clone() });
                    self.vars.push(v.text);
                    break;
                }
                Kind::Char if next.text == "," => {
                    self.next_non_space();
                    pipe.decl.push(Variable { name: v.text.clone() });
                    self.vars.push(v.text);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.err("range can only initialize variables"),
                        }
                    }
                    return self.err(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        loop {
            let tok = self.next_non_space();
            if tok.kind == end {
                return self.check_pipeline(pipe, context);
            }
            match tok.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.i -= 1;
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&tok, context),
            }
        }
    }

    fn check_pipeline(&self, pipe: Pipe, context: &str) -> Result<Pipe, Error> {
        if pipe.cmds.is_empty() {
            return self.err(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Operand::Bool(..)
                        | Operand::Dot(_)
                        | Operand::Nil(_)
                        | Operand::Number(_)
                        | Operand::String { .. }
                )
            ) {
                return self.err(format!("non executable command in pipeline stage {}", i + 1));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self) -> Result<Command, Error> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command { pos, args: Vec::new() };
        loop {
            self.skip_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let tok = self.next();
            match tok.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.i -= 1,
                Kind::Pipe => {}
                _ => return self.unexpected(&tok, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Operand>, Error> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            fields.push(self.next().text[1..].to_string());
        }
        Ok(Some(match node {
            Operand::Field(_, mut idents) => {
                idents.extend(fields);
                Operand::Field(chain_pos, idents)
            }
            Operand::Variable(_, name, mut idents) => {
                idents.extend(fields);
                Operand::Variable(chain_pos, name, idents)
            }
            Operand::Bool(..)
            | Operand::String { .. }
            | Operand::Number(_)
            | Operand::Nil(_)
            | Operand::Dot(_) => {
                return self.err(format!("unexpected . after term {}", quote(&node.to_string())));
            }
            other => Operand::Chain(chain_pos, Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> Result<Option<Operand>, Error> {
        let tok = self.next_non_space();
        let op = match tok.kind {
            Kind::Identifier => {
                if !(self.has_func)(&tok.text) {
                    return self.err(format!("function {} not defined", quote(&tok.text)));
                }
                Operand::Identifier(tok.pos, tok.text)
            }
            Kind::Dot => Operand::Dot(tok.pos),
            Kind::Nil => Operand::Nil(tok.pos),
            Kind::Variable => {
                if !self.vars.contains(&tok.text) {
                    return self.err(format!("undefined variable {}", quote(&tok.text)));
                }
                Operand::Variable(tok.pos, tok.text, Vec::new())
            }
            Kind::Field => Operand::Field(tok.pos, vec![tok.text[1..].to_string()]),
            Kind::Bool => Operand::Bool(tok.pos, tok.text == "true"),
            Kind::Number | Kind::CharConstant => Operand::Number(Box::new(self.number(&tok)?)),
            Kind::LeftParen => {
                self.deeper()?;
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.nesting -= 1;
                Operand::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let value = self.unquote(&tok)?;
                Operand::String { pos: tok.pos, quoted: tok.text, value: Arc::from(value) }
            }
            _ => {
                self.i -= 1;
                return Ok(None);
            }
        };
        Ok(Some(op))
    }

    fn unquote(&self, tok: &Token) -> Result<String, Error> {
        match unquote(&tok.text) {
            Some(s) => Ok(s),
            None => self.err("invalid syntax"),
        }
    }

    fn number(&self, tok: &Token) -> Result<Number, Error> {
        let text = &tok.text;
        if tok.kind == Kind::CharConstant {
            // Go's `UnquoteChar`: no character or a bad escape is a syntax
            // error; more than one character is a malformed constant.
            let Some(s) = unquote(text).filter(|s| !s.is_empty()) else {
                return self.err("invalid syntax");
            };
            let mut chars = s.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return self.err(format!("malformed character constant: {text}"));
            };
            let v = i64::from(u32::from(c));
            return Ok(Number {
                pos: tok.pos,
                text: text.clone(),
                int: Some(v),
                float: Some(v as f64),
                is_float: false,
                complex: None,
            });
        }
        if let Some(parts) = text.strip_suffix('i') {
            if let Some((re, im)) = complex_parts(parts) {
                // Go's `simplifyComplex`: without an imaginary part the
                // constant is also a float, and an integer when whole.
                let real = (im == 0.0).then_some(re);
                let int = real.filter(|f| *f as i64 as f64 == *f).map(|f| f as i64);
                return Ok(Number {
                    pos: tok.pos,
                    text: text.clone(),
                    int,
                    float: real,
                    is_float: false,
                    complex: Some((re, im)),
                });
            }
            if parts.get(1..).is_some_and(|p| p.contains(['+', '-'])) {
                return self.err(format!("illegal number syntax: {}", quote(text)));
            }
        }
        // Go's `newNumber`: integer readings first, then a float reading,
        // which must not look like an integer (that would be one too large).
        let uint = super::strconv::parse_uint(text);
        let int = super::strconv::parse_int(text);
        let float = if let Some(i) = int {
            Some(i as f64)
        } else if let Some(u) = uint {
            Some(u as f64)
        } else {
            match super::strconv::parse_float(text) {
                Some(_) if !text.contains(['.', 'e', 'E', 'p', 'P']) => {
                    return self.err(format!("integer overflow: {}", quote(text)));
                }
                f => f,
            }
        };
        let int = int.or_else(|| {
            float.filter(|f| f.fract() == 0.0 && *f >= -9.2e18 && *f < 9.2e18).map(|f| f as i64)
        });
        // Go's `idealConstant`: a float unless written as a hex integer.
        let b = text.as_bytes();
        let hex_int = b.len() > 2
            && b[0] == b'0'
            && (b[1] == b'x' || b[1] == b'X')
            && !text.contains(['p', 'P']);
        let is_float = float.is_some() && !hex_int && text.contains(['.', 'e', 'E', 'p', 'P']);
        if int.is_none() && float.is_none() {
            return self.err(format!("illegal number syntax: {}", quote(text)));
        }
        Ok(Number { pos: tok.pos, text: text.clone(), int, float, is_float, complex: None })
    }
}

/// The real and imaginary parts of a complex constant without its final `i`:
/// `1+2` (as `fmt.Sscan` reads a complex128) or an imaginary number alone.
fn complex_parts(text: &str) -> Option<(f64, f64)> {
    if let Some(im) = super::strconv::parse_float(text) {
        return Some((0.0, im));
    }
    // The sign of the imaginary part: not the first byte, nor an exponent's.
    let b = text.as_bytes();
    let at = (1..b.len())
        .rev()
        .find(|&i| matches!(b[i], b'+' | b'-') && !matches!(b[i - 1], b'e' | b'E' | b'p' | b'P'))?;
    let re = super::strconv::parse_float(&text[..at])?;
    let im = super::strconv::parse_float(&text[at..])?;
    Some((re, im))
}

enum Item {
    Node(Node),
    End,
    Else(Option<&'static str>),
}

/// Whether a definition body is empty (only whitespace text), as Go's `IsEmptyTree` decides.
fn is_empty(list: &[Node]) -> bool {
    list.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}

/// How Go's parser names a token in `unexpected ... in ...` messages.
fn describe(tok: &Token) -> String {
    match tok.kind {
        Kind::Eof => "EOF".to_string(),
        Kind::Keyword | Kind::Dot => format!("<{}>", tok.text),
        _ if tok.text.len() > 10 => {
            let short: String = tok.text.chars().take(10).collect();
            format!("{}...", quote(&short))
        }
        _ => quote(&tok.text),
    }
}

/// Unquotes a Go string, raw string or character literal as `strconv.Unquote` does.
pub(crate) fn unquote(s: &str) -> Option<String> {
    let quote = s.chars().next()?;
    if s.len() < 2 || !s.ends_with(quote) {
        return None;
    }
    let body = &s[1..s.len() - 1];
    if quote == '`' {
        return Some(body.replace('\r', ""));
    }
    if quote != '"' && quote != '\'' {
        return None;
    }
    // Go strings are bytes: `\x` and octal escapes write single bytes, which
    // may not be UTF-8 on their own; a character constant's escape is a rune.
    let mut out: Vec<u8> = Vec::new();
    let push = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    let byte = |out: &mut Vec<u8>, v: u32| {
        if quote == '\'' {
            push(out, char::from_u32(v).unwrap_or('\u{fffd}'));
        } else {
            out.push(v as u8);
        }
    };
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote || c == '\n' {
            return None;
        }
        if c != '\\' {
            push(&mut out, c);
            continue;
        }
        let e = chars.next()?;
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize| {
            let h: String = chars.by_ref().take(n).collect();
            if h.len() != n { None } else { u32::from_str_radix(&h, 16).ok() }
        };
        match e {
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(0x0b),
            '\\' => out.push(b'\\'),
            '\'' if quote == '\'' => out.push(b'\''),
            '"' if quote == '"' => out.push(b'"'),
            'x' => {
                let v = hex(&mut chars, 2)?;
                byte(&mut out, v);
            }
            'u' => push(&mut out, char::from_u32(hex(&mut chars, 4)?)?),
            'U' => push(&mut out, char::from_u32(hex(&mut chars, 8)?)?),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + chars.next()?.to_digit(8)?;
                }
                if v > 0xff {
                    return None;
                }
                byte(&mut out, v);
            }
            _ => return None,
        }
    }
    // Bytes that are not UTF-8 stay bytes, as in Go (see `from_go_bytes`).
    Some(super::sprig::from_go_bytes(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting() {
        let cases = [
            (r#""a\tb""#, Some("a\tb")),
            ("`a\\n`", Some("a\\n")),
            (r#""\u00e9\x41\101""#, Some("éAA")),
            (r#""\'""#, None),
            ("'a'", Some("a")),
            (r#""a"#, None),
            (r#""\xc3\xa9\303\251""#, Some("éé")),
            (r"'\xff'", Some("ÿ")),
            (r"'\377'", Some("ÿ")),
            (r#""a\xffb\377""#, Some("a\u{10ffff}b\u{10ffff}")),
            (r#""\xc3""#, Some("\u{10ffc3}")),
            (r#""\400""#, None),
        ];
        for (input, want) in cases {
            assert_eq!(unquote(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        let funcs = |n: &str| n == "printf";
        let cases = [
            ("{{ .a } }}", "template: t:1: unexpected \"}\" in operand"),
            ("{{ foo }}", "template: t:1: function \"foo\" not defined"),
            ("{{ $x }}", "template: t:1: undefined variable \"$x\""),
            ("{{ if .a }}", "template: t:1: unexpected EOF"),
            ("{{ if .a }}x\n", "template: t:2: unexpected EOF"),
            ("{{ end }}", "template: t:1: unexpected {{end}}"),
            ("{{ break }}", "template: t:1: {{break}} outside {{range}}"),
            ("{{ 1 | 2 }}", "template: t:1: non executable command in pipeline stage 2"),
            ("{{ . | printf }}", ""),
            ("\n{{ ( }}", "template: t:2: unclosed left paren"),
        ];
        for (text, want) in cases {
            let got = match parse("t", text, &funcs) {
                Ok(_) => String::new(),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, want, "{text}");
        }
    }
}
