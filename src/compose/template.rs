//! Variable substitution exactly as Compose does it (compose-go's `template`
//! package): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, nesting in the
//! default, and `$$` for a literal `$`.
//!
//! Compose matches a regular expression and then re-cuts the match at the
//! first balanced `}`; the scanner below reproduces its corner cases rather
//! than a cleaner grammar, because the point is to read a file the way
//! `docker compose` reads it:
//! - a name is `[A-Za-z_][A-Za-z0-9_]*`; `$1`, `$ ` and `$}` stay as they are;
//! - `${` not followed by a name and `}` or an operator is an error;
//! - after an operator, the expression runs to a `}` on the same line;
//! - any `{` inside the expression counts for the balance (and the character
//!   after it is skipped), so `${X:-{"json":1}}` has the default `{"json":1}`;
//! - a default or message is substituted even when it is not used, so a bad
//!   one is an error and an unset variable in it is reported.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("Invalid template: {template:?}")]
    Invalid { template: String },
    #[error("required variable {variable} is missing a value{}", if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    MissingRequired { variable: String, reason: String },
    #[error("interpolation nested (or chained on one line) more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

/// Deepest `${A:-${B:-...}}` followed. Compose has no limit, but its work
/// (and ours) grows with the square of the depth (20,000 levels take it
/// minutes) and each level is a few frames of our stack. No file a person
/// writes comes near this.
pub const MAX_DEPTH: usize = 1000;

/// Where values come from, and where the names of unset variables go
/// (Compose warns about each and substitutes an empty string).
pub struct Vars<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    pub unset: &'a mut dyn FnMut(&str),
}

pub fn substitute(template: &str, vars: &mut Vars) -> Result<String, TemplateError> {
    substitute_at(template, vars, 0)
}

fn substitute_at(template: &str, vars: &mut Vars, depth: usize) -> Result<String, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError::TooDeep);
    }
    substitute_inner(template, vars, depth).map_err(|e| match e {
        TemplateError::Invalid { template: t } if t.is_empty() => TemplateError::Invalid {
            template: template.to_string(),
        },
        other => other,
    })
}

