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
