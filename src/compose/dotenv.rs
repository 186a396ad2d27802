//! `.env` and `env_file` files, parsed by Compose's rules (compose-go's
//! `dotenv`): `KEY=value` or `KEY: value`, `export `, `#` comments (inline
//! only after a space, outside quotes), single quotes taken literally,
//! double quotes with escapes and `${}` substitution, values over several
//! lines inside quotes, a bare `KEY` taken from the environment.

use std::collections::BTreeMap;
use std::path::Path;

use super::template;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DotenvError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("{0}")]
    Template(#[from] template::TemplateError),
}

fn syntax(line: usize, message: impl Into<String>) -> DotenvError {
    DotenvError::Syntax {
        line,
        message: message.into(),
    }
}

/// What a value may refer to: given a name and what has been read so far.
pub type Lookup<'a> = &'a dyn Fn(&str, &BTreeMap<String, String>) -> Option<String>;

/// Parses `src` into `out`. `${}` in a value sees `lookup` first, then what
/// was read above; a bare `KEY` line takes its value from `lookup` alone.
pub fn parse_into(
    src: &str,
    out: &mut BTreeMap<String, String>,
    lookup: Lookup,
) -> Result<(), DotenvError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut p = Parser { line: 1 };
    let mut rest = src;
    loop {
        rest = p.statement_start(rest);
        if rest.is_empty() {
            return Ok(());
        }
        let (key, left, inherited) = p.key_name(rest)?;
        if key.contains(' ') {
            return Err(syntax(p.line, "key cannot contain a space"));
        }
        if inherited {
            if let Some(v) = lookup(&key, out) {
                out.insert(key, v);
            }
            rest = left;
            continue;
        }
        let (value, left) = p.value(left, out, lookup)?;
        out.insert(key, value);
        rest = left;
    }
}

/// A whole file, with nothing to look up but itself.
pub fn parse(src: &str) -> Result<BTreeMap<String, String>, DotenvError> {
    let mut out = BTreeMap::new();
    parse_into(src, &mut out, &|_, _| None)?;
    Ok(out)
}

/// Reads `files` in order, later ones overriding earlier ones; `${}` in a
/// value sees `env` first, then what the files set so far (compose-go's
/// `GetEnvFromFile`).
pub fn read_files(
    env: &BTreeMap<String, String>,
    files: &[impl AsRef<Path>],
) -> Result<BTreeMap<String, String>, String> {
    let mut vars = BTreeMap::new();
    for file in files {
        let file = file.as_ref();
        let text =
            crate::trust::fs::read_text(file, crate::trust::fs::limit::ENV).map_err(|e| {
                if e.is_not_found() {
                    format!("couldn't find env file: {}", file.display())
                } else {
                    format!("couldn't read env file: {e}")
                }
            })?;
        parse_into(&text, &mut vars, &|k, read| {
            env.get(k).or_else(|| read.get(k)).cloned()
        })
        .map_err(|e| format!("failed to read {}: {e}", file.display()))?;
    }
    Ok(vars)
}

struct Parser {
    line: usize,
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

impl Parser {
    /// Skips blank lines and comments; the start of the next statement.
    fn statement_start<'a>(&mut self, mut src: &'a str) -> &'a str {
        loop {
            let Some(pos) = src.find(|c: char| {
                if c == '\n' {
                    self.line += 1;
                }
                !c.is_whitespace()
            }) else {
                return "";
            };
            src = &src[pos..];
            if !src.starts_with('#') {
                return src;
            }
            match src.find('\n') {
                Some(nl) => src = &src[nl..],
                None => return "",
            }
        }
    }

    /// The key, what follows its separator, and whether it stands alone
    /// (a bare `KEY` line, whose value comes from the environment).
    fn key_name<'a>(&mut self, src: &'a str) -> Result<(String, &'a str, bool), DotenvError> {
        let mut src = src;
        if let Some(after) = src.strip_prefix("export")
            && after.starts_with(|c: char| c.is_whitespace())
        {
            src = after.trim_start_matches(is_space);
        }
        let mut key = None;
        let mut offset = 0;
        let mut inherited = false;
        for (i, c) in src.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    key = Some(&src[..i]);
                    offset = i + 1;
                    inherited = c == '\n';
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    return Err(syntax(
                        self.line,
                        format!(
                            "unexpected character {:?} in variable name {:?}",
                            c.to_string(),
                            src.split('\n').next().unwrap_or("")
                        ),
                    ));
                }
            }
        }
        if src.is_empty() {
            return Err(syntax(self.line, "zero length string"));
        }
        // No separator before the end (a last line `KEY` with no newline):
        // compose-go reads an empty key whose value is that text.
        let key = key.unwrap_or("");
        if inherited && !key.contains(' ') {
            self.line += 1;
        }
        let key = key.trim_end().to_string();
        let rest = src[offset..].trim_start_matches(is_space);
        Ok((key, rest, inherited))
    }

    fn value<'a>(
        &mut self,
        src: &'a str,
        seen: &BTreeMap<String, String>,
        lookup: Lookup,
    ) -> Result<(String, &'a str), DotenvError> {
        let quote = match src.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => {
                let (value, rest) = src.split_once('\n').unwrap_or((src, ""));
                self.line += 1;
                let value = value.split(" #").next().unwrap_or("").trim_end();
                return Ok((expand(value, seen, lookup)?, rest));
            }
        };
        let bytes = src.as_bytes();
        let mut escaped = false;
        let mut chars: Vec<u8> = Vec::new();
        for i in 1..bytes.len() {
            let c = bytes[i];
            if c == b'\n' {
                self.line += 1;
            }
            if c != quote {
                if !escaped && c == b'\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push(b'\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = String::from_utf8_lossy(&chars).into_owned();
            let value = if quote == b'"' {
                expand(&expand_escapes(&value), seen, lookup)?
            } else {
                value
            };
            return Ok((value, &src[i + 1..]));
        }
        let end = src.find('\n').unwrap_or(src.len());
        Err(syntax(
            self.line,
            format!("unterminated quoted value {}", &src[..end]),
        ))
    }
}

