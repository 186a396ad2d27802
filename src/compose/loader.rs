//! Files -> one resolved project, step for step as compose-go's loader:
//!
//! per file and YAML document: interpolate, apply `extends`, drop what
//! `!reset` says, import `include`s, merge over the files before, keep
//! set-like lists unique, rewrite to long syntax; then defaults, checks,
//! relative paths, `environment` names; then `Normalize`; then the typed
//! model, profiles, consistency checks, `env_file` and `label_file`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

use super::model::{Mapping as Env, Project};
use super::tree::Path;
use super::{canonical, extends, include, interpolate, merge, normalize, paths, yaml};

/// What the steps may skip, and what they resolve against (compose-go's
/// `loader.Options`). `extends` and `include` load their files with their
/// own copy.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub skip_validation: bool,
    pub skip_interpolation: bool,
    pub skip_normalization: bool,
    pub resolve_paths: bool,
    pub skip_consistency: bool,
    pub skip_extends: bool,
    pub skip_include: bool,
    pub skip_resolve_environment: bool,
    pub skip_default_values: bool,
    /// Drop `env_file` once read (what `up` and `config` use).
    pub discard_env_files: bool,
    /// Drop `label_file` once read (`config` does, `up` keeps it).
    pub discard_label_files: bool,
    pub project_name: String,
    pub profiles: Vec<String>,
    /// Where relative `extends.file` and `include` paths are found.
    pub resource_dir: PathBuf,
    /// What `${VAR}` sees.
    pub environment: Env,
}

/// Messages the loader gathers on the way (Compose prints them as warnings).
#[derive(Debug, Default)]
pub struct Notes {
    pub warnings: Vec<String>,
    pub unset: BTreeSet<String>,
}

/// A compose file to load; `content` when it was read already.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub content: Option<String>,
}

/// A compose file, bounded (a log or a disk image is no compose file; a
/// FIFO or a device is refused before it is opened).
pub fn read_file(path: &FsPath) -> Result<String, String> {
    crate::trust::fs::read_text(path, crate::trust::fs::limit::COMPOSE).map_err(|e| match e {
        crate::trust::fs::ReadError::TooLarge { size, limit, .. } => format!(
            "{} is {} MB; a compose file larger than {} MB is not read",
            path.display(),
            size / (1024 * 1024),
            limit / (1024 * 1024)
        ),
        other => other.to_string(),
    })
}

/// One file, every document of it, merged over `dict`. Returns the new
/// dict and the `!reset` paths of its last document.
pub fn load_yaml_file(
    file: &ConfigFile,
    opts: &Options,
    working_dir: &FsPath,
    tracker: &extends::Tracker,
    mut dict: Mapping,
    included: &mut Vec<PathBuf>,
    notes: &mut Notes,
) -> Result<(Mapping, Vec<Path>), String> {
    let text = match &file.content {
        Some(t) => t.clone(),
        None => read_file(&file.path)?,
    };
    let docs =
        yaml::parse(&text).map_err(|e| format!("failed to parse {}: {e}", file.path.display()))?;
    let mut last_resets = Vec::new();
    for doc in docs {
        let mut cfg = doc.value;
        if !opts.skip_interpolation {
            let env = &opts.environment;
            cfg = interpolate::interpolate(cfg, &|k| env.get(k).cloned(), &mut notes.unset)?;
        }
        if !opts.skip_extends {
            extends::apply(&mut cfg, &file.path, opts, tracker, &doc.resets, notes)?;
        }
        apply_resets(&mut dict, &doc.resets);
        if !opts.skip_include {
            included.push(file.path.clone());
            include::apply(&mut cfg, working_dir, opts, included, notes)?;
        }
        dict = merge::merge(dict, cfg)?;
        dict = merge::enforce_unicity(dict)?;
        if !opts.skip_validation {
            super::schema::validate(&dict)
                .map_err(|e| format!("validating {}: {e}", file.path.display()))?;
        }
        if !opts.skip_validation && dict.remove("version").is_some() {
            notes.warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion",
                file.path.display()
            ));
        }
        dict = canonical::canonical(dict)?;
        dict = canonical::omit_empty(dict);
        dict = merge::enforce_unicity(dict)?;
        last_resets = doc.resets;
    }
    Ok((dict, last_resets))
}

