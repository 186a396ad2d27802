//! YAML as `docker compose config` prints it: go-yaml v3's encoder, indent
//! 2, no line folding. Compose marshals Go structs, so the order of a
//! struct's fields is kept while a map's keys are sorted (go-yaml's natural
//! order: `s2` before `s10`), a scalar is quoted only when it would read
//! back as something else, and a multi-line string is a literal block.
//!
//! [`to_node`] captures the model through serde, telling structs from maps;
//! [`emit`] writes the tree the way go-yaml's emitter does.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::gofmt;

/// A value on its way out: a struct keeps its field order, a map is sorted.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i128),
    /// The value and whether it is a `float32` (digits differ).
    Float(f64, bool),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
    Struct(Vec<(String, Node)>),
}

impl Node {
    /// go-yaml's `isZero`, which `omitempty` consults.
    pub fn is_zero(&self) -> bool {
        match self {
            Node::Null => true,
            Node::Bool(b) => !b,
            Node::Int(i) => *i == 0,
            Node::Float(f, _) => *f == 0.0,
            Node::Str(s) => s.is_empty(),
            Node::Seq(items) => items.is_empty(),
            Node::Map(pairs) => pairs.is_empty(),
            Node::Struct(fields) => fields.iter().all(|(_, v)| v.is_zero()),
        }
    }

    /// The field or entry `key`, to add to a struct found by path.
    pub fn child_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(pairs) | Node::Struct(pairs) => {
                pairs.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            Node::Seq(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        }
    }
}

