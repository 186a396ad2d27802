//! What a service mounts -> claims, ConfigMaps and emptyDirs.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::Resource;
use super::names::{dns_label, labels};
use super::report::Outcome;
use super::secrets;
use super::workload::{CLAIM_SIZE, Context, Input};
use crate::compose::model::{Project, Service, ServiceVolume};

/// A ConfigMap holds at most 1 MiB; leave room for its metadata.
const CONFIG_MAP_BYTES: u64 = 900 * 1024;

#[derive(Default)]
pub struct Mounts {
    pub mounts: Vec<Value>,
    pub volumes: Vec<Value>,
    pub claims: Vec<Value>,
}

pub fn volumes(ctx: &mut Context, name: &str, svc: &Service, out: &mut Vec<Resource>) -> Mounts {
    let mut m = Mounts::default();
    let wd = ctx.input.project.working_dir.clone();
    let secrets = secret_files(ctx.input);
    for (i, v) in svc.volumes.iter().enumerate() {
        let key = format!("volumes[{}] {}", i, v.target);
        match v.kind.as_str() {
            "volume" if !v.source.is_empty() => {
                let claim = dns_label(&v.source);
                m.mounts.push(mount(
                    &claim,
                    &v.target,
                    v.read_only,
                    &v.volume
                        .as_ref()
                        .map(|x| x.subpath.clone())
                        .unwrap_or_default(),
                ));
                if !m
                    .claims
                    .iter()
                    .any(|c| c["metadata"]["name"] == json!(claim))
                {
                    m.claims.push(json!({
                        "metadata": {"name": claim, "labels": labels(ctx.input.project, name)},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": CLAIM_SIZE}}},
                    }));
                }
                let shared = ctx.volume_users.get(&v.source).map(Vec::len).unwrap_or(0) > 1;
                let note = format!(
                    "PersistentVolumeClaim `{claim}` of the StatefulSet ({CLAIM_SIZE}, ReadWriteOnce; size it in the production overlay)"
                );
                if shared {
                    ctx.report.add(name, &key, Outcome::Approximated, format!("{note}; other services mount volume `{}` too, and each gets a claim of its own: the data is not shared", v.source));
                } else {
                    ctx.report.add(name, &key, Outcome::Translated, note);
                }
            }
            "volume" | "tmpfs" => {
                let vol = format!("scratch-{i}");
                m.mounts.push(mount(&vol, &v.target, v.read_only, ""));
                let mut empty = json!({});
                if v.kind == "tmpfs" {
                    empty["medium"] = json!("Memory");
                    if let Some(t) = &v.tmpfs
                        && t.size.0 > 0
                    {
                        empty["sizeLimit"] = json!(t.size.0.to_string());
                    }
                    ctx.report
                        .add(name, &key, Outcome::Translated, "emptyDir in memory");
                } else {
                    ctx.report.add(
                        name,
                        &key,
                        Outcome::Approximated,
                        "emptyDir: an anonymous volume lives as long as the pod",
                    );
                }
                m.volumes.push(json!({"name": vol, "emptyDir": empty}));
            }
            "bind" => match bind_config_map(ctx.input.project, name, v, &wd, &secrets) {
                Ok(FileMount {
                    config_map,
                    volume,
                    mount,
                    note,
                }) => {
                    out.push(Resource::new(config_map, name));
                    m.volumes.push(volume);
                    m.mounts.push(mount);
                    let outcome = if v.read_only {
                        Outcome::Translated
                    } else {
                        Outcome::Approximated
                    };
                    let note = if v.read_only {
                        note
                    } else {
                        format!("{note}; read-only, where the bind mount was writable")
                    };
                    ctx.report.add(name, &key, outcome, note);
                }
                Err(why) => ctx.report.add(name, &key, Outcome::NotTranslated, why),
            },
            other => ctx.report.add(
                name,
                &key,
                Outcome::NotTranslated,
                format!("a `{other}` mount has no Kubernetes counterpart brickyard writes"),
            ),
        }
    }
    for (i, t) in svc.tmpfs.iter().enumerate() {
        let path = t.split(':').next().unwrap_or(t);
        let vol = format!("tmpfs-{i}");
        m.mounts.push(mount(&vol, path, false, ""));
        m.volumes
            .push(json!({"name": vol, "emptyDir": {"medium": "Memory"}}));
        let note = if path == t {
            "emptyDir in memory".to_string()
        } else {
            format!(
                "emptyDir in memory (options `{}` dropped)",
                &t[path.len() + 1..]
            )
        };
        ctx.report.add(
            name,
            &format!("tmpfs[{i}] {path}"),
            if path == t {
                Outcome::Translated
            } else {
                Outcome::Approximated
            },
            note,
        );
    }
    for (i, c) in svc.configs.iter().enumerate() {
        let key = format!("configs[{i}] {}", c.source);
        match config_map_of_config(ctx.input.project, name, &c.source)
            .and_then(|cm| secrets::refuse_values(cm, ctx.input.env_values))
        {
            Ok(cm) => {
                let cm_name = cm.value["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let target = if c.target.is_empty() {
                    format!("/{}", c.source)
                } else {
                    c.target.clone()
                };
                let vol = format!("config-{i}");
                m.volumes
                    .push(json!({"name": vol, "configMap": {"name": cm_name}}));
                m.mounts.push(json!({"name": vol, "mountPath": target, "subPath": "content", "readOnly": true}));
                if !out.iter().any(|r| {
                    r.value["metadata"]["name"] == json!(cm_name) && r.value["kind"] == "ConfigMap"
                }) {
                    out.push(cm);
                }
                ctx.report.add(
                    name,
                    &key,
                    Outcome::Translated,
                    format!("ConfigMap `{cm_name}` at {target}"),
                );
            }
            Err(why) => ctx.report.add(name, &key, Outcome::NotTranslated, why),
        }
    }
    for (i, s) in svc.secrets.iter().enumerate() {
        let key = format!("secrets[{i}] {}", s.source);
        match secret_file(ctx, &s.source) {
            Ok(secret_name) => {
                let target = match s.target.as_str() {
                    "" => format!("/run/secrets/{}", s.source),
                    t if t.starts_with('/') => t.to_string(),
                    t => format!("/run/secrets/{t}"),
                };
                let vol = format!("secret-{i}");
                let mut item = json!({"key": "content", "path": "content"});
                if let Some(mode) = s.mode {
                    item["mode"] = json!(mode.0);
                }
                m.volumes.push(
                    json!({"name": vol, "secret": {"secretName": secret_name, "items": [item]}}),
                );
                m.mounts.push(json!({"name": vol, "mountPath": target, "subPath": "content", "readOnly": true}));
                let ids = if s.uid.is_empty() && s.gid.is_empty() {
                    Outcome::Translated
                } else {
                    Outcome::Approximated
                };
                let note = format!(
                    "Secret `{secret_name}` (the local overlay generates it from a copy of the file, git-ignored), mounted at {target}"
                );
                let note = if ids == Outcome::Approximated {
                    format!(
                        "{note}; owned by the pod's user, not uid/gid {}:{}",
                        s.uid, s.gid
                    )
                } else {
                    note
                };
                ctx.report.add(name, &key, ids, note);
            }
            Err(why) => ctx.report.add(name, &key, Outcome::NotTranslated, why),
        }
    }
    m
}