/// Drops what `!reset`/`!override` paths name from what came before.
pub fn apply_resets(dict: &mut Mapping, resets: &[Path]) {
    if resets.is_empty() {
        return;
    }
    fn walk(v: &mut Mapping, path: &Path, resets: &[Path]) {
        let keys: Vec<Value> = v.keys().cloned().collect();
        for k in keys {
            let next = path.next(k.as_str().unwrap_or_default());
            if resets.iter().any(|r| next.matches(&r.to_string())) {
                v.remove(&k);
                continue;
            }
            if let Some(Value::Mapping(child)) = v.get_mut(&k) {
                walk(child, &next, resets);
            }
        }
    }
    walk(dict, &Path::root(), resets);
}

/// Every file of `files` merged, then defaults, checks, paths, environment.
pub fn load_yaml_model(
    files: &[ConfigFile],
    working_dir: &FsPath,
    opts: &Options,
    included: &mut Vec<PathBuf>,
    notes: &mut Notes,
) -> Result<Mapping, String> {
    let mut dict = Mapping::new();
    for file in files {
        let (d, _) = load_yaml_file(
            file,
            opts,
            working_dir,
            &extends::Tracker::default(),
            dict,
            included,
            notes,
        )?;
        dict = d;
    }
    if !opts.skip_default_values {
        dict = canonical::set_defaults(dict)?;
    }
    if !opts.skip_validation {
        canonical::validate(&dict)?;
    }
    if opts.resolve_paths {
        dict = paths::resolve_relative_paths(dict, working_dir)?;
    }
    normalize::resolve_environment(&mut dict, &opts.environment);
    Ok(dict)
}

/// The whole model: files, then normalization with the project's name.
pub fn load_model(
    files: &[ConfigFile],
    working_dir: &FsPath,
    opts: &Options,
    notes: &mut Notes,
) -> Result<Mapping, String> {
    let mut dict = load_yaml_model(files, working_dir, opts, &mut Vec::new(), notes)?;
    if dict.is_empty() {
        return Err("empty compose file".into());
    }
    if !opts.skip_validation && opts.project_name.is_empty() {
        return Err("project name must not be empty".into());
    }
    if !opts.skip_normalization {
        dict.insert("name".into(), opts.project_name.clone().into());
        normalize::normalize(&mut dict, &opts.environment);
    }
    Ok(dict)
}

/// Keys where `x-` names are real names (a service called `x-api`).
const USER_DEFINED: &[&str] = &[
    "services",
    "services.*.depends_on",
    "volumes",
    "networks",
    "secrets",
    "configs",
];

/// The `x-*` keys taken out of a document before it is decoded.
#[derive(Debug, Default)]
struct Extensions {
    /// Top-level ones, which Compose prints in JSON too.
    top: BTreeMap<String, Value>,
    /// The others, by the path of the mapping that held them: they say
    /// nothing to the engine, but Compose's YAML prints them in place.
    nested: Vec<(Vec<String>, String, Value)>,
}

