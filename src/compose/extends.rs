//! `extends`: a service starts as a copy of another (in the same file or
//! another one) and merges its own keys over it, by the same rules as an
//! override file. Chains are followed; a cycle is named service by service.

use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

use super::loader::{self, ConfigFile, Notes, Options};
use super::tree::Path;
use super::{merge, paths};

/// The services visited along one chain of `extends`, to name a cycle.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    chain: Vec<(PathBuf, String)>,
}

impl Tracker {
    fn add(&self, file: &FsPath, service: &str) -> Result<Tracker, String> {
        let entry = (file.to_path_buf(), service.to_string());
        if self.chain.contains(&entry) {
            let mut lines = vec![
                "Circular reference:".to_string(),
                format!("  {} in {}", self.chain[0].1, self.chain[0].0.display()),
            ];
            for (f, s) in self.chain[1..].iter().chain([&entry]) {
                lines.push(format!("  extends {s} in {}", f.display()));
            }
            return Err(lines.join("\n"));
        }
        let mut chain = self.chain.clone();
        chain.push(entry);
        Ok(Tracker { chain })
    }
}

/// Resolves every `extends` in `doc` (the document of `file`).
pub fn apply(
    doc: &mut Mapping,
    file: &FsPath,
    opts: &Options,
    tracker: &Tracker,
    resets: &[Path],
    notes: &mut Notes,
) -> Result<(), String> {
    let Some(services) = doc.get_mut("services") else {
        return Ok(());
    };
    let Value::Mapping(services) = services else {
        return Err("services must be a mapping".into());
    };
    let names: Vec<String> = services
        .keys()
        .filter_map(|k| k.as_str().map(String::from))
        .collect();
    for name in names {
        let merged = extend_one(&name, services, file, opts, tracker, resets, notes)?;
        services.insert(name.into(), merged);
    }
    Ok(())
}

fn extend_one(
    name: &str,
    services: &mut Mapping,
    file: &FsPath,
    opts: &Options,
    tracker: &Tracker,
    resets: &[Path],
    notes: &mut Notes,
) -> Result<Value, String> {
    let Some(service) = services.get(name).cloned() else {
        return Ok(Value::Null);
    };
    if service.is_null() {
        return Ok(Value::Null);
    }
    let Value::Mapping(service) = service else {
        return Err(format!("services.{name} must be a mapping"));
    };
    let Some(ext) = service.get("extends") else {
        return Ok(Value::Mapping(service));
    };
    let (reference, other_file) = match ext {
        Value::Mapping(m) => {
            let Some(Value::String(reference)) = m.get("service") else {
                return Err(format!("extends.{name}.service is required"));
            };
            (
                reference.clone(),
                m.get("file").and_then(Value::as_str).map(String::from),
            )
        }
        Value::String(s) => (s.clone(), None),
        other => {
            return Err(format!(
                "services.{name}.extends must be a string or a mapping, not {}",
                super::gofmt::sprint(other)
            ));
        }
    };

    let (mut base_services, base_file, base_resets, base_opts) = match &other_file {
        Some(f) => {
            let (services, path, resets, opts) =
                base_from_file(name, &reference, file, f, opts, tracker, notes)?;
            (services, path, resets, opts)
        }
        None => {
            if !services.contains_key(reference.as_str()) {
                return Err(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found",
                    file.display()
                ));
            }
            (
                services.clone(),
                file.to_path_buf(),
                Vec::new(),
                opts.clone(),
            )
        }
    };
    let tracker = tracker.add(&base_file, name)?;
    let base = extend_one(
        &reference,
        &mut base_services,
        &base_file,
        &base_opts,
        &tracker,
        &base_resets,
        notes,
    )?;
    if other_file.is_none() {
        // The parent in this file is now resolved too; keep that work.
        if !base.is_null() {
            services.insert(reference.clone().into(), base.clone());
        }
    }
    let Value::Mapping(mut source) = base else {
        return Ok(Value::Mapping(service));
    };
    // What this document resets applies to the copy of the parent too.
    if !resets.is_empty() {
        let mut wrapper = Mapping::from_iter([(
            Value::from("services"),
            Value::Mapping(Mapping::from_iter([(
                Value::from(name),
                Value::Mapping(source),
            )])),
        )]);
        loader::apply_resets(&mut wrapper, resets);
        source = match wrapper["services"][name].clone() {
            Value::Mapping(m) => m,
            _ => Mapping::new(),
        };
    }
    let mut merged = merge::extend_service(source, service)?;
    merged.remove("extends");
    Ok(Value::Mapping(merged))
}

/// The services of the file an `extends.file` names, loaded as Compose
/// loads them: interpolated, not normalized, paths relative to that file.
#[allow(clippy::type_complexity)]
fn base_from_file(
    name: &str,
    reference: &str,
    from: &FsPath,
    file: &str,
    opts: &Options,
    tracker: &Tracker,
    notes: &mut Notes,
) -> Result<(Mapping, PathBuf, Vec<Path>, Options), String> {
    let expanded = paths::expand_user(file);
    let local = if FsPath::new(&expanded).is_absolute() {
        PathBuf::from(expanded)
    } else {
        PathBuf::from(paths::join(&opts.resource_dir, &expanded))
    };
    let dir = local
        .parent()
        .map(FsPath::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let ext_opts = Options {
        resource_dir: dir.clone(),
        resolve_paths: false,
        skip_normalization: true,
        skip_consistency: true,
        skip_include: true,
        skip_extends: true,
        skip_validation: true,
        skip_default_values: true,
        ..opts.clone()
    };
    let (source, resets) = loader::load_yaml_file(
        &ConfigFile {
            path: local.clone(),
            content: None,
        },
        &ext_opts,
        &dir,
        tracker,
        Mapping::new(),
        &mut Vec::new(),
        notes,
    )?;
    let source = paths::resolve_relative_paths(source, &dir)?;
    let Some(services) = source.get("services") else {
        return Err(format!(
            "cannot extend service {name:?} in {}: no services section",
            local.display()
        ));
    };
    let Value::Mapping(services) = services.clone() else {
        return Err(format!(
            "cannot extend service {name:?} in {}: services must be a mapping",
            local.display()
        ));
    };
    if !services.contains_key(reference) {
        return Err(format!(
            "cannot extend service {name:?} in {}: service {reference:?} not found in {file}",
            from.display()
        ));
    }
    // Further `extends` in that file are resolved by the recursion, with
    // that file's directory as the place to find theirs.
    let next_opts = Options {
        resource_dir: dir,
        ..opts.clone()
    };
    Ok((services, local, resets, next_opts))
}
