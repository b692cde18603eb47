//! Single-token mutants of a SystemVerilog file.
//!
//! A small lexer (comments, strings and compiler directives skipped) finds
//! the tokens of the file's body; each candidate mutant replaces one byte
//! range by another text. Left alone: the module header (parameter and port
//! lists: defaults are overridden by every build, widths only break lint),
//! declarations, and assertion and system-task statements (their conditions
//! are checks, not behaviour).

use serde::{Deserialize, Serialize};

/// What a mutant does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A binary or unary operator replaced by another (`+` by `-`, `<` by `<=`, ...).
    Operator,
    /// An integer constant plus or minus one (`'0` and `'1` swapped).
    Constant,
    /// A constant index or bound of a bit or part select plus or minus one.
    Index,
    /// The condition of an `if` inverted.
    Condition,
    /// A `!` or `~` removed.
    Negation,
    /// A procedural assignment statement removed.
    Statement,
}

/// One mutant: `orig` at `start..end` of the file replaced by `repl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutant {
    pub kind: Kind,
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub orig: String,
    pub repl: String,
}

impl Mutant {
    /// The file's text with this mutant applied.
    pub fn apply(&self, text: &str) -> String {
        format!("{}{}{}", &text[..self.start], self.repl, &text[self.end..])
    }

    /// `orig -> repl` on one line, for reports.
    pub fn change(&self) -> String {
        let one = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let o = one(&self.orig);
        let r = one(&self.repl);
        let cut = |s: String| {
            if s.chars().count() > 70 {
                format!("{}...", s.chars().take(67).collect::<String>())
            } else {
                s
            }
        };
        format!("`{}` -> `{}`", cut(o), cut(r))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tk {
    Ident,
    Number,
    Op,
}

#[derive(Debug, Clone)]
struct Tok<'a> {
    kind: Tk,
    text: &'a str,
    start: usize,
    end: usize,
    line: usize,
}

const OPS: &[&str] = &[
    "<<<", ">>>", "===", "!==", "<<=", ">>=", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "++",
    "--", "+=", "-=", "::", "->", "+:", "-:", "**", "'{",
];

fn lex(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            let close = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            line += text[i..close].matches('\n').count();
            i = close;
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == b'`' {
            // A compiler directive: skip the rest of the line.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            toks.push(Tok {
                kind: Tk::Ident,
                text: &text[s..i],
                start: s,
                end: i,
                line,
            });
        } else if c.is_ascii_digit()
            || (c == b'\'' && i + 1 < b.len() && b"01xzXZsSbBdDhHoO".contains(&b[i + 1]))
        {
            let s = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && b[i] == b'\'' {
                i += 1;
                if i < b.len() && (b[i] == b's' || b[i] == b'S') {
                    i += 1;
                }
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'?')
                {
                    i += 1;
                }
            }
            toks.push(Tok {
                kind: Tk::Number,
                text: &text[s..i],
                start: s,
                end: i,
                line,
            });
        } else {
            let len = OPS
                .iter()
                .find(|o| text[i..].starts_with(*o))
                .map_or(1, |o| o.len());
            let len = if text.is_char_boundary(i + len) {
                len
            } else {
                1
            };
            toks.push(Tok {
                kind: Tk::Op,
                text: &text[i..i + len],
                start: i,
                end: i + len,
                line,
            });
            i += len;
        }
    }
    toks
}

/// Statements that start with one of these declare things: left alone.
const DECL: &[&str] = &[
    "logic",
    "wire",
    "reg",
    "bit",
    "int",
    "integer",
    "input",
    "output",
    "inout",
    "typedef",
    "parameter",
    "genvar",
    "import",
    "package",
    "endpackage",
    "endmodule",
    "function",
    "automatic",
];

/// Statements that start with one of these are checks: left alone.
fn is_check(t: &str) -> bool {
    matches!(t, "assert" | "assume" | "cover") || t.starts_with('$')
}