thread_local! {
    static MARSHALLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the model is being serialized for YAML: the few types whose YAML
/// differs from their JSON (as Go's `MarshalYAML` and `MarshalJSON` differ)
/// ask this.
pub fn marshalling() -> bool {
    MARSHALLING.with(|m| m.get())
}

/// A serde value as a [`Node`], with the model in its YAML form.
pub fn to_node<T: Serialize + ?Sized>(value: &T) -> Node {
    let outer = MARSHALLING.with(|m| m.replace(true));
    let node = value.serialize(NodeSerializer);
    MARSHALLING.with(|m| m.set(outer));
    node.expect("the compose model serializes")
}

/// The YAML document of `root`, ending with a newline.
pub fn emit(root: &Node) -> String {
    let mut out = String::new();
    match root {
        Node::Map(_) | Node::Struct(_) if is_collection(root) => mapping(&mut out, root, 0, false),
        Node::Seq(items) if is_collection(root) => sequence(&mut out, items, 0, false),
        other => {
            scalar_or_empty(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn entries(node: &Node) -> Vec<(&String, &Node)> {
    match node {
        Node::Struct(fields) => fields.iter().map(|(k, v)| (k, v)).collect(),
        Node::Map(pairs) => {
            let mut sorted: Vec<_> = pairs.iter().map(|(k, v)| (k, v)).collect();
            sorted.sort_by(|a, b| key_order(a.0, b.0));
            sorted
        }
        _ => Vec::new(),
    }
}

fn is_collection(node: &Node) -> bool {
    match node {
        Node::Seq(items) => !items.is_empty(),
        Node::Map(pairs) | Node::Struct(pairs) => !pairs.is_empty(),
        _ => false,
    }
}

/// The entries of a mapping at `indent`; with `inline_first`, the first one
/// goes where the cursor is (after a `- `).
fn mapping(out: &mut String, node: &Node, indent: usize, inline_first: bool) {
    for (i, (key, value)) in entries(node).into_iter().enumerate() {
        if !(i == 0 && inline_first) {
            pad(out, indent);
        }
        let style = string_style(key, Context::Key);
        if key.chars().count() > 128 || style == Style::Literal || key.contains('\n') {
            // Not a simple key: go-yaml writes `? key` and `: value` lines.
            out.push_str("? ");
            string(out, key, Context::Value, indent + 2);
            if !out.ends_with('\n') {
                out.push('\n');
            }
            pad(out, indent);
            out.push(':');
        } else {
            string(out, key, Context::Key, indent);
            out.push(':');
        }
        value_after_indicator(out, value, indent);
    }
}

/// What follows `key:` or `- `: a scalar on the same line, or a block below.
fn value_after_indicator(out: &mut String, value: &Node, indent: usize) {
    match value {
        Node::Seq(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, indent + 2, false);
        }
        Node::Map(_) | Node::Struct(_) if is_collection(value) => {
            out.push('\n');
            mapping(out, value, indent + 2, false);
        }
        other => {
            out.push(' ');
            scalar_or_empty(out, other, indent + 2);
            out.push('\n');
        }
    }
}

fn sequence(out: &mut String, items: &[Node], indent: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if !(i == 0 && inline_first) {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Node::Seq(inner) if !inner.is_empty() => sequence(out, inner, indent + 2, true),
            Node::Map(_) | Node::Struct(_) if is_collection(item) => {
                mapping(out, item, indent + 2, true)
            }
            other => {
                scalar_or_empty(out, other, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar, or `{}` / `[]` for an empty collection. `block_indent` is where
/// a literal block's lines go.
fn scalar_or_empty(out: &mut String, node: &Node, block_indent: usize) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f, bits32) => out.push_str(&float(*f, *bits32)),
        Node::Str(s) => string(out, s, Context::Value, block_indent),
        Node::Seq(_) => out.push_str("[]"),
        Node::Map(_) | Node::Struct(_) => out.push_str("{}"),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// go-yaml's `floatv`: `strconv.FormatFloat(f, 'g', -1, bits)`, with YAML's
/// names for infinities and NaN.
fn float(f: f64, bits32: bool) -> String {
    match gofmt::format_float(f, bits32).as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        s => s.into(),
    }
}

// ---- strings --------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Key,
    Value,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn string(out: &mut String, s: &str, ctx: Context, block_indent: usize) {
    match string_style(s, ctx) {
        Style::Plain => out.push_str(s),
        Style::Single => single_quoted(out, s, block_indent),
        Style::Double => double_quoted(out, s),
        Style::Literal => literal(out, s, block_indent),
    }
}

/// go-yaml's `stringv` choice, then its emitter's `select_scalar_style`.
fn string_style(s: &str, ctx: Context) -> Style {
    let can_use_plain = resolves_to_string(s) && !is_base60_float(s) && !is_old_bool(s);
    let wanted = if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    let key = ctx == Context::Key;
    let mut style = wanted;
    if key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || key) {
        style = Style::Double;
    }
    style
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// YAML's printable set as go-yaml checks it: no 4-byte UTF-8 characters.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

/// go-yaml's `yaml_emitter_analyze_scalar`, block context only.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let (mut previous_space, mut previous_break) = (false, false);
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n));
        let last = i + 1 == chars.len();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c) || c == '\0';
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Single quotes, `'` doubled. The only breaks that get here are U+2028
/// and U+2029 (the others force double quotes); go-yaml writes them as they
/// are and indents the text that follows.
fn single_quoted(out: &mut String, s: &str, indent: usize) {
    out.push('\'');
    let mut after_break = false;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            after_break = true;
            continue;
        }
        if after_break {
            pad(out, indent);
            after_break = false;
        }
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if is_printable(c) && !is_break(c) && c != '"' && c != '\\' {
            out.push(c);
            continue;
        }
        out.push('\\');
        match c {
            '\0' => out.push('0'),
            '\u{7}' => out.push('a'),
            '\u{8}' => out.push('b'),
            '\t' => out.push('t'),
            '\n' => out.push('n'),
            '\u{b}' => out.push('v'),
            '\u{c}' => out.push('f'),
            '\r' => out.push('r'),
            '\u{1b}' => out.push('e'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '\u{85}' => out.push('N'),
            '\u{a0}' => out.push('_'),
            '\u{2028}' => out.push('L'),
            '\u{2029}' => out.push('P'),
            c if (c as u32) <= 0xff => out.push_str(&format!("x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("u{:04X}", c as u32)),
            c => out.push_str(&format!("U{:08X}", c as u32)),
        }
    }
    out.push('"');
}

/// `|` with go-yaml's hints: an indentation digit when the text starts with
/// a space or a break, `-` without a final newline, `+` with more than one.
fn literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        out.push('2');
    }
    let mut rev = s.chars().rev();
    match (rev.next(), rev.next()) {
        (Some(last), _) if !is_break(last) => out.push('-'),
        (Some(_), None) => out.push('+'),
        (Some(_), Some(before)) if is_break(before) => out.push('+'),
        _ => {}
    }
    let mut at_line_start = true;
    for c in s.chars() {
        if is_break(c) {
            out.push('\n');
            at_line_start = true;
        } else {
            if at_line_start {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                pad(out, indent);
                at_line_start = false;
            }
            out.push(c);
        }
    }
    // The caller ends the line; a text ending in a break already did.
    if s.chars().last().is_some_and(is_break) {
        out.pop();
    }
}

// ---- go-yaml's resolver, for "would this read back as a string?" ----------

fn resolves_to_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "true", "True", "TRUE", "false", "False", "FALSE", "", "~", "null", "Null", "NULL", ".nan",
        ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
        "-.INF",
    ];
    if SPECIAL.contains(&s) {
        return false;
    }
    match s.as_bytes()[0] {
        b'.' => go_parse_float(s).is_none(),
        b'+' | b'-' | b'0'..=b'9' => {
            if is_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            !(go_parse_int(&plain)
                || is_yaml_style_float(&plain)
                || plain.strip_prefix("0b").is_some_and(|d| radix_digits(d, 2))
                || plain
                    .strip_prefix("-0b")
                    .is_some_and(|d| radix_digits(d, 2))
                || plain.strip_prefix("0o").is_some_and(|d| radix_digits(d, 8))
                || plain
                    .strip_prefix("-0o")
                    .is_some_and(|d| radix_digits(d, 8)))
        }
        _ => true,
    }
}

