//! `extends`: a service starts as a copy of another (in the same file or
//! another one) and merges its own keys over it, by the same rules as an
//! override file. Chains are followed; a cycle is named service by service.

use std::path::{Path as FsPath, PathBuf};
use std::rc::Rc;

use serde_yaml::{Mapping, Value};

use super::loader::{self, ConfigFile, Notes, Options};
use super::tree::Path;
use super::{merge, paths};

/// The services visited along one chain of `extends`, to name a cycle.
/// Shared links, newest first: following a long chain copies nothing.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    last: Option<Rc<Link>>,
}

#[derive(Debug)]
struct Link {
    file: PathBuf,
    service: String,
    before: Option<Rc<Link>>,
}

impl Tracker {
    fn contains(&self, file: &FsPath, service: &str) -> bool {
        let mut link = self.last.as_deref();
        while let Some(l) = link {
            if l.file == file && l.service == service {
                return true;
            }
            link = l.before.as_deref();
        }
        false
    }

    /// This chain and one more service, with no cycle check.
    fn push(&self, file: &FsPath, service: &str) -> Tracker {
        Tracker {
            last: Some(Rc::new(Link {
                file: file.to_path_buf(),
                service: service.to_string(),
                before: self.last.clone(),
            })),
        }
    }

    /// This chain and one more service, or the cycle that makes, named.
    fn add(&self, file: &FsPath, service: &str) -> Result<Tracker, String> {
        let mut chain = Vec::new();
        let mut link = self.last.as_deref();
        while let Some(l) = link {
            chain.push((l.file.as_path(), l.service.as_str()));
            link = l.before.as_deref();
        }
        chain.reverse();
        if chain.contains(&(file, service)) {
            let mut lines = vec![
                "Circular reference:".to_string(),
                format!("  {} in {}", chain[0].1, chain[0].0.display()),
            ];
            for (f, s) in chain[1..].iter().chain([&(file, service)]) {
                lines.push(format!("  extends {s} in {}", f.display()));
            }
            return Err(lines.join("\n"));
        }
        Ok(self.push(file, service))
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
    resolve_parents_first(name, services, file, opts, tracker, notes)?;
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

    let base = match &other_file {
        Some(f) => {
            let (mut base_services, base_file, base_resets, base_opts) =
                base_from_file(name, &reference, file, f, opts, tracker, notes)?;
            let tracker = tracker.add(&base_file, name)?;
            extend_one(
                &reference,
                &mut base_services,
                &base_file,
                &base_opts,
                &tracker,
                &base_resets,
                notes,
            )?
        }
        None => {
            if !services.contains_key(reference.as_str()) {
                return Err(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found",
                    file.display()
                ));
            }
            let tracker = tracker.add(file, name)?;
            let base = extend_one(&reference, services, file, opts, &tracker, &[], notes)?;
            // The parent in this file is now resolved too; keep that work.
            if !base.is_null() {
                services.insert(reference.clone().into(), base.clone());
            }
            base
        }
    };
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

/// Resolves the chain of same-file parents of `name`, deepest first, so
/// that resolving `name` itself recurses one step, not once per link: a
/// chain thousands long must not overflow the stack.
fn resolve_parents_first(
    name: &str,
    services: &mut Mapping,
    file: &FsPath,
    opts: &Options,
    tracker: &Tracker,
    notes: &mut Notes,
) -> Result<(), String> {
    let mut chain = Vec::new();
    let mut seen_here = std::collections::HashSet::new();
    let (mut current, mut t) = (name.to_string(), tracker.clone());
    while let Some(parent) = unresolved_parent_here(services, &current) {
        // A set for this file's links keeps a long chain linear; `add`
        // names the cycle when there is one.
        t = if seen_here.contains(&current) || tracker.contains(file, &current) {
            t.add(file, &current)?
        } else {
            t.push(file, &current)
        };
        seen_here.insert(current.clone());
        chain.push((parent.clone(), t.clone()));
        current = parent;
    }
    for (parent, t) in chain.into_iter().rev() {
        let resolved = extend_one(&parent, services, file, opts, &t, &[], notes)?;
        if !resolved.is_null() {
            services.insert(parent.into(), resolved);
        }
    }
    Ok(())
}

/// The service in this file that `name` extends, when that one itself
/// still extends another.
fn unresolved_parent_here(services: &Mapping, name: &str) -> Option<String> {
    let parent = match services.get(name)?.get("extends")? {
        Value::String(s) => s.clone(),
        Value::Mapping(m) if m.get("file").is_none() => m.get("service")?.as_str()?.to_string(),
        _ => return None,
    };
    services
        .get(parent.as_str())?
        .get("extends")
        .is_some()
        .then_some(parent)
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
