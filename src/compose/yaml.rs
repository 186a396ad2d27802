//! A compose file's text -> one document tree per YAML document, with
//! anchors, aliases and merge keys (`<<`) resolved, and the `!reset` /
//! `!override` tags taken out and remembered by path (compose-go's
//! `ResetProcessor`).

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::tree::Path;

/// One YAML document of a compose file.
pub struct Document {
    pub value: Mapping,
    /// Paths tagged `!reset` (removed here) or `!override` (kept): what an
    /// earlier file said at these paths is dropped before this one merges.
    pub resets: Vec<Path>,
}

/// Parses every document of `text`. Errors name the file's problem as the
/// YAML parser reports it (line and column).
pub fn parse(text: &str) -> Result<Vec<Document>, String> {
    let (raws, error) = raw_documents(text);
    if let Some(e) = error {
        return Err(e);
    }
    let mut docs = Vec::new();
    for raw in raws {
        if raw.is_null() {
            continue;
        }
        let mut resets = Vec::new();
        let Some(raw) = resolve_tags(raw, &Path::root(), &mut resets) else {
            continue;
        };
        let mut merged = raw;
        merge_keys(&mut merged)?;
        let value = match string_keys(merged, "")? {
            Value::Mapping(m) => m,
            _ => return Err("top-level object must be a mapping".into()),
        };
        docs.push(Document { value, resets });
    }
    Ok(docs)
}

/// The documents of `text` as the YAML parser gives them, up to the first
/// error, and that error.
pub fn raw_documents(text: &str) -> (Vec<Value>, Option<String>) {
    if let Err(e) = crate::trust::yaml::check_depth(text) {
        return (Vec::new(), Some(e));
    }
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        // After an error the iterator repeats it forever: stop there.
        match Value::deserialize(de) {
            Ok(v) => docs.push(v),
            Err(e) => return (docs, Some(e.to_string())),
        }
    }
    (docs, None)
}

/// Drops `!reset` nodes and unwraps `!override` ones, recording their paths.
/// Under a merge key the path is that of the mapping merged into.
fn resolve_tags(v: Value, path: &Path, resets: &mut Vec<Path>) -> Option<Value> {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            if tag == "!reset" {
                resets.push(path.clone());
                None
            } else if tag == "!override" {
                resets.push(path.clone());
                Some(t.value)
            } else {
                // Other tags (`!!str`...) say nothing to Compose: keep the value.
                resolve_tags(t.value, path, resets)
            }
        }
        Value::Sequence(items) => Some(Value::Sequence(
            items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| resolve_tags(item, &path.next(&i.to_string()), resets))
                .collect(),
        )),
        Value::Mapping(m) => Some(Value::Mapping(
            m.into_iter()
                .filter_map(|(k, item)| {
                    let next = match &k {
                        Value::String(s) if s == "<<" => path.clone(),
                        Value::String(s) => path.next(s),
                        other => path.next(&super::gofmt::sprint(other)),
                    };
                    resolve_tags(item, &next, resets).map(|item| (k, item))
                })
                .collect(),
        )),
        other => Some(other),
    }
}

/// Resolves `<<` merge keys, innermost first, so that a mapping merged in
/// has its own `<<` resolved before it is merged (serde_yaml's own pass
/// leaves those behind). Keys written in the mapping win; in a list of
/// merges, the first one that has a key wins.
fn merge_keys(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            for item in m.values_mut() {
                merge_keys(item)?;
            }
            let Some(source) = m.remove("<<") else {
                return Ok(());
            };
            let sources = match source {
                Value::Mapping(one) => vec![one],
                Value::Sequence(many) => many
                    .into_iter()
                    .map(|s| match s {
                        Value::Mapping(one) => Ok(one),
                        _ => Err("a merge key (<<) list may hold only mappings".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err("a merge key (<<) must be a mapping or a list of mappings".into()),
            };
            for source in sources {
                for (k, item) in source {
                    m.entry(k).or_insert(item);
                }
            }
            Ok(())
        }
        Value::Sequence(items) => items.iter_mut().try_for_each(merge_keys),
        Value::Tagged(t) => merge_keys(&mut t.value),
        _ => Ok(()),
    }
}

/// Every mapping key must be a string, as compose-go requires.
fn string_keys(v: Value, at: &str) -> Result<Value, String> {
    match v {
        Value::Mapping(m) => {
            let mut out = Mapping::with_capacity(m.len());
            for (k, item) in m {
                let Value::String(key) = k else {
                    let location = if at.is_empty() {
                        "at top level".to_string()
                    } else {
                        format!("in {at}")
                    };
                    return Err(format!(
                        "non-string key {location}: {}",
                        super::gofmt::sprint(&k)
                    ));
                };
                let next = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                out.insert(Value::String(key), string_keys(item, &next)?);
            }
            Ok(Value::Mapping(out))
        }
        Value::Sequence(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| string_keys(item, &format!("{at}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Document {
        let mut docs = parse(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn refuses_runaway_nesting_before_the_parser_sees_it() {
        let deep = format!("services: {}{}", "[".repeat(5000), "]".repeat(5000));
        let err = parse(&deep).err().unwrap();
        assert!(
            err.contains("nested more than 1000 levels deep at line 1 column 1010"),
            "{err}"
        );
        // Brackets in quotes and comments are not nesting.
        let quoted = format!(
            "services:\n  a:\n    image: x # {}\n    command: \"{}\"\n",
            "[".repeat(2000),
            "{".repeat(2000)
        );
        assert!(parse(&quoted).is_ok());
    }

    #[test]
    fn merge_keys_and_anchors() {
        let d = one(
            "x-base: &base\n  image: a\n  environment: {A: '1'}\nservices:\n  web:\n    <<: *base\n    environment: {B: '2'}\n",
        );
        let web = &d.value["services"]["web"];
        assert_eq!(web["image"], Value::String("a".into()));
        // An explicit key wins over the merged one, whole.
        assert!(web["environment"].get("A").is_none());
    }

    #[test]
    fn merges_inside_merged_mappings() {
        let d = one(
            "x-restart: &restart\n  restart: always\nx-defaults: &defaults\n  <<: *restart\n  image: a\n  depends_on:\n    db:\n      <<: &healthy\n        condition: service_healthy\n    cache:\n      <<: *healthy\nservices:\n  web:\n    <<: *defaults\n    command: run\n",
        );
        let web = &d.value["services"]["web"];
        assert_eq!(web["restart"], Value::from("always"));
        assert_eq!(
            web["depends_on"]["cache"]["condition"],
            Value::from("service_healthy")
        );
        assert!(web.get("<<").is_none());
    }

    #[test]
    fn reset_and_override_are_remembered() {
        let d = one("services:\n  web:\n    ports: !reset []\n    command: !override [a]\n");
        let paths: Vec<String> = d.resets.iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, ["services.web.ports", "services.web.command"]);
        assert!(d.value["services"]["web"].get("ports").is_none());
        assert!(d.value["services"]["web"]["command"].is_sequence());
    }

    #[test]
    fn errors_are_named() {
        assert_eq!(
            parse("services:\n  123:\n    image: x\n").err().unwrap(),
            "non-string key in services: 123"
        );
        assert!(parse("- a\n").is_err());
        assert!(parse("a: [\n").is_err());
        assert!(parse("a: 1\na: 2\n").is_err(), "duplicate keys");
    }

    #[test]
    fn several_documents() {
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap().len(), 2);
    }
}