fn expand(
    value: &str,
    seen: &BTreeMap<String, String>,
    lookup: Lookup,
) -> Result<String, DotenvError> {
    Ok(template::substitute_with(value, &|k| {
        lookup(k, seen).or_else(|| seen.get(k).cloned())
    })?)
}

/// `\n`, `\t`, ... and XSI octal `\0NNN` in double quotes; `\$` stays a
/// literal dollar (it becomes `$$` for the substitution that follows).
fn expand_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        let next = b[i + 1];
        let (len, replacement): (usize, Option<String>) = match next {
            b'a' => (2, Some("\u{7}".into())),
            b'b' => (2, Some("\u{8}".into())),
            b'f' => (2, Some("\u{c}".into())),
            b'n' => (2, Some("\n".into())),
            b'r' => (2, Some("\r".into())),
            b't' => (2, Some("\t".into())),
            b'v' => (2, Some("\u{b}".into())),
            b'"' => (2, Some("\"".into())),
            b'\\' => (2, Some("\\".into())),
            b'$' => (2, Some("$$".into())),
            // `\c` matches the pattern but is no escape: kept as it is.
            b'c' => (2, None),
            b'0' => {
                let digits = b[i + 2..]
                    .iter()
                    .take(3)
                    .take_while(|d| d.is_ascii_digit())
                    .count();
                // compose-go drops the `0` and reads `\NNN` as an octal escape,
                // which needs exactly three octal digits; otherwise the text
                // without the `0` stays.
                let octal = &s[i + 2..i + 2 + digits];
                let value = (digits == 3)
                    .then(|| u8::from_str_radix(octal, 8).ok())
                    .flatten();
                let text = match value {
                    Some(v) => (v as char).to_string(),
                    None => format!("\\{octal}"),
                };
                (2 + digits, Some(text))
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[from..i]);
        match replacement {
            Some(r) => out.push_str(&r),
            None => out.push_str(&s[i..i + len]),
        }
        i += len;
        from = i;
    }
    out.push_str(&s[from..]);
    out
}

#[cfg(test)]
mod tests {
    //! Cases from compose-go's dotenv tests, ported.
    use super::*;

    fn one(src: &str, key: &str) -> String {
        let env = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        env.get(key)
            .cloned()
            .unwrap_or_else(|| panic!("{src:?}: no {key} in {env:?}"))
    }