/// Convenience for callers with a plain lookup and no interest in warnings.
pub fn substitute_with(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    substitute(
        template,
        &mut Vars {
            lookup,
            unset: &mut |_| {},
        },
    )
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn name_len(s: &[u8]) -> usize {
    if s.first().is_some_and(|b| is_name_start(*b)) {
        s.iter().take_while(|b| is_name_char(**b)).count()
    } else {
        0
    }
}

fn invalid() -> TemplateError {
    TemplateError::Invalid {
        template: String::new(),
    }
}

fn substitute_inner(
    template: &str,
    vars: &mut Vars,
    depth: usize,
) -> Result<String, TemplateError> {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len());
    let mut first_error: Option<TemplateError> = None;
    let mut i = 0;
    let mut literal_from = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let Some(m) = match_at(bytes, i) else {
            i += 1;
            continue;
        };
        out.push_str(&template[literal_from..i]);
        let replacement = match m {
            Match::Escaped => Ok("$".to_string()),
            Match::Named(end) => {
                let name = &template[i + 1..end];
                Ok(lookup_or_warn(name, vars))
            }
            Match::Braced(end) => replace_braced(&template[i..end], vars, depth),
            Match::Invalid => Err(invalid()),
        };
        match replacement {
            Ok(r) => out.push_str(&r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        let end = match m {
            Match::Escaped => i + 2,
            Match::Named(end) | Match::Braced(end) => end,
            Match::Invalid => i + 2,
        };
        i = end;
        literal_from = end;
    }
    out.push_str(&template[literal_from..]);
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[derive(Clone, Copy)]
enum Match {
    Escaped,
    /// `$NAME`, ending before this index.
    Named(usize),
    /// `${...}`, ending before this index.
    Braced(usize),
    /// `${` that is not a valid expression.
    Invalid,
}

/// What the pattern matches at `at` (a `$`), if anything.
fn match_at(s: &[u8], at: usize) -> Option<Match> {
    match s.get(at + 1)? {
        b'$' => Some(Match::Escaped),
        b'{' => {
            let start = at + 2;
            let len = name_len(&s[start..]);
            if len == 0 {
                return Some(Match::Invalid);
            }
            let after = start + len;
            let op_len = match (s.get(after), s.get(after + 1)) {
                (Some(b':'), Some(b'-' | b'+' | b'?')) => 2,
                (Some(b'-' | b'+' | b'?'), _) => 1,
                _ => 0,
            };
            if op_len > 0 {
                // `(.*)}`: greedy, up to the last `}` before the end of the line.
                let line_end = s[after..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(s.len(), |p| after + p);
                if let Some(close) = s[after + op_len..line_end].iter().rposition(|b| *b == b'}') {
                    return Some(Match::Braced(after + op_len + close + 1));
                }
            }
            if s.get(after) == Some(&b'}') {
                Some(Match::Braced(after + 1))
            } else {
                Some(Match::Invalid)
            }
        }
        b if is_name_start(*b) => {
            let len = name_len(&s[at + 1..]);
            Some(Match::Named(at + 1 + len))
        }
        _ => None,
    }
}

fn lookup_or_warn(name: &str, vars: &mut Vars) -> String {
    match (vars.lookup)(name) {
        Some(v) => v,
        None => {
            (vars.unset)(name);
            String::new()
        }
    }
}

/// The index of the `}` that balances the first `{` (any `{` counts, and the
/// character after it is skipped), as compose-go computes it.
fn first_closing_brace(s: &[u8]) -> Option<usize> {
    let mut open = 0i32;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if s[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    RequiredNonEmpty, // :?
    Required,         // ?
    DefaultEmpty,     // :-
    Default,          // -
    AltNonEmpty,      // :+
    Alt,              // +
}

impl Op {
    fn sep(self) -> &'static str {
        match self {
            Op::RequiredNonEmpty => ":?",
            Op::Required => "?",
            Op::DefaultEmpty => ":-",
            Op::Default => "-",
            Op::AltNonEmpty => ":+",
            Op::Alt => "+",
        }
    }
}

/// The operator that appears first in the whole match (compose-go sorts its
/// operators by where they occur).
fn operator_for(matched: &str) -> Option<Op> {
    [
        Op::RequiredNonEmpty,
        Op::Required,
        Op::DefaultEmpty,
        Op::Default,
        Op::AltNonEmpty,
        Op::Alt,
    ]
    .into_iter()
    .filter_map(|op| matched.find(op.sep()).map(|i| (i, op)))
    .min_by_key(|(i, _)| *i)
    .map(|(_, op)| op)
}

/// One `${...}` match (possibly with trailing text up to the last `}` on the line).
fn replace_braced(matched: &str, vars: &mut Vars, depth: usize) -> Result<String, TemplateError> {
    let op = operator_for(matched);
    let (head, rest) = match first_closing_brace(matched.as_bytes()) {
        Some(i) => (&matched[..=i], &matched[i + 1..]),
        None => (matched, ""),
    };
    // `${` + expression + `}`
    let expr = &head[2..head.len() - 1];
    if let Some(op) = op
        && let Some((name, arg)) = expr.split_once(op.sep())
    {
        let value = apply(op, name, arg, vars, depth)?;
        // The rest of the line is read by recursion too: it counts.
        let tail = substitute_at(rest, vars, depth + 1)?;
        return Ok(value + &tail);
    }
    Ok(lookup_or_warn(expr, vars))
}

fn apply(
    op: Op,
    name: &str,
    arg: &str,
    vars: &mut Vars,
    depth: usize,
) -> Result<String, TemplateError> {
    let arg = substitute_at(arg, vars, depth + 1)?;
    let value = (vars.lookup)(name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    Ok(match op {
        Op::DefaultEmpty if !non_empty => arg,
        Op::Default if !set => arg,
        Op::DefaultEmpty | Op::Default => value.unwrap_or_default(),
        Op::AltNonEmpty if non_empty => arg,
        Op::Alt if set => arg,
        Op::AltNonEmpty | Op::Alt => value.unwrap_or_default(),
        Op::RequiredNonEmpty if non_empty => value.unwrap_or_default(),
        Op::Required if set => value.unwrap_or_default(),
        Op::RequiredNonEmpty | Op::Required => {
            return Err(TemplateError::MissingRequired {
                variable: name.to_string(),
                reason: arg,
            });
        }
    })
}

#[cfg(test)]
mod tests {
    //! The tables of compose-go's template tests, ported.
    use super::*;

    fn defaults(name: &str) -> Option<String> {
        match name {
            "FOO" => Some("first".into()),
            "BAR" => Some(String::new()),
            "JSON" => Some(r#"{"json":2}"#.into()),
            _ => None,
        }
    }

    fn sub(t: &str) -> Result<String, TemplateError> {
        substitute_with(t, &defaults)
    }

    fn ok(t: &str) -> String {
        sub(t).unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    #[test]
    fn runaway_nesting_is_an_error_not_a_crash() {
        // On a stack like the CLI's, whatever a debug build's frames weigh.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(|| {
                let nest = |n| format!("{}x{}", "${X:-".repeat(n), "}".repeat(n));
                assert_eq!(sub(&nest(MAX_DEPTH + 1)), Err(TemplateError::TooDeep));
                assert_eq!(sub(&nest(MAX_DEPTH)), Ok("x".to_string()));
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn escaped_and_no_match() {
        assert_eq!(ok("$${foo}"), "${foo}");
        assert_eq!(ok("foo"), "foo");
        for t in ["a $ string", "^REGEX$", "$}", "$"] {
            assert_eq!(ok(t), t);
        }
    }

    #[test]
    fn invalid_templates() {
        for t in ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"] {
            let err = sub(t).unwrap_err().to_string();
            assert!(err.contains("Invalid template"), "{t}: {err}");
        }
    }

    #[test]
    fn plain_values_and_defaults() {
        assert_eq!(ok("$FOO-bar"), "first-bar");
        for t in ["This ${missing} var", "This ${BAR} var"] {
            assert_eq!(ok(t), "This  var");
        }
        for t in ["This $FOO var", "This ${FOO} var"] {
            assert_eq!(ok(t), "This first var");
        }
        for t in ["ok ${missing:-def}", "ok ${missing-def}"] {
            assert_eq!(ok(t), "ok def");
        }
        assert_eq!(ok("ok ${BAR:-def}"), "ok def");
        assert_eq!(ok("ok ${FOO:-def}"), "ok first");
        assert_eq!(ok("ok ${BAR-def}"), "ok ");
        assert_eq!(ok("ok ${UNSET_VAR:+presence_value}"), "ok ");
        assert_eq!(ok("ok ${UNSET_VAR+presence_value}"), "ok ");
        assert_eq!(ok("ok ${FOO:+presence_value}"), "ok presence_value");
        assert_eq!(ok("ok ${FOO+presence_value}"), "ok presence_value");
        assert_eq!(ok("ok ${BAR+presence_value}"), "ok presence_value");
        assert_eq!(ok("ok ${BAR:+presence_value}"), "ok ");
        assert_eq!(ok("ok ${BAR:-/non:-alphanumeric}"), "ok /non:-alphanumeric");
    }

    #[test]
    fn outer_text_does_not_interfere() {
        for (t, want) in [
            ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
            ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
            ("-ok ${FOO:-defaultValue}", "-ok first"),
            (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
            (":-ok ${BAR-defaultValue}", ":-ok "),
            (":?ok ${BAR-defaultValue}", ":?ok "),
            (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
            (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
            ("+ok ${BAR-defaultValue}", "+ok "),
            ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
        ] {
            assert_eq!(ok(t), want, "{t}");
        }
    }

    #[test]
    fn nested_expansion_in_defaults() {
        for (t, want) in [
            ("ok ${UNSET_VAR-$FOO}", "ok first"),
            ("ok ${UNSET_VAR-${FOO}}", "ok first"),
            ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
            ("ok ${BAR:-$FOO}", "ok first"),
            ("ok ${BAR:-${FOO}}", "ok first"),
            ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
            ("ok ${BAR+$FOO}", "ok first"),
            ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
        ] {
            assert_eq!(ok(t), want, "{t}");
        }
    }

    #[test]
    fn mandatory_variables() {
        for (t, want) in [
            (
                "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
                "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
            ),
            (
                "not ok ${BAR:?Mandatory Variable Empty}",
                "required variable BAR is missing a value: Mandatory Variable Empty",
            ),
            (
                "not ok ${UNSET_VAR:?}",
                "required variable UNSET_VAR is missing a value",
            ),
            (
                "not ok ${UNSET_VAR?Mandatory Variable Unset}",
                "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
            ),
            (
                "not ok ${UNSET_VAR?}",
                "required variable UNSET_VAR is missing a value",
            ),
            (
                "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
                "required variable UNSET_VAR is missing a value: Mandatory Variable first",
            ),
            (
                "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
                "required variable UNSET_VAR is missing a value: Mandatory Variable first",
            ),
        ] {
            let err = sub(t).unwrap_err();
            assert!(
                matches!(err, TemplateError::MissingRequired { .. }),
                "{t}: {err}"
            );
            assert_eq!(err.to_string(), want, "{t}");
        }
        for (t, want) in [
            ("ok ${FOO:?err}", "ok first"),
            ("ok ${FOO?err}", "ok first"),
            ("ok ${BAR?err}", "ok "),
        ] {
            assert_eq!(ok(t), want, "{t}");
        }
    }

    #[test]
    fn several_expressions_in_one_string() {
        assert_eq!(ok("ok ${SUBDOMAIN:-redis}.${FOO:?}"), "ok redis.first");
    }

    #[test]
    fn precedence_is_the_first_operator() {
        assert_eq!(
            sub("${UNSET_VAR?bar-baz}").unwrap_err(),
            TemplateError::MissingRequired {
                variable: "UNSET_VAR".into(),
                reason: "bar-baz".into()
            }
        );
        assert_eq!(ok("${UNSET_VAR-myerror?msg}"), "myerror?msg");
        assert_eq!(ok("${FOO?bar-baz}"), "first");
        assert_eq!(
            ok("${BAR:-default_value_for_empty_var}"),
            "default_value_for_empty_var"
        );
        assert_eq!(
            ok("${UNSET_VAR-default_value_for_unset_var}"),
            "default_value_for_unset_var"
        );
    }

    #[test]
    fn operator_choice() {
        for (input, symbol) in [
            ("VARNAME:?val?ue", ":?"),
            ("VARNAME?val:?ue", "?"),
            ("VARNAME?va-lu+e:?e", "?"),
            ("VARNAME?va+lu-e:?e", "?"),
            ("VARNAME:-value", ":-"),
            ("VARNAME-va:-lu:?e", "-"),
            ("VARNAME-va+lu?e", "-"),
            ("VARNAME-va?lu+e", "-"),
            ("VARNAME:+va:?lu:-e", ":+"),
            ("VARNAME+va:+lue", "+"),
            ("VARNAME+va?lu-e", "+"),
            ("VARNAME+va-lu?e", "+"),
        ] {
            assert_eq!(operator_for(input).unwrap().sep(), symbol, "{input}");
        }
    }

    #[test]
    fn curly_braces_in_defaults() {
        for t in [
            r#"ok ${missing:-{"json":1}}"#,
            r#"ok ${missing-{"json":1}}"#,
        ] {
            assert_eq!(ok(t), r#"ok {"json":1}"#, "{t}");
        }
        for t in [r#"ok ${JSON:-{"json":1}}"#, r#"ok ${JSON-{"json":1}}"#] {
            assert_eq!(ok(t), r#"ok {"json":2}"#, "{t}");
        }
    }

    #[test]
    fn unset_names_are_reported_even_in_unused_defaults() {
        let mut seen = Vec::new();
        let out = substitute(
            "${FOO:-$NOPE} $ALSO_NOPE ${MISSING:-x}",
            &mut Vars {
                lookup: &defaults,
                unset: &mut |n| seen.push(n.to_string()),
            },
        )
        .unwrap();
        assert_eq!(out, "first  x");
        assert_eq!(seen, ["NOPE", "ALSO_NOPE"]);
    }

    #[test]
    fn an_operator_expression_ends_on_its_line() {
        assert!(sub("${FOO:-a\n}").is_err());
        assert_eq!(ok("${FOO:-a}\n${BAR}"), "first\n");
    }
}