/// Takes the `x-*` keys out (outside maps whose keys are names the user
/// chose, like `services`), so that the typed model sees none.
fn split_extensions(dict: &mut Mapping) -> Extensions {
    fn strip(v: &mut Value, path: &Path, nested: &mut Vec<(Vec<String>, String, Value)>) {
        match v {
            Value::Mapping(m) => {
                if !USER_DEFINED.iter().any(|p| path.matches(p)) {
                    m.retain(|k, v| match k.as_str() {
                        Some(k) if k.starts_with("x-") => {
                            // `x-#value` is a secret's value, kept by the
                            // loader, never printed.
                            if k != "x-#value" {
                                nested.push((path.parts().to_vec(), k.to_string(), v.clone()));
                            }
                            false
                        }
                        _ => true,
                    });
                }
                for (k, item) in m.iter_mut() {
                    strip(item, &path.next(k.as_str().unwrap_or_default()), nested);
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    strip(item, &path.next(&i.to_string()), nested);
                }
            }
            _ => {}
        }
    }
    let top: BTreeMap<String, Value> = dict
        .iter()
        .filter_map(|(k, v)| {
            let k = k.as_str()?;
            k.starts_with("x-").then(|| (k.to_string(), v.clone()))
        })
        .collect();
    dict.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
    let mut nested = Vec::new();
    for (k, v) in dict.iter_mut() {
        strip(
            v,
            &Path::root().next(k.as_str().unwrap_or_default()),
            &mut nested,
        );
    }
    Extensions { top, nested }
}

/// The normalized document -> the typed project, with profiles applied,
/// checked, and `env_file`/`label_file` read.
pub fn model_to_project(
    mut dict: Mapping,
    opts: &Options,
    working_dir: &FsPath,
) -> Result<Project, String> {
    dict.remove("name");
    let extensions = split_extensions(&mut dict);
    let mut project: Project = super::decode_model(Value::Mapping(dict))?;
    project.name = opts.project_name.clone();
    project.working_dir = working_dir.to_path_buf();
    project.environment = opts.environment.clone();
    project.extensions = extensions.top;
    project.nested_extensions = extensions.nested;
    apply_profiles(&mut project, &opts.profiles);
    if !opts.skip_consistency {
        super::consistency::check(&mut project)?;
    }
    if !opts.skip_resolve_environment {
        super::envfiles::resolve_environment(&mut project, opts.discard_env_files)?;
    }
    super::envfiles::resolve_labels(&mut project, opts.discard_label_files)?;
    Ok(project)
}

/// Services whose profiles are not active move to `disabled_services`.
pub fn apply_profiles(project: &mut Project, profiles: &[String]) {
    let all: Vec<String> = project
        .services
        .keys()
        .chain(project.disabled_services.keys())
        .cloned()
        .collect();
    let mut enabled = BTreeMap::new();
    let mut disabled = BTreeMap::new();
    for name in all {
        let svc = project
            .services
            .remove(&name)
            .or_else(|| project.disabled_services.remove(&name))
            .expect("listed above");
        if svc.has_profile(profiles) {
            enabled.insert(name, svc);
        } else {
            disabled.insert(name, svc);
        }
    }
    project.services = enabled;
    project.disabled_services = disabled;
    project.profiles = profiles.to_vec();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_drop_earlier_values() {
        let mut dict: Mapping =
            serde_yaml::from_str("services:\n  web:\n    ports: ['80:80']\n    image: a\n")
                .unwrap();
        apply_resets(&mut dict, &[Path::new(&["services", "web", "ports"])]);
        assert!(dict["services"]["web"].get("ports").is_none());
        assert!(dict["services"]["web"].get("image").is_some());
    }

    #[test]
    fn extensions_are_split_out() {
        let mut dict: Mapping = serde_yaml::from_str(
            "x-top: 1\nservices:\n  x-svc:\n    image: a\n    x-inner: 2\n    depends_on: {x-dep: {condition: service_started}}\n",
        )
        .unwrap();
        let found = split_extensions(&mut dict);
        assert_eq!(found.top.keys().collect::<Vec<_>>(), ["x-top"]);
        assert_eq!(
            found.nested,
            [(
                vec!["services".to_string(), "x-svc".to_string()],
                "x-inner".to_string(),
                Value::from(2)
            )]
        );
        let svc = &dict["services"]["x-svc"];
        assert!(svc.get("x-inner").is_none());
        assert!(svc["depends_on"].get("x-dep").is_some());
    }
}