fn radix_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeding (ignoring range:
/// an out-of-range number reads back as a float, which is not a string
/// either).
fn go_parse_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        return radix_digits(hex, 16);
    }
    if let Some(oct) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        return radix_digits(oct, 8);
    }
    if let Some(bin) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        return radix_digits(bin, 2);
    }
    if body.len() > 1 && body.starts_with('0') {
        return radix_digits(&body[1..], 8);
    }
    radix_digits(body, 10)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (number, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let number_ok = match number.split_once('.') {
        Some(("", frac)) => radix_digits(frac, 10),
        Some((int, frac)) => radix_digits(int, 10) && frac.chars().all(|c| c.is_ascii_digit()),
        None => radix_digits(number, 10),
    };
    number_ok && exponent.is_none_or(|e| radix_digits(e.strip_prefix(['+', '-']).unwrap_or(e), 10))
}

/// `strconv.ParseFloat(s, 64)` for text starting with `.`: decimal forms
/// only (`.5`, `.5e3`); Go's hex and `inf` forms cannot start with a dot.
fn go_parse_float(s: &str) -> Option<f64> {
    let digits = s.replace('_', "");
    // Go accepts underscores only between digits with a base prefix: never here.
    if digits != s {
        return None;
    }
    is_yaml_style_float(s).then(|| s.parse().ok()).flatten()
}

