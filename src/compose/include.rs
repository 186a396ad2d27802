//! `include`: another compose project's resources imported into this one,
//! each loaded in its own directory with its own `.env`, paths resolved
//! there. A resource defined both here and there must be the same, else it
//! is a conflict; an include cycle is named file by file.

use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

use super::dotenv;
use super::loader::{self, ConfigFile, Notes, Options};
use super::paths;

struct IncludeConfig {
    path: Vec<String>,
    project_directory: Option<String>,
    env_file: Vec<String>,
}

fn string_list(v: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| format!("include.{what} must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("include.{what} must be a string or a list")),
    }
}

fn configs(v: &Value) -> Result<Vec<IncludeConfig>, String> {
    let Value::Sequence(items) = v else {
        return Err(format!(
            "`include` must be a list, got {}",
            super::gofmt::sprint(v)
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(IncludeConfig {
                path: vec![s.clone()],
                project_directory: None,
                env_file: Vec::new(),
            }),
            Value::Mapping(m) => {
                for k in m.keys().filter_map(Value::as_str) {
                    if !["path", "project_directory", "env_file"].contains(&k)
                        && !k.starts_with("x-")
                    {
                        return Err(format!("include: unknown key `{k}`"));
                    }
                }
                Ok(IncludeConfig {
                    path: string_list(m.get("path"), "path")?,
                    project_directory: m
                        .get("project_directory")
                        .and_then(Value::as_str)
                        .map(String::from),
                    env_file: string_list(m.get("env_file"), "env_file")?,
                })
            }
            other => Err(format!(
                "include entries must be a path or a mapping, not {}",
                super::gofmt::sprint(other)
            )),
        })
        .collect()
}

fn absolute(base: &FsPath, p: &str) -> PathBuf {
    let p = paths::expand_user(p);
    if FsPath::new(&p).is_absolute() {
        PathBuf::from(p)
    } else {
        PathBuf::from(paths::join(base, &p))
    }
}

/// Imports what `doc`'s `include` names into `doc`, and drops the key.
pub fn apply(
    doc: &mut Mapping,
    working_dir: &FsPath,
    opts: &Options,
    included: &[PathBuf],
    notes: &mut Notes,
) -> Result<(), String> {
    let Some(raw) = doc.get("include").cloned() else {
        return Ok(());
    };
    doc.remove("include");
    if raw.is_null() {
        return Ok(());
    }
    for config in configs(&raw)? {
        if config.path.is_empty() {
            return Err("include: `path` is required".into());
        }
        let files: Vec<PathBuf> = config
            .path
            .iter()
            .map(|p| absolute(&opts.resource_dir, p))
            .collect();
        let main = &files[0];
        let project_dir = match &config.project_directory {
            None => main
                .parent()
                .map(FsPath::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/")),
            Some(d) => absolute(working_dir, d),
        };
        if included.contains(main) {
            let mut chain: Vec<String> = included.iter().map(|p| p.display().to_string()).collect();
            chain.push(main.display().to_string());
            return Err(format!(
                "include cycle detected:\n{}\n include {}",
                chain[0],
                chain[1..].join("\n include ")
            ));
        }
        let env_files: Vec<PathBuf> = if config.env_file.is_empty() {
            let default = project_dir.join(".env");
            if default.is_file() {
                vec![default]
            } else {
                Vec::new()
            }
        } else {
            config
                .env_file
                .iter()
                .map(|f| {
                    let p = absolute(working_dir, f);
                    if !p.exists() {
                        return Err(format!("env file {} not found", p.display()));
                    }
                    if p.is_dir() {
                        return Err(format!("{} is not a file", p.display()));
                    }
                    Ok(p)
                })
                .collect::<Result<_, _>>()?
        };
        let from_files = dotenv::read_files(&opts.environment, &env_files)?;
        let mut environment = opts.environment.clone();
        for (k, v) in from_files {
            environment.entry(k).or_insert(v);
        }
        let inc_opts = Options {
            resolve_paths: true,
            skip_normalization: true,
            skip_consistency: true,
            resource_dir: project_dir.clone(),
            environment,
            ..opts.clone()
        };
        let files: Vec<ConfigFile> = files
            .into_iter()
            .map(|path| ConfigFile {
                path,
                content: None,
            })
            .collect();
        let mut chain = included.to_vec();
        let imported = loader::load_yaml_model(&files, &project_dir, &inc_opts, &mut chain, notes)?;
        import_resources(imported, doc)?;
    }
    Ok(())
}

fn import_resources(source: Mapping, target: &mut Mapping) -> Result<(), String> {
    for key in [
        "services", "volumes", "networks", "secrets", "configs", "models",
    ] {
        let Some(Value::Mapping(from)) = source.get(key) else {
            continue;
        };
        let mut to = match target.get(key) {
            Some(Value::Mapping(m)) => m.clone(),
            _ => Mapping::new(),
        };
        for (name, value) in from {
            match to.get(name) {
                Some(existing) if existing == value => {}
                Some(_) => {
                    return Err(format!(
                        "{key}.{} conflicts with imported resource",
                        name.as_str().unwrap_or_default()
                    ));
                }
                None => {
                    to.insert(name.clone(), value.clone());
                }
            }
        }
        target.insert(key.into(), Value::Mapping(to));
    }
    Ok(())
}
