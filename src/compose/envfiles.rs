//! `env_file` and `label_file`: read in order, later files winning, then
//! the service's own `environment`/`labels` over them (compose-go's
//! `WithServicesEnvironmentResolved` and `WithServicesLabelsResolved`).

use std::collections::BTreeMap;

use super::dotenv;
use super::model::{MappingWithEquals, Project};

pub fn resolve_environment(project: &mut Project, discard: bool) -> Result<(), String> {
    let project_env = project.environment.clone();
    for svc in project.services.values_mut() {
        // Bare names take the project's environment first.
        for (k, v) in svc.environment.iter_mut() {
            if v.is_none()
                && let Some(found) = project_env.get(k)
            {
                *v = Some(found.clone());
            }
        }
        let own = svc.environment.clone();
        let mut from_files: BTreeMap<String, String> = svc
            .environment
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        for file in &svc.env_files {
            let path = std::path::Path::new(&file.path);
            if !path.exists() {
                if file.required {
                    return Err(format!(
                        "env file {} not found: stat {}: no such file or directory",
                        file.path, file.path
                    ));
                }
                continue;
            }
            let text = crate::trust::fs::read_text(path, crate::trust::fs::limit::ENV)
                .map_err(|e| format!("cannot read env file: {e}"))?;
            let lookup = |k: &str| {
                project_env
                    .get(k)
                    .cloned()
                    .or_else(|| own.get(k).cloned().flatten())
            };
            match file.format.as_str() {
                "" | ".env" => dotenv::parse_into(&text, &mut from_files, &|k, _| lookup(k))
                    .map_err(|e| format!("failed to read {}: {e}", file.path))?,
                "raw" => raw_env_file(&text, &mut from_files, &lookup)
                    .map_err(|e| format!("failed to parse env_file {}: {e}", file.path))?,
                other => return Err(format!("unsupported env_file format {other:?}")),
            }
        }
        let mut merged: MappingWithEquals =
            from_files.into_iter().map(|(k, v)| (k, Some(v))).collect();
        // The service's own entries win, even an unset (null) one.
        for (k, v) in own {
            merged.insert(k, v);
        }
        svc.environment = merged;
        if discard {
            svc.env_files.clear();
        }
    }
    Ok(())
}

/// The `raw` format: `docker run --env-file` lines, taken as written (no
/// quotes, no substitution); a bare name takes the environment's value.
fn raw_env_file(
    text: &str,
    out: &mut BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if name.contains([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']) {
            return Err(format!("variable '{name}' contains whitespaces"));
        }
        if name.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        match value {
            Some(v) => {
                out.insert(name.to_string(), v.to_string());
            }
            None => {
                if let Some(v) = lookup(line) {
                    out.insert(name.trim().to_string(), v);
                }
            }
        }
    }
    Ok(())
}

pub fn resolve_labels(project: &mut Project, discard: bool) -> Result<(), String> {
    for svc in project.services.values_mut() {
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for file in &svc.label_files {
            let text = crate::trust::fs::read_text(
                std::path::Path::new(file),
                crate::trust::fs::limit::ENV,
            )
            .map_err(|e| {
                if e.is_not_found() {
                    format!("label file {file} not found: stat {file}: no such file or directory")
                } else {
                    format!("cannot read label file: {e}")
                }
            })?;
            let mut vars = BTreeMap::new();
            let seen = labels.clone();
            dotenv::parse_into(&text, &mut vars, &|k, _| seen.get(k).cloned())
                .map_err(|e| format!("failed to read {file}: {e}"))?;
            labels.extend(vars);
        }
        if !labels.is_empty() || !svc.labels.is_empty() {
            labels.extend(std::mem::take(&mut svc.labels));
            svc.labels = labels;
        }
        if discard {
            svc.label_files.clear();
        }
    }
    Ok(())
}