/// go-yaml's timestamp forms: `2006-1-2`, with `T`/`t` and a zone, or with
/// a space and no zone.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some((&s[i..i + 1], &s[i + 1..]))),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let num = |p: &str, max_len: usize| {
        (1..=max_len).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit())
    };
    if !(num(y, 4) && num(m, 2) && num(d, 2)) {
        return false;
    }
    let (year, month, day): (i32, u32, u32) =
        (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let Some((separator, time)) = time else {
        return true;
    };
    // 15:4:5 with an optional fraction, then a zone unless space-separated.
    let (clock, zone) = match separator {
        " " => (time, None),
        _ => match time.find(['Z', '+', '-']) {
            Some(i) => (&time[..i], Some(&time[i..])),
            None => return false,
        },
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    let ranges = [23, 59, 59];
    if fields.len() != 3
        || !fields
            .iter()
            .zip(ranges)
            .all(|(f, max)| num(f, 2) && f.parse::<u32>().unwrap() <= max)
    {
        return false;
    }
    if fraction.is_some_and(|f| !radix_digits(f, 10)) {
        return false;
    }
    match zone {
        None | Some("Z") => true,
        Some(z) => {
            let z = &z[1..];
            z.len() == 5 && z.as_bytes()[2] == b':' && num(&z[..2], 2) && num(&z[3..], 2)
        }
    }
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`: YAML 1.1's
/// sexagesimal numbers, which go-yaml quotes for older readers.
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (body, fraction) = match s.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (s, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut groups = body.split(':');
    let head = groups.next().unwrap_or_default();
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    let mut any = false;
    for g in groups {
        any = true;
        let ok = match g.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// go-yaml's `keyList.Less` for string keys: letters compare as
/// characters, runs of digits as numbers.
pub fn key_order(a: &str, b: &str) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = ar[i].is_numeric();
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_numeric() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

// ---- serde -> Node ----------------------------------------------------------

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

struct NodeSerializer;

pub struct SeqBuilder(Vec<Node>);
pub struct MapBuilder {
    pairs: Vec<(String, Node)>,
    key: Option<String>,
}
pub struct StructBuilder(Vec<(String, Node)>);

fn key_text(node: Node) -> Result<String, Error> {
    match node {
        Node::Str(s) => Ok(s),
        Node::Int(i) => Ok(i.to_string()),
        Node::Bool(b) => Ok(b.to_string()),
        other => Err(Error(format!("unsupported map key {other:?}"))),
    }
}

impl ser::Serializer for NodeSerializer {
    type Ok = Node;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = Impossible<Node, Error>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = Impossible<Node, Error>;

    fn serialize_bool(self, v: bool) -> Result<Node, Error> {
        Ok(Node::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_u8(self, v: u8) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Node, Error> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_f32(self, v: f32) -> Result<Node, Error> {
        Ok(Node::Float(v.into(), true))
    }
    fn serialize_f64(self, v: f64) -> Result<Node, Error> {
        Ok(Node::Float(v, false))
    }
    fn serialize_char(self, v: char) -> Result<Node, Error> {
        Ok(Node::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Node, Error> {
        Ok(Node::Str(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Node, Error> {
        Ok(Node::Seq(
            v.iter().map(|b| Node::Int((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Node, Error> {
        Ok(Node::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Node, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Node, Error> {
        Ok(Node::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Node, Error> {
        Ok(Node::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Node, Error> {
        Ok(Node::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Node, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Node, Error> {
        Ok(Node::Map(vec![(variant.to_string(), to_node(value))]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error(format!(
            "tuple variant {name} is not part of the model"
        )))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, Error> {
        Ok(MapBuilder {
            pairs: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<StructBuilder, Error> {
        Ok(StructBuilder(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error(format!(
            "struct variant {name} is not part of the model"
        )))
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Node;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(value.serialize(NodeSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Node, Error> {
        Ok(Node::Seq(self.0))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Node;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Node, Error> {
        Ok(Node::Seq(self.0))
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Node;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Node, Error> {
        Ok(Node::Seq(self.0))
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Node;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_text(key.serialize(NodeSerializer)?)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        self.pairs.push((key, value.serialize(NodeSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Node, Error> {
        Ok(Node::Map(self.pairs))
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Node;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0
            .push((key.to_string(), value.serialize(NodeSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Node, Error> {
        Ok(Node::Struct(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s, Context::Value, 2);
        out
    }

    #[test]
    fn quotes_only_what_would_read_back_as_something_else() {
        for (s, want) in [
            ("plain", "plain"),
            ("héllo", "héllo"),
            ("it's", "it's"),
            ("", "\"\""),
            ("8080", "\"8080\""),
            ("0x1F", "\"0x1F\""),
            ("08", "\"08\""),
            ("1e3", "\"1e3\""),
            ("1_000", "\"1_000\""),
            (".5", "\".5\""),
            ("yes", "\"yes\""),
            ("true", "\"true\""),
            ("~", "\"~\""),
            ("<<", "<<"),
            ("\u{2028}ls", "'\u{2028}  ls'"),
            ("12:30", "\"12:30\""),
            ("80:80", "80:80"),
            ("2001-12-14", "\"2001-12-14\""),
            ("2001-13-14", "2001-13-14"),
            ("2001-12-14T21:59:43Z", "\"2001-12-14T21:59:43Z\""),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("- x", "'- x'"),
            ("*x", "'*x'"),
            (" lead", "' lead'"),
            ("a\tb", "\"a\\tb\""),
            ("😀", "\"\\U0001F600\""),
            ("--- x", "'--- x'"),
            ("a:b", "a:b"),
            ("-x", "-x"),
        ] {
            assert_eq!(value(s), want, "{s:?}");
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_go_yaml_hints() {
        assert_eq!(value("a\nb"), "|-\n  a\n  b");
        assert_eq!(value("a\nb\n"), "|\n  a\n  b");
        assert_eq!(value("a\n\nb\n\n"), "|+\n  a\n\n  b\n");
        assert_eq!(value(" a\nb"), "|2-\n   a\n  b");
        // A space before a break rules the block out: double quotes.
        assert_eq!(value("a \nb"), "\"a \\nb\"");
    }

    #[test]
    fn keys_sort_as_go_yaml_sorts_them() {
        let mut keys = vec!["s10", "s2", "S1", "a_b", "a-b", "s1", "b", "a10b", "a9b"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(
            keys,
            ["S1", "a-b", "a_b", "a9b", "a10b", "b", "s1", "s2", "s10"]
        );
    }

    #[test]
    fn structs_keep_their_order_and_maps_are_sorted() {
        let node = Node::Struct(vec![
            ("z".into(), Node::Int(1)),
            (
                "a".into(),
                Node::Map(vec![
                    ("s10".into(), Node::Str("x".into())),
                    ("s2".into(), Node::Seq(vec![])),
                ]),
            ),
            (
                "list".into(),
                Node::Seq(vec![
                    Node::Struct(vec![
                        ("k".into(), Node::Bool(true)),
                        ("m".into(), Node::Null),
                    ]),
                    Node::Str("multi\nline".into()),
                ]),
            ),
        ]);
        assert_eq!(
            emit(&node),
            "z: 1\na:\n  s2: []\n  s10: x\nlist:\n  - k: true\n    m: null\n  - |-\n    multi\n    line\n"
        );
    }
}
