//! Variable interpolation as Docker Compose does it: `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`,
//! `${VAR:+alt}`, `${VAR+alt}`, nested defaults, and `$$` for a literal `$`.

use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InterpolateError {
    #[error("required variable {name} is missing a value: {message}")]
    Required { name: String, message: String },
    #[error("invalid interpolation format in `{text}`: {why}")]
    Syntax { text: String, why: String },
}

/// Where variables come from: the environment wins over `.env`, as in compose.
pub struct Vars {
    values: BTreeMap<String, String>,
    /// Names used but set nowhere (compose substitutes "" and warns).
    pub unset: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl Vars {
    pub fn new(values: BTreeMap<String, String>) -> Vars {
        Vars {
            values,
            unset: Default::default(),
        }
    }

    /// `.env` in `dir` (if any), overridden by the process environment.
    pub fn load(dir: &Path) -> std::io::Result<Vars> {
        let mut values = match std::fs::read_to_string(dir.join(".env")) {
            Ok(text) => parse_env_file(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        values.extend(std::env::vars());
        Ok(Vars::new(values))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// `KEY=VALUE` lines; `#` comments, `export `, and quotes as compose reads them.
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = if value.len() >= 2
            && ((value.starts_with('"') && value.ends_with('"'))
                || (value.starts_with('\'') && value.ends_with('\'')))
        {
            value[1..value.len() - 1].to_string()
        } else {
            // An unquoted value ends at ` #` (an inline comment).
            value
                .split(" #")
                .next()
                .unwrap_or("")
                .trim_end()
                .to_string()
        };
        out.insert(key.trim().to_string(), value);
    }
    out
}

pub fn interpolate(text: &str, vars: &Vars) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| InterpolateError::Syntax {
                text: text.into(),
                why: "a `${` is never closed".into(),
            })?;
            out.push_str(&expand(&body[..end], text, vars)?);
            rest = &body[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                // A lone `$` stays as it is.
                out.push('$');
                rest = after;
            } else {
                out.push_str(&lookup(&after[..len], vars));
                rest = &after[len..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn name_len(s: &str) -> usize {
    s.char_indices()
        .take_while(|(i, c)| c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
        .count()
}

/// The index of the `}` that closes a `${`, allowing nested `${...}`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn lookup(name: &str, vars: &Vars) -> String {
    match vars.get(name) {
        Some(v) => v.to_string(),
        None => {
            vars.unset.borrow_mut().insert(name.to_string());
            String::new()
        }
    }
}

fn expand(expr: &str, whole: &str, vars: &Vars) -> Result<String, InterpolateError> {
    let len = name_len(expr);
    if len == 0 {
        return Err(InterpolateError::Syntax {
            text: whole.into(),
            why: format!("`${{{expr}}}` does not start with a variable name"),
        });
    }
    let (name, op) = expr.split_at(len);
    let value = vars.get(name);
    let set = value.is_some();
    let non_empty = value.is_some_and(|v| !v.is_empty());
    let arg = |skip: usize| interpolate(&op[skip..], vars);
    Ok(match op {
        "" => lookup(name, vars),
        _ if op.starts_with(":-") => {
            if non_empty {
                value.unwrap().to_string()
            } else {
                arg(2)?
            }
        }
        _ if op.starts_with('-') => {
            if set {
                value.unwrap().to_string()
            } else {
                arg(1)?
            }
        }
        _ if op.starts_with(":+") => {
            if non_empty {
                arg(2)?
            } else {
                String::new()
            }
        }
        _ if op.starts_with('+') => {
            if set {
                arg(1)?
            } else {
                String::new()
            }
        }
        _ if op.starts_with(":?") || op.starts_with('?') => {
            let colon = op.starts_with(':');
            if (colon && non_empty) || (!colon && set) {
                value.unwrap().to_string()
            } else {
                return Err(InterpolateError::Required {
                    name: name.into(),
                    message: arg(if colon { 2 } else { 1 })?,
                });
            }
        }
        _ => {
            return Err(InterpolateError::Syntax {
                text: whole.into(),
                why: format!("unknown modifier in `${{{expr}}}`"),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars::new(
            [("SET", "v"), ("EMPTY", ""), ("B", "b")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn i(s: &str) -> String {
        interpolate(s, &vars()).unwrap()
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(i("a $SET b ${SET}c"), "a v b vc");
        assert_eq!(i("$$SET costs $$5"), "$SET costs $5");
        assert_eq!(i("${UNSET}x"), "x");
        assert_eq!(i("price: $"), "price: $");
    }

    #[test]
    fn defaults_distinguish_unset_from_empty() {
        assert_eq!(i("${EMPTY:-d}"), "d");
        assert_eq!(i("${EMPTY-d}"), "");
        assert_eq!(i("${UNSET-d}"), "d");
        assert_eq!(i("${SET:-d}"), "v");
        assert_eq!(i("${UNSET:-${B}x}"), "bx");
        assert_eq!(i("${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}"), "alt||alt");
    }

    #[test]
    fn required_names_the_variable_and_message() {
        let err = interpolate("${EMPTY:?set it in .env}", &vars()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "required variable EMPTY is missing a value: set it in .env"
        );
        assert_eq!(interpolate("${EMPTY?m}", &vars()).unwrap(), "");
        assert!(interpolate("${UNSET?m}", &vars()).is_err());
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(interpolate("${OPEN", &vars()).is_err());
        assert!(interpolate("${1X}", &vars()).is_err());
    }

    #[test]
    fn env_file_parsing() {
        let env = parse_env_file(
            "# c\nA=1\nexport B = two \nC=\"q # not comment\"\nD=x # comment\nE='s'\n",
        );
        assert_eq!(env["A"], "1");
        assert_eq!(env["B"], "two");
        assert_eq!(env["C"], "q # not comment");
        assert_eq!(env["D"], "x");
        assert_eq!(env["E"], "s");
    }
}