fn mount(volume: &str, path: &str, read_only: bool, sub_path: &str) -> Value {
    let mut v = json!({"name": volume, "mountPath": path});
    if !sub_path.is_empty() {
        v["subPath"] = json!(sub_path);
    }
    if read_only {
        v["readOnly"] = json!(true);
    }
    v
}

/// A ConfigMap key for a file's path: ConfigMap keys allow `[-._a-zA-Z0-9]`.
fn config_key(rel: &str) -> String {
    rel.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A project file or directory as a ConfigMap, and how the pod mounts it.
struct FileMount {
    config_map: Value,
    volume: Value,
    mount: Value,
    /// The report's line.
    note: String,
}

/// A project file or directory mounted into the service -> a ConfigMap
/// holding its contents, mounted at the same path (a file by `subPath`,
/// a directory with an item per file, subdirectories kept).
fn bind_config_map(
    project: &Project,
    service: &str,
    v: &ServiceVolume,
    wd: &Path,
    secrets: &[PathBuf],
) -> Result<FileMount, String> {
    let source = PathBuf::from(&v.source);
    let Ok(rel) = source.strip_prefix(wd) else {
        return Err(format!(
            "{} is a path of this machine, outside the project: a cluster node does not have it (a hostPath would read the node's own)",
            v.source
        ));
    };
    // The project's own directory is `./`, not `./.`.
    let shown = if rel.as_os_str().is_empty() {
        "./".to_string()
    } else {
        format!("./{}", rel.display())
    };
    let shown_dir = format!("{}/", shown.trim_end_matches('/'));
    let meta = std::fs::metadata(&source).map_err(|_| {
        format!("{shown} does not exist, so there is nothing to put in a ConfigMap")
    })?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if meta.is_file() {
        files.push((
            source
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            source.clone(),
        ));
    } else {
        collect_files(&source, &source, &mut files)
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        files.sort();
    }
    if let Some((name, _)) = files
        .iter()
        .find(|(_, p)| secrets.contains(&p.canonicalize().unwrap_or_else(|_| p.clone())))
    {
        let held = if meta.is_file() {
            format!("{shown} is")
        } else {
            format!("{shown_dir} holds {name}, which is")
        };
        return Err(format!(
            "{held} where the project keeps secrets: a ConfigMap would publish them with the manifests; mount only the files the service needs, or bake them into the image"
        ));
    }
    let total: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    if total > CONFIG_MAP_BYTES {
        return Err(format!(
            "{shown} holds {} KiB, more than a ConfigMap takes (1 MiB): bake it into the image",
            total / 1024
        ));
    }
    if meta.is_dir() && (files.is_empty() || files.len() > 200) {
        return Err(format!(
            "{shown} has {} files: a ConfigMap is for configuration, bake it into the image",
            files.len()
        ));
    }
    let cm_name = super::names::child_name(service, &v.target);
    let mut data = serde_json::Map::new();
    let mut binary = serde_json::Map::new();
    let mut items = Vec::new();
    for (rel_path, path) in &files {
        let bytes = crate::trust::fs::read_bytes(path, crate::trust::fs::limit::COMPOSE)
            .map_err(|e| e.to_string())?;
        let mut key = config_key(rel_path);
        while data.contains_key(&key) || binary.contains_key(&key) {
            key.insert(0, '_');
        }
        match String::from_utf8(bytes) {
            Ok(text) => data.insert(key.clone(), json!(text)),
            Err(e) => {
                use base64::Engine as _;
                binary.insert(
                    key.clone(),
                    json!(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
                )
            }
        };
        items.push(json!({"key": key, "path": rel_path}));
    }
    let mut cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": cm_name, "labels": labels(project, service)},
    });
    if !data.is_empty() {
        cm["data"] = Value::Object(data);
    }
    if !binary.is_empty() {
        cm["binaryData"] = Value::Object(binary);
    }
    let vol_name = format!("files-{}", super::names::short_hash(&v.target));
    let (volume, mount_value) = if meta.is_file() {
        let key = items[0]["key"].clone();
        (
            json!({"name": vol_name, "configMap": {"name": cm_name}}),
            json!({"name": vol_name, "mountPath": v.target, "subPath": key, "readOnly": true}),
        )
    } else {
        (
            json!({"name": vol_name, "configMap": {"name": cm_name, "items": items}}),
            json!({"name": vol_name, "mountPath": v.target, "readOnly": true}),
        )
    };
    let note = format!(
        "ConfigMap `{cm_name}` with {} ({} file{}), mounted at {}; export again after editing it",
        if meta.is_file() { shown } else { shown_dir },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        v.target
    );
    Ok(FileMount {
        config_map: cm,
        volume,
        mount: mount_value,
        note,
    })
}