    #[test]
    fn parsing() {
        for (src, key, want) in [
            ("FOO=bar", "FOO", "bar"),
            ("FOO =bar", "FOO", "bar"),
            ("FOO= bar", "FOO", "bar"),
            (r#"FOO="bar""#, "FOO", "bar"),
            ("FOO='bar'", "FOO", "bar"),
            (r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#),
            (r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#),
            (r#"FOO="'d'""#, "FOO", "'d'"),
            ("OPTION_A: 1", "OPTION_A", "1"),
            ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
            ("OPTION_A=1:B", "OPTION_A", "1:B"),
            ("export OPTION_A=2", "OPTION_A", "2"),
            (r"export OPTION_B='\n'", "OPTION_B", "\\n"),
            ("export exportFoo=2", "exportFoo", "2"),
            ("exportFOO=2", "exportFOO", "2"),
            ("export_FOO =2", "export_FOO", "2"),
            ("export.FOO= 2", "export.FOO", "2"),
            ("export\tOPTION_A=2", "OPTION_A", "2"),
            ("  export OPTION_A=2", "OPTION_A", "2"),
            ("\texport OPTION_A=2", "OPTION_A", "2"),
            (r#"export OPTION_A="export A""#, "OPTION_A", "export A"),
            (r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz"),
            (r"FOO=a\tb", "FOO", r"a\tb"),
            (r#"FOO="a\tb""#, "FOO", "a\tb"),
            (
                r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
                "KEY",
                "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
            ),
            ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
            ("FOO=foobar=", "FOO", "foobar="),
            ("FOO=bar ", "FOO", "bar"),
            ("FOO=bar # this is foo", "FOO", "bar"),
            ("FOO=bar #this is foo", "FOO", "bar"),
            ("FOO=bar #", "FOO", "bar"),
            (
                "FOO=123#not-an-inline-comment",
                "FOO",
                "123#not-an-inline-comment",
            ),
            (r#"FOO="bar#baz""#, "FOO", "bar#baz"),
            (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
            (r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz"),
            ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
            (r#"FOO="bar#baz#bang" # comment"#, "FOO", "bar#baz#bang"),
            (r#"FOO="ba#r""#, "FOO", "ba#r"),
            ("FOO='ba#r'", "FOO", "ba#r"),
            (r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{7}z"),
            (r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{7}z"),
            (r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{7}z"),
            (r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\"),
            (r#"="value""#, "", "value"),
            (" KEY =value", "KEY", "value"),
            ("   KEY=value", "KEY", "value"),
            ("\tKEY=value", "KEY", "value"),
            (r#"KEY="\0123""#, "KEY", "S"),
            (r#"KEY="\x07""#, "KEY", r"\x07"),
            (r#"KEY="\u12e4""#, "KEY", r"\u12e4"),
            (r#"KEY="\U00101234""#, "KEY", r"\U00101234"),
        ] {
            assert_eq!(one(src, key), want, "{src:?}");
        }
        assert!(parse("lol$wut").is_err());
        assert_eq!(
            parse("%!(EXTRA string)=foo").unwrap_err().to_string(),
            r#"line 1: unexpected character "%" in variable name "%!(EXTRA string)=foo""#
        );
    }

    #[test]
    fn quoted_file() {
        let env = parse(
            "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\nOPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n",
        )
        .unwrap();
        for (k, v) in [
            ("OPTION_A", "1"),
            ("OPTION_B", "2"),
            ("OPTION_C", ""),
            ("OPTION_D", "\\n"),
            ("OPTION_E", "1"),
            ("OPTION_F", "2"),
            ("OPTION_G", ""),
            ("OPTION_H", "\n"),
            ("OPTION_I", "echo 'asd'"),
            ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
            ("OPTION_K", "Let's go!"),
            ("OPTION_Z", "last value"),
        ] {
            assert_eq!(env[k], v, "{k}");
        }
    }

    #[test]
    fn expanding() {
        for (src, want) in [
            (
                "FOO=test\nBAR=$FOO",
                [("FOO", "test"), ("BAR", "test")].as_slice(),
            ),
            (
                "FOO=test\nBAR=${FOO}bar",
                &[("FOO", "test"), ("BAR", "testbar")],
            ),
            ("BAR=$FOO", &[("BAR", "")]),
            (
                "FOO=test\nBAR=\"quote $FOO\"",
                &[("FOO", "test"), ("BAR", "quote test")],
            ),
            ("BAR='quote $FOO'", &[("BAR", "quote $FOO")]),
            (r#"FOO="foo\$BAR""#, &[("FOO", "foo$BAR")]),
            (r#"FOO="foo\${BAR}""#, &[("FOO", "foo${BAR}")]),
            (
                "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
                &[("FOO", "test"), ("BAR", "foo${FOO} test")],
            ),
        ] {
            let env = parse(src).unwrap();
            for (k, v) in want {
                assert_eq!(env[*k], *v, "{src:?}");
            }
        }
        assert_eq!(
            one(
                "TEST_URLS=\"stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443\"",
                "TEST_URLS"
            ),
            "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"
        );
    }

    #[test]
    fn unterminated_quotes() {
        for src in [
            r#"KEY=""#,
            r#"KEY="value"#,
            r#"KEY="value\""#,
            r#"KEY="value'"#,
            "KEY='",
            "KEY='value",
            r"KEY='value\'",
            r#"KEY='value""#,
        ] {
            let err = parse(src).unwrap_err().to_string();
            assert!(err.contains("unterminated quoted value"), "{src}: {err}");
        }
    }

    #[test]
    fn ignored_lines_and_bom() {
        for src in ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment"] {
            assert!(parse(src).unwrap().is_empty(), "{src:?}");
        }
        assert_eq!(one("\u{feff}OPTION=bom", "OPTION"), "bom");
    }

    #[test]
    fn inherited_from_the_lookup() {
        let mut out = BTreeMap::new();
        parse_into("A\nB\nC=x\n", &mut out, &|k, _| {
            (k == "A").then(|| "from-env".to_string())
        })
        .unwrap();
        assert_eq!(out.get("A").map(String::as_str), Some("from-env"));
        assert!(!out.contains_key("B"));
        assert_eq!(out["C"], "x");
    }

    #[test]
    fn the_environment_wins_in_substitutions() {
        let mut out = BTreeMap::new();
        parse_into(
            "FOO=file\nBAR=${FOO}\nBAZ=${UNSET:-default}",
            &mut out,
            &|k, _| (k == "FOO").then(|| "env".to_string()),
        )
        .unwrap();
        assert_eq!(out["BAR"], "env");
        assert_eq!(out["BAZ"], "default");
    }
}