/// Every candidate mutant of `text`, in file order.
pub fn candidates(text: &str) -> Vec<Mutant> {
    let toks = lex(text);
    let mut skip = vec![false; toks.len()];
    // The module header: `module` up to the first `;` outside parentheses.
    // Declarations and checks: their whole statement.
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i].text;
        let at_stmt_start =
            i == 0 || matches!(toks[i - 1].text, ";" | "begin" | "end" | ")" | "else" | ":");
        let header = t == "module" || t == "package" || t == "function" || t == "typedef";
        let decl = at_stmt_start && DECL.contains(&t) || t == "genvar";
        if header || decl || is_check(t) {
            // A module header ends at the `;` after its port list (an
            // `import ...;` may come first).
            let module = t == "module";
            let mut depth = 0i32;
            let mut j = i;
            while j < toks.len() {
                match toks[j].text {
                    "(" | "[" | "{" | "'{" => depth += 1,
                    ")" | "]" | "}" => depth -= 1,
                    ";" if depth <= 0 && (!module || toks[j - 1].text == ")") => break,
                    _ => {}
                }
                skip[j] = true;
                j += 1;
            }
            if j < toks.len() {
                skip[j] = true;
            }
            // A function's body stays mutable: only its header was skipped.
            i = j + 1;
        } else {
            i += 1;
        }
    }

    let mut out = Vec::new();
    let mut paren = 0i32;
    let mut bracket = 0i32;
    for (i, t) in toks.iter().enumerate() {
        match t.text {
            "(" => paren += 1,
            ")" => paren -= 1,
            "[" => bracket += 1,
            "]" => bracket -= 1,
            _ => {}
        }
        if skip[i] {
            continue;
        }
        let prev = if i > 0 { toks[i - 1].text } else { "" };
        let next = toks.get(i + 1).map_or("", |n| n.text);
        match t.kind {
            Tk::Op => {
                let swaps: &[&str] = match t.text {
                    "+" if next != ":" => &["-"],
                    "-" if next != ":" && next != ">" => &["+"],
                    "<" => &["<="],
                    ">" => &[">="],
                    // `<=` is a comparison only inside parentheses or an index.
                    "<=" if paren > 0 || bracket > 0 => &["<"],
                    ">=" => &[">"],
                    "==" => &["!="],
                    "!=" => &["=="],
                    "&&" => &["||"],
                    "||" => &["&&"],
                    "&" => &["|"],
                    "|" => &["&"],
                    "^" => &["|"],
                    "<<" => &[">>"],
                    ">>" => &["<<"],
                    _ => &[],
                };
                for s in swaps {
                    out.push(at_token(Kind::Operator, t, (*s).to_owned()));
                }
                if matches!(t.text, "!" | "~") {
                    out.push(at_token(Kind::Negation, t, String::new()));
                }
            }
            Tk::Number => {
                let kind = if bracket > 0 {
                    Kind::Index
                } else {
                    Kind::Constant
                };
                for r in plus_minus_one(t.text) {
                    out.push(at_token(kind, t, r));
                }
            }
            Tk::Ident => {
                if t.text == "if" && next == "(" {
                    // Invert the condition: wrap it in `!( )`.
                    if let Some(close) = matching(&toks, i + 1) {
                        let open = &toks[i + 1];
                        let inner = &text[open.end..toks[close].start];
                        out.push(Mutant {
                            kind: Kind::Condition,
                            line: open.line,
                            start: open.start,
                            end: toks[close].end,
                            orig: text[open.start..toks[close].end].to_owned(),
                            repl: format!("(!({inner}))"),
                        });
                    }
                }
                let stmt_start = matches!(prev, ";" | "begin" | "end" | ")" | "else" | "default")
                    || (prev == ":" && paren == 0 && bracket == 0);
                if stmt_start
                    && !matches!(
                        t.text,
                        "if" | "else"
                            | "case"
                            | "unique"
                            | "priority"
                            | "for"
                            | "begin"
                            | "end"
                            | "assign"
                            | "always_ff"
                            | "always_comb"
                            | "localparam"
                            | "endcase"
                            | "return"
                            | "endfunction"
                            | "endgenerate"
                            | "generate"
                    )
                    && !DECL.contains(&t.text)
                    && paren == 0
                    && let Some(end) = assignment_end(&toks, i)
                {
                    let last = &toks[end];
                    out.push(Mutant {
                        kind: Kind::Statement,
                        line: t.line,
                        start: t.start,
                        end: last.end,
                        orig: text[t.start..last.end].to_owned(),
                        repl: ";".to_owned(),
                    });
                }
            }
        }
    }
    out
}

/// The mutant replacing token `t` by `repl`.
fn at_token(kind: Kind, t: &Tok, repl: String) -> Mutant {
    Mutant {
        kind,
        line: t.line,
        start: t.start,
        end: t.end,
        orig: t.text.to_owned(),
        repl,
    }
}