/// The files the project's secrets come from: `.env`, each service's
/// env_file (kept only in the project read with its markers), each file
/// secret.
fn secret_files(input: &Input) -> Vec<PathBuf> {
    let project = input.project;
    let dot_env = project.working_dir.join(".env");
    let env_files = input
        .marked
        .unwrap_or(project)
        .services
        .values()
        .flat_map(|s| &s.env_files)
        .map(|f| project.working_dir.join(&f.path));
    let secrets = project
        .secrets
        .values()
        .filter(|s| !s.file.is_empty())
        .map(|s| project.working_dir.join(&s.file));
    std::iter::once(dot_env)
        .chain(env_files)
        .chain(secrets)
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect()
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            collect_files(root, &path, out)?;
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
        if out.len() > 200 {
            break;
        }
    }
    Ok(())
}

/// A compose `configs:` entry -> a ConfigMap with its content under `content`.
fn config_map_of_config(
    project: &Project,
    service: &str,
    source: &str,
) -> Result<Resource, String> {
    let Some(cfg) = project.configs.get(source) else {
        return Err(format!("config {source} is not defined"));
    };
    let content = if !cfg.content.is_empty() {
        cfg.content.clone()
    } else if !cfg.file.is_empty() {
        crate::trust::fs::read_text(Path::new(&cfg.file), crate::trust::fs::limit::COMPOSE)
            .map_err(|e| e.to_string())?
    } else if !cfg.environment.is_empty() {
        return Err("a config from an environment variable may hold a secret: not exported".into());
    } else {
        return Err("an external config is the cluster's to provide".into());
    };
    let cm_name = format!("{}-config-{}", dns_label(&project.name), dns_label(source));
    Ok(Resource::new(
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": cm_name, "labels": labels(project, service)},
            "data": {"content": content},
        }),
        service,
    ))
}

/// A compose secret -> the name of the Secret that holds it (under
/// `content`), its value kept for the local overlay to generate it from.
fn secret_file(ctx: &mut Context, source: &str) -> Result<String, String> {
    let project = ctx.input.project;
    let Some(def) = project.secrets.get(source) else {
        return Err(format!("secret {source} is not defined"));
    };
    let secret_name = format!("{}-secret-{}", dns_label(&project.name), dns_label(source));
    if def.external {
        return Err(format!(
            "external: the cluster's to provide, as Secret `{secret_name}` with the key `content`"
        ));
    }
    let content = if !def.file.is_empty() {
        let bytes =
            crate::trust::fs::read_bytes(Path::new(&def.file), crate::trust::fs::limit::COMPOSE)
                .map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|_| {
            format!("{} is not text: create Secret `{secret_name}` with `kubectl create secret generic {secret_name} --from-file=content={}`", def.file, def.file)
        })?
    } else if !def.environment.is_empty() {
        match ctx.input.env_values.get(&def.environment) {
            Some(v) => v.clone(),
            None => std::env::var(&def.environment)
                .map_err(|_| format!("${} is not set", def.environment))?,
        }
    } else if !def.content.is_empty() {
        def.content.clone()
    } else {
        return Err("neither a file nor an environment variable: nothing to put in it".into());
    };
    ctx.secret.files.insert(secret_name.clone(), content);
    Ok(secret_name)
}
