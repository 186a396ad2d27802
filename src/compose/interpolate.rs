//! Interpolation of a whole document (compose-go's `interpolation` package):
//! every string value is substituted (`template.rs`), then, at the paths
//! where Compose expects a number or a boolean, converted to one, so that
//! `replicas: ${N}` or `init: "true"` mean what they say.

use std::collections::BTreeSet;

use serde_yaml::{Mapping, Value};

use super::template::{self, TemplateError};
use super::tree::Path;

/// Paths whose strings are converted after substitution, and to what.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.cpu_count", Cast::Int),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int),
    ("services.*.cpu_quota", Cast::Int),
    ("services.*.cpu_rt_period", Cast::Int),
    ("services.*.cpu_rt_runtime", Cast::Int),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int),
    ("services.*.pids_limit", Cast::Int),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.volumes.[].read_only", Cast::Bool),
    ("services.*.volumes.[].volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("networks.*.enable_ipv4", Cast::Bool),
    ("networks.*.enable_ipv6", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Float,
    Bool,
}

impl Cast {
    fn apply(self, s: &str) -> Result<Value, String> {
        match self {
            Cast::Int => s
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax")),
            Cast::Float => s
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
            Cast::Bool => match s.to_ascii_lowercase().as_str() {
                "true" | "y" | "yes" | "on" => Ok(Value::Bool(true)),
                "false" | "n" | "no" | "off" => Ok(Value::Bool(false)),
                _ => Err(format!("invalid boolean: {s}")),
            },
        }
    }
}

/// Substitutes variables through the document. Names that are used but set
/// nowhere are added to `unset` (Compose warns about each).
pub fn interpolate(
    doc: Mapping,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<Mapping, String> {
    let mut ctx = Ctx { lookup, unset };
    doc.into_iter()
        .map(|(k, v)| {
            let path = Path::root().next(k.as_str().unwrap_or_default());
            Ok((k, ctx.value(v, &path)?))
        })
        .collect()
}

struct Ctx<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unset: &'a mut BTreeSet<String>,
}

impl Ctx<'_> {
    fn value(&mut self, v: Value, path: &Path) -> Result<Value, String> {
        match v {
            Value::String(s) => {
                let unset = &mut *self.unset;
                let substituted = template::substitute(
                    &s,
                    &mut template::Vars {
                        lookup: self.lookup,
                        unset: &mut |name| {
                            unset.insert(name.to_string());
                        },
                    },
                )
                .map_err(|e| match e {
                    TemplateError::Invalid { template } => format!(
                        "invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{template}"
                    ),
                    other => format!("error while interpolating {path}: {other}"),
                })?;
                match CASTS.iter().find(|(pattern, _)| path.matches(pattern)) {
                    Some((_, cast)) => cast.apply(&substituted).map_err(|e| {
                        format!(
                            "error while interpolating {path}: failed to cast to expected type: {e}"
                        )
                    }),
                    None => Ok(Value::String(substituted)),
                }
            }
            Value::Mapping(m) => m
                .into_iter()
                .map(|(k, item)| {
                    let next = path.next(k.as_str().unwrap_or_default());
                    Ok((k, self.value(item, &next)?))
                })
                .collect::<Result<Mapping, String>>()
                .map(Value::Mapping),
            Value::Sequence(items) => {
                let next = path.item();
                items
                    .into_iter()
                    .map(|item| self.value(item, &next))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Sequence)
            }
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    //! compose-go's interpolation tests, ported.
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "USER" => Some("jenny".into()),
            "FOO" => Some("bar".into()),
            "count" => Some("5".into()),
            "REPLICAS" => Some("3".into()),
            "ENABLED" => Some("true".into()),
            "FLOAT" => Some("1.5".into()),
            _ => None,
        }
    }

    fn run(yaml: &str) -> Result<Value, String> {
        let doc: Mapping = serde_yaml::from_str(yaml).unwrap();
        interpolate(doc, &env, &mut BTreeSet::new()).map(Value::Mapping)
    }

    #[test]
    fn values_are_substituted_keys_are_not() {
        let out = run(
            "services:\n  servicea:\n    image: example:${USER}\n    volumes: ['$FOO:/target']\n    logging:\n      driver: \"${FOO}\"\n      options:\n        user: \"$USER\"\n        $FOO: key\n",
        )
        .unwrap();
        let s = &out["services"]["servicea"];
        assert_eq!(s["image"], Value::from("example:jenny"));
        assert_eq!(s["volumes"][0], Value::from("bar:/target"));
        assert_eq!(s["logging"]["driver"], Value::from("bar"));
        assert_eq!(s["logging"]["options"]["user"], Value::from("jenny"));
        assert_eq!(s["logging"]["options"]["$FOO"], Value::from("key"));
    }

    #[test]
    fn invalid_format_names_the_path() {
        let err = run("services:\n  servicea:\n    image: ${\n").unwrap_err();
        assert!(
            err.contains("invalid interpolation format for services.servicea.image"),
            "{err}"
        );
    }

    #[test]
    fn typed_paths_are_cast() {
        let out = run(
            "services:\n  a:\n    deploy:\n      replicas: $REPLICAS\n    init: ${ENABLED}\n    cpus: $FLOAT\n    ports:\n      - target: \"${count}\"\n    ulimits:\n      nproc: \"${count}\"\n      nofile: {soft: '1', hard: '2'}\n    healthcheck:\n      disable: \"yes\"\nvolumes:\n  v:\n    external: \"false\"\n",
        )
        .unwrap();
        let a = &out["services"]["a"];
        assert_eq!(a["deploy"]["replicas"], Value::from(3));
        assert_eq!(a["init"], Value::Bool(true));
        assert_eq!(a["cpus"], Value::from(1.5));
        assert_eq!(a["ports"][0]["target"], Value::from(5));
        assert_eq!(a["ulimits"]["nproc"], Value::from(5));
        assert_eq!(a["ulimits"]["nofile"]["hard"], Value::from(2));
        assert_eq!(a["healthcheck"]["disable"], Value::Bool(true));
        assert_eq!(out["volumes"]["v"]["external"], Value::Bool(false));
    }

    #[test]
    fn a_bad_cast_names_the_path() {
        let err = run("services:\n  a:\n    scale: lots\n").unwrap_err();
        assert!(
            err.starts_with("error while interpolating services.a.scale: failed to cast"),
            "{err}"
        );
    }

    #[test]
    fn unset_variables_are_collected() {
        let doc: Mapping = serde_yaml::from_str("a: ${NOPE}\nb: ${NOPE2:-x}\n").unwrap();
        let mut unset = BTreeSet::new();
        interpolate(doc, &env, &mut unset).unwrap();
        assert_eq!(unset.into_iter().collect::<Vec<_>>(), ["NOPE"]);
    }
}
