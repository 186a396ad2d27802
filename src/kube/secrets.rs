//! Values from `.env` never land in a manifest. The compose file is loaded
//! a second time with each `.env` variable replaced by a marker, so every
//! place a secret reaches is known; the marker becomes a reference to the
//! project's Secret (`$(VAR)` in env and args, `${VAR}` in a shell probe).

use std::collections::{BTreeMap, BTreeSet};

const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';

/// What `${VAR}` interpolates to in the marked load.
pub fn marker(var: &str) -> String {
    format!("{OPEN}{var}{CLOSE}")
}

/// A string split into literal text and marked variables.
#[derive(Debug, PartialEq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

pub fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find(CLOSE) else {
            break;
        };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Var(&rest[start + 1..start + len]));
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

pub fn vars_in(s: &str) -> Vec<String> {
    pieces(s)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(v) => Some(v.to_string()),
            Piece::Text(_) => None,
        })
        .collect()
}

/// The variable when `s` is one marker and nothing else.
pub fn only_var(s: &str) -> Option<&str> {
    match pieces(s).as_slice() {
        [Piece::Var(v)] => Some(v),
        _ => None,
    }
}

/// For env values and args, where Kubernetes expands `$(NAME)`: markers
/// become references (`names` maps a variable to the env entry holding
/// it), and a literal `$(` is escaped so it stays literal.
pub fn k8s_expansion(s: &str, names: &BTreeMap<String, String>) -> String {
    pieces(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.replace("$(", "$$("),
            Piece::Var(v) => format!("$({})", names.get(v).map(String::as_str).unwrap_or(v)),
        })
        .collect()
}

/// For a shell probe: markers become `${NAME}`, read from the container's
/// environment when the probe runs.
pub fn shell_expansion(s: &str, names: &BTreeMap<String, String>) -> String {
    pieces(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.to_string(),
            Piece::Var(v) => format!("${{{}}}", names.get(v).map(String::as_str).unwrap_or(v)),
        })
        .collect()
}

/// The project's one Secret: its keys, and the values `secrets.env` gets.
#[derive(Debug, Default)]
pub struct Secret {
    pub name: String,
    pub values: BTreeMap<String, String>,
    /// Compose's file secrets: Secret name -> the file's content.
    pub files: BTreeMap<String, String>,
}

impl Secret {
    /// The key holding `value` under `wanted`, or `SERVICE_WANTED` when
    /// another source already holds a different value under that name.
    pub fn key(&mut self, service: &str, wanted: &str, value: &str) -> String {
        let mut key = wanted.to_string();
        if self.values.get(&key).is_some_and(|v| v != value) {
            key = format!(
                "{}_{wanted}",
                service.to_uppercase().replace(['-', '.'], "_")
            );
        }
        self.values.insert(key.clone(), value.to_string());
        key
    }

    /// `secrets.env`, in the dotenv form kustomize's `envs:` reads: one
    /// `KEY=VALUE` a line, no quoting (kustomize takes the rest of the
    /// line as it is).
    pub fn env_file(&self) -> String {
        let mut s = String::from(
            "# Copied from the project's .env by `brickyard export kubernetes`. Never commit this file.\n",
        );
        for (k, v) in &self.values {
            s.push_str(&format!("{k}={v}\n"));
        }
        s
    }

    /// Values kustomize's dotenv reader cannot carry (a line break).
    pub fn unrepresentable(&self) -> BTreeSet<String> {
        self.values
            .iter()
            .filter(|(_, v)| v.contains('\n'))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// Whether a `.env` value is one to watch for in what the export writes:
/// long enough not to turn up by chance. A generated secret has 32
/// characters; a `.env` also holds words (`postgres`), ports and paths that
/// a manifest carries for other reasons, and those must not be taken out.
const WATCHED_LEN: usize = 16;

fn watched(value: &str) -> bool {
    value.chars().count() >= WATCHED_LEN
        && !value.contains(char::is_whitespace)
        && !value.starts_with('/')
}

/// The `.env` variables whose values `text` holds.
pub fn values_in<'a>(text: &str, env_values: &'a BTreeMap<String, String>) -> Vec<&'a str> {
    env_values
        .iter()
        .filter(|(_, v)| watched(v) && text.contains(v.as_str()))
        .map(|(k, _)| k.as_str())
        .collect()
}

/// A resource whose content holds a value from `.env` (a config's
/// `content:` that interpolates one) is not exported.
pub fn refuse_values(
    resource: super::Resource,
    env_values: &BTreeMap<String, String>,
) -> Result<super::Resource, String> {
    let text = resource.value.to_string();
    match values_in(&text, env_values).as_slice() {
        [] => Ok(resource),
        vars => Err(format!(
            "its content holds the value of {} from .env: not exported (a secret belongs in `secrets:`)",
            vars.join(", ")
        )),
    }
}

/// Takes out of `value` every string that holds a `.env` value (an entry
/// of an object, an element of an array); returns each one's path and
/// variable.
pub fn scrub(
    value: &mut serde_json::Value,
    env_values: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    use serde_json::Value;
    fn walk(
        v: &mut Value,
        at: &str,
        env: &BTreeMap<String, String>,
        out: &mut Vec<(String, String)>,
    ) {
        let holds = |v: &Value| match v {
            Value::String(s) => values_in(s, env).first().map(|k| k.to_string()),
            _ => None,
        };
        match v {
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    let path = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    if let Some(var) = map.get(&k).and_then(holds) {
                        map.remove(&k);
                        out.push((path, var));
                    } else if let Some(child) = map.get_mut(&k) {
                        walk(child, &path, env, out);
                    }
                }
            }
            Value::Array(items) => {
                let mut i = 0;
                let mut index = 0;
                while i < items.len() {
                    let path = format!("{at}[{index}]");
                    if let Some(var) = holds(&items[i]) {
                        items.remove(i);
                        out.push((path, var));
                    } else {
                        walk(&mut items[i], &path, env, out);
                        i += 1;
                    }
                    index += 1;
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", env_values, &mut out);
    out
}

/// Text for a person (the report): each `.env` value shown as `${VAR}`.
pub fn redact(text: &str, env_values: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in env_values.iter().filter(|(_, v)| watched(v)) {
        out = out.replace(v.as_str(), &format!("${{{k}}}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_become_references_and_literal_dollars_stay_literal() {
        let s = format!("postgres://app:{}@db/$(x)", marker("PW"));
        let names = BTreeMap::from([("PW".to_string(), "POSTGRES_PASSWORD".to_string())]);
        assert_eq!(
            k8s_expansion(&s, &names),
            "postgres://app:$(POSTGRES_PASSWORD)@db/$$(x)"
        );
        assert_eq!(
            shell_expansion(&s, &names),
            "postgres://app:${POSTGRES_PASSWORD}@db/$(x)"
        );
        assert_eq!(vars_in(&s), ["PW"]);
        assert_eq!(only_var(&marker("PW")), Some("PW"));
        assert_eq!(only_var(&s), None);
    }

    #[test]
    fn a_key_taken_with_another_value_gets_the_service_prefix() {
        let mut secret = Secret::default();
        assert_eq!(secret.key("db", "PASSWORD", "a"), "PASSWORD");
        assert_eq!(secret.key("web", "PASSWORD", "a"), "PASSWORD");
        assert_eq!(secret.key("web-1", "PASSWORD", "b"), "WEB_1_PASSWORD");
    }
}