/// Index of the `)` closing the `(` at `open`.
fn matching(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(open) {
        match t.text {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// If `toks[i..]` is `lvalue (<=|=) expr ;` (lvalue an identifier with
/// selects), the index of its `;`.
fn assignment_end(toks: &[Tok], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut depth = 0;
    // The lvalue: identifier, `.field`, `[...]`.
    while j < toks.len() {
        match toks[j].text {
            "[" => depth += 1,
            "]" => depth -= 1,
            "." if depth == 0 => {}
            _ if depth > 0 => {}
            _ if toks[j].kind == Tk::Ident && toks[j - 1].text == "." => {}
            _ => break,
        }
        j += 1;
    }
    if !matches!(toks.get(j)?.text, "<=" | "=") {
        return None;
    }
    toks.iter()
        .enumerate()
        .skip(j)
        .find(|(_, t)| matches!(t.text, ";" | "begin" | "end"))
        .filter(|(_, t)| t.text == ";")
        .map(|(k, _)| k)
}

/// The literal plus and minus one, in its own notation; nothing for
/// literals with x/z digits or when the result would not fit its width.
fn plus_minus_one(lit: &str) -> Vec<String> {
    match lit {
        "'0" => return vec!["'1".into()],
        "'1" => return vec!["'0".into()],
        _ => {}
    }
    let (width, base, digits) = match lit.find('\'') {
        None => (None, 10, lit),
        Some(q) => {
            let rest = lit[q + 1..].trim_start_matches(['s', 'S']);
            let base = match rest.chars().next().map(|c| c.to_ascii_lowercase()) {
                Some('b') => 2,
                Some('o') => 8,
                Some('d') => 10,
                Some('h') => 16,
                _ => return Vec::new(),
            };
            let w: Option<u32> = lit[..q].replace('_', "").parse().ok();
            (w, base, &rest[1..])
        }
    };
    let Ok(v) = u64::from_str_radix(&digits.replace('_', ""), base) else {
        return Vec::new();
    };
    let prefix = &lit[..lit.len() - digits.len()];
    let fmt = |n: u64| match base {
        2 => format!("{prefix}{n:b}"),
        8 => format!("{prefix}{n:o}"),
        16 => format!("{prefix}{n:x}"),
        _ => format!("{prefix}{n}"),
    };
    let fits = |n: u64| width.is_none_or(|w| w >= 64 || n < (1u64 << w));
    let mut out = Vec::new();
    if fits(v + 1) {
        out.push(fmt(v + 1));
    }
    if v > 0 {
        out.push(fmt(v - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repls(src: &str) -> Vec<(Kind, String, String)> {
        candidates(src)
            .into_iter()
            .map(|m| (m.kind, m.orig, m.repl))
            .collect()
    }

    #[test]
    fn comments_strings_header_declarations_and_checks_are_left_alone() {
        let src = "module m import p::*; #(parameter int W = 8) (input logic [W-1:0] a_i);\n\
                   // x = y + 1;\n/* if (a) b <= c; */\n  logic [W-1:0] q;\n\
                   always_comb assert (a_i != 3) else $error(\"a + 1\");\nendmodule\n";
        assert_eq!(repls(src), vec![]);
    }

    #[test]
    fn operators_constants_conditions_and_statements() {
        let src = "module m (input logic a_i);\n  always_ff @(posedge clk_i) begin\n\
                   if (a_i && b) q <= q + 4'd3;\n  end\nendmodule\n";
        let r = repls(src);
        assert!(r.contains(&(Kind::Operator, "&&".into(), "||".into())));
        assert!(r.contains(&(Kind::Operator, "+".into(), "-".into())));
        assert!(r.contains(&(Kind::Constant, "4'd3".into(), "4'd4".into())));
        assert!(r.contains(&(Kind::Constant, "4'd3".into(), "4'd2".into())));
        assert!(r.contains(&(Kind::Condition, "(a_i && b)".into(), "(!(a_i && b))".into())));
        assert!(r.contains(&(Kind::Statement, "q <= q + 4'd3;".into(), ";".into())));
        // The non-blocking assignment is not taken for a comparison.
        assert!(!r.iter().any(|(_, o, _)| o == "<="));
    }

    #[test]
    fn literals_keep_their_notation_and_width() {
        assert_eq!(
            plus_minus_one("2'b11"),
            Vec::<String>::new()
                .into_iter()
                .chain(["2'b10".to_owned()])
                .collect::<Vec<_>>()
        );
        assert_eq!(plus_minus_one("8'hff"), vec!["8'hfe".to_owned()]);
        assert_eq!(plus_minus_one("0"), vec!["1".to_owned()]);
        assert_eq!(plus_minus_one("'0"), vec!["'1".to_owned()]);
        assert!(plus_minus_one("1'bx").is_empty());
    }

    #[test]
    fn every_mutant_changes_the_text_and_applies_in_place() {
        let src = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../rtl/common/hlsk_fifo_sync.sv"
        ))
        .expect("rtl file");
        let c = candidates(&src);
        assert!(c.len() > 10, "only {} candidates", c.len());
        for m in c {
            assert_ne!(m.orig, m.repl);
            assert_eq!(&src[m.start..m.end], m.orig);
            assert_ne!(m.apply(&src), src);
        }
    }
}
