//! Compose files -> the project the engine boots, read exactly as
//! `docker compose` reads them. The loader is a port of compose-go (the
//! library Compose itself uses), step for step, so that what `brickyard
//! config` prints, what `brickyard up` starts and what `docker compose`
//! would do are the same thing.
//!
//! ```text
//! options.rs-ish (this file): which files, which .env, which project name
//! loader.rs: yaml -> interpolate -> extends -> include -> merge -> canonical
//!            -> defaults -> paths -> normalize -> model (decode.rs)
//! ```

pub mod canonical;
pub mod consistency;
pub mod decode;
pub mod dotenv;
pub mod envfiles;
pub mod extends;
pub mod gofmt;
pub mod goyaml;
pub mod graph;
pub mod include;
pub mod interpolate;
pub mod loader;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod paths;
pub mod schema;
pub mod template;
pub mod tree;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use model::{Project, Service};

/// The file names Compose looks for, in its order of preference.
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
pub const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(
        "no compose file in {dir} or above it ({}); run `brickyard new` first, or pass -C DIR / -f FILE",
        DEFAULT_FILES.join(", ")
    )]
    Missing { dir: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

/// What a command line says about the project (Compose's global flags).
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    /// Where the command runs (`-C`); the current directory when unset.
    pub cwd: Option<PathBuf>,
    /// `--project-directory`: the working directory of the project.
    pub project_dir: Option<PathBuf>,
    /// `-f`; else `COMPOSE_FILE`; else the default names, searched upwards.
    pub files: Vec<PathBuf>,
    /// `-p`; else `COMPOSE_PROJECT_NAME`; else `name:`; else the directory.
    pub project_name: Option<String>,
    /// `--profile`; else `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// `--env-file`; else `.env` in the working directory.
    pub env_files: Vec<PathBuf>,
    /// The process environment (tests pass their own).
    pub os_env: Option<BTreeMap<String, String>>,
    /// Keep `label_file` in the model after reading it: `docker compose up`
    /// does (so its config hash covers it); `config` drops it.
    pub keep_label_files: bool,
    /// Leave `env_file` unread and in the model (what `docker compose
    /// config --hash` hashes); otherwise it is read and dropped.
    pub skip_env_files: bool,
}

/// A loaded project and what Compose would have warned about.
#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
}

fn invalid(e: impl std::fmt::Display) -> ComposeError {
    ComposeError::Invalid(e.to_string())
}

/// Compose's project-name rule: lowercase, then only `[a-z0-9_-]` kept,
/// then no leading `_` or `-`.
pub fn normalize_project_name(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

fn invalid_name(name: &str) -> ComposeError {
    ComposeError::Invalid(format!(
        "invalid project name {name:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    ))
}

fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    PathBuf::from(canonical::clean_path(&joined.to_string_lossy()))
}

/// The first default compose file (and its override) in `dir` or above.
fn find_default_files(start: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    let mut dir = start.to_path_buf();
    loop {
        let found: Vec<PathBuf> = DEFAULT_FILES
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.exists())
            .collect();
        if let Some(winner) = found.first() {
            if found.len() > 1 {
                warnings.push(format!(
                    "Found multiple config files with supported names: {}; using {}",
                    found
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    winner.display()
                ));
            }
            let mut files = vec![winner.clone()];
            if let Some(o) = OVERRIDE_FILES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.exists())
            {
                files.push(o);
            }
            return files;
        }
        if !dir.pop() {
            return Vec::new();
        }
    }
}

/// The `.env` files Compose reads for a working directory (unless disabled).
fn default_env_files(wd: &Path, env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    let disabled = env
        .get("COMPOSE_DISABLE_ENV_FILE")
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
    let f = wd.join(".env");
    if !disabled && f.is_file() {
        vec![f]
    } else {
        Vec::new()
    }
}

fn merge_dotenv(env: &mut BTreeMap<String, String>, files: &[PathBuf]) -> Result<(), ComposeError> {
    let vars = dotenv::read_files(env, files).map_err(invalid)?;
    for (k, v) in vars {
        env.entry(k).or_insert(v);
    }
    Ok(())
}

/// Finds the files, reads the environment, names the project, and loads it.
pub fn load(opts: &ProjectOptions) -> Result<Loaded, ComposeError> {
    let mut warnings = Vec::new();
    let cwd = match &opts.cwd {
        Some(d) => std::path::absolute(d).map_err(invalid)?,
        None => std::env::current_dir().map_err(invalid)?,
    };
    let mut env: BTreeMap<String, String> = opts
        .os_env
        .clone()
        .unwrap_or_else(|| std::env::vars().collect());
    env.entry("PWD".into())
        .or_insert_with(|| cwd.to_string_lossy().into_owned());
    let explicit_wd = opts.project_dir.as_ref().map(|d| absolute(&cwd, d));
    let mut files: Vec<PathBuf> = opts.files.iter().map(|f| absolute(&cwd, f)).collect();
    let working_dir = |files: &[PathBuf]| {
        explicit_wd
            .clone()
            .or_else(|| {
                files
                    .first()
                    .and_then(|f| f.parent().map(Path::to_path_buf))
            })
            .unwrap_or_else(|| cwd.clone())
    };

    let env_files: Vec<PathBuf> = if opts.env_files.is_empty() {
        default_env_files(&working_dir(&files), &env)
    } else {
        opts.env_files.iter().map(|f| absolute(&cwd, f)).collect()
    };
    merge_dotenv(&mut env, &env_files)?;
    if files.is_empty()
        && let Some(list) = env.get("COMPOSE_FILE")
    {
        let sep = env
            .get("COMPOSE_PATH_SEPARATOR")
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| ":".into());
        for f in list.split(sep.as_str()) {
            let p = absolute(&cwd, Path::new(f));
            if !p.exists() {
                return Err(invalid(format!(
                    "COMPOSE_FILE names {}, which does not exist",
                    p.display()
                )));
            }
            files.push(p);
        }
    }
    if files.is_empty() {
        files = find_default_files(&working_dir(&files), &mut warnings);
        if files.is_empty() {
            return Err(ComposeError::Missing {
                dir: working_dir(&files),
            });
        }
    }
    let wd = working_dir(&files);
    if opts.env_files.is_empty() {
        let defaults = default_env_files(&wd, &env);
        merge_dotenv(&mut env, &defaults)?;
    }
    let profiles: Vec<String> = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_else(|| vec![String::new()])
    } else {
        opts.profiles.clone()
    };

    let contents: Vec<loader::ConfigFile> = files
        .iter()
        .map(|p| {
            if !p.exists() {
                return Err(invalid(format!(
                    "the compose file {} does not exist",
                    p.display()
                )));
            }
            Ok(loader::ConfigFile {
                path: p.clone(),
                content: Some(loader::read_file(p).map_err(invalid)?),
            })
        })
        .collect::<Result<_, _>>()?;

    let name = project_name(opts, &env, &wd, &contents)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
    let load_opts = loader::Options {
        resolve_paths: true,
        discard_env_files: true,
        discard_label_files: !opts.keep_label_files,
        skip_resolve_environment: opts.skip_env_files,
        project_name: name,
        profiles,
        resource_dir: wd.clone(),
        environment: env,
        ..Default::default()
    };
    let mut notes = loader::Notes::default();
    let dict = loader::load_model(&contents, &wd, &load_opts, &mut notes).map_err(invalid)?;
    let mut project = loader::model_to_project(dict, &load_opts, &wd).map_err(invalid)?;
    project.compose_files = files;
    project.drop_unused_resources();
    for name in &notes.unset {
        warnings.push(format!(
            "The \"{name}\" variable is not set. Defaulting to a blank string."
        ));
    }
    warnings.extend(notes.warnings);
    Ok(Loaded { project, warnings })
}

/// `-p`, then `COMPOSE_PROJECT_NAME`, then the last `name:` of the files
/// (interpolated), then the working directory's name; normalized.
fn project_name(
    opts: &ProjectOptions,
    env: &BTreeMap<String, String>,
    wd: &Path,
    files: &[loader::ConfigFile],
) -> Result<String, ComposeError> {
    if let Some(n) = &opts.project_name {
        if normalize_project_name(n) != *n || n.is_empty() {
            return Err(invalid_name(n));
        }
        return Ok(n.clone());
    }
    if let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()) {
        if normalize_project_name(n) != *n {
            return Err(invalid_name(n));
        }
        return Ok(n.clone());
    }
    let mut from_files = String::new();
    for f in files {
        // The loader reports a parse error itself: here, read what parsed.
        let (docs, _) = yaml::raw_documents(f.content.as_deref().unwrap_or_default());
        for value in docs {
            if let serde_yaml::Value::Mapping(m) = value
                && let Some(serde_yaml::Value::String(n)) = m.get("name")
                && !n.is_empty()
            {
                from_files = n.clone();
            }
        }
    }
    if !from_files.is_empty() {
        let name = template::substitute_with(&from_files, &|k| env.get(k).cloned())
            .map_err(|e| invalid(format!("error while interpolating name: {e}")))?;
        let name = normalize_project_name(&name);
        if !name.is_empty() {
            return Ok(name);
        }
    }
    let dir = wd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = normalize_project_name(&dir);
    if name.is_empty() {
        return Err(invalid(format!(
            "project name must not be empty: the directory name {dir:?} has no usable characters; set `name:` in the file or pass -p NAME"
        )));
    }
    Ok(name)
}

/// The normalized document -> the typed model, naming the path and the key
/// of anything that does not fit (with a suggestion for a likely typo).
pub fn decode_model(v: serde_yaml::Value) -> Result<Project, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let message = match unknown_field(&inner) {
            Some((field, expected)) => {
                let hint = expected
                    .iter()
                    .map(|c| (strsim::jaro_winkler(&field, c), c))
                    .filter(|(score, _)| *score > 0.85)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, c)| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                format!("`{field}` is not a Compose key here{hint}")
            }
            None => inner,
        };
        let path = path
            .trim_end_matches(&format!(
                ".{}",
                unknown_field(e.inner().to_string().as_str())
                    .map(|f| f.0)
                    .unwrap_or_default()
            ))
            .to_string();
        if path == "." || path.is_empty() {
            message
        } else {
            format!("{path}: {message}")
        }
    })
}

/// serde's "unknown field `x`, expected one of `a`, `b`" -> (x, [a, b]).
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    Some((field.to_string(), expected))
}

/// The project name Compose would use when its files cannot be loaded:
/// `-p`, `COMPOSE_PROJECT_NAME` (environment or `.env`), a `name:` line in
/// the file as written, or the directory's name. For `down` of a broken or
/// vanished project.
pub fn fallback_project_name(opts: &ProjectOptions) -> Option<String> {
    if let Some(n) = &opts.project_name {
        return Some(n.clone());
    }
    let cwd = opts.cwd.clone().or_else(|| std::env::current_dir().ok())?;
    if let Ok(n) = std::env::var("COMPOSE_PROJECT_NAME")
        && !n.is_empty()
    {
        return Some(n);
    }
    let wd = opts.project_dir.clone().unwrap_or_else(|| cwd.clone());
    // `.` has no name of its own: the directory's is the absolute path's.
    let wd = std::path::absolute(&wd).unwrap_or(wd);
    if let Ok(text) = crate::trust::fs::read_text(&wd.join(".env"), crate::trust::fs::limit::ENV)
        && let Ok(env) = dotenv::parse(&text)
        && let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty())
    {
        return Some(n.clone());
    }
    let file = opts.files.first().cloned().or_else(|| {
        DEFAULT_FILES
            .iter()
            .map(|n| wd.join(n))
            .find(|p| p.exists())
    });
    if let Some(text) = file.and_then(|f| loader::read_file(&f).ok()) {
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("name:") {
                let n = normalize_project_name(n.trim().trim_matches(['"', '\'']));
                if !n.is_empty() && !n.contains('$') {
                    return Some(n);
                }
            }
        }
    }
    let dir = wd.file_name()?.to_string_lossy().into_owned();
    Some(normalize_project_name(&dir)).filter(|n| !n.is_empty())
}

impl Project {
    /// Networks, volumes, secrets and configs no enabled service uses are
    /// left out, as Compose leaves them out (and does not create them).
    pub fn drop_unused_resources(&mut self) {
        use std::collections::BTreeSet;
        let mut networks = BTreeSet::new();
        let mut volumes = BTreeSet::new();
        let mut secrets = BTreeSet::new();
        let mut configs = BTreeSet::new();
        let mut models = BTreeSet::new();
        for s in self.services.values() {
            networks.extend(s.networks.keys().cloned());
            volumes.extend(
                s.volumes
                    .iter()
                    .filter(|v| v.kind == "volume" && !v.source.is_empty())
                    .map(|v| v.source.clone()),
            );
            secrets.extend(s.secrets.iter().map(|r| r.source.clone()));
            if let Some(b) = &s.build {
                secrets.extend(b.secrets.iter().map(|r| r.source.clone()));
            }
            configs.extend(s.configs.iter().map(|r| r.source.clone()));
            models.extend(s.models.keys().cloned());
        }
        self.networks.retain(|k, _| networks.contains(k));
        self.volumes.retain(|k, _| volumes.contains(k));
        self.secrets.retain(|k, _| secrets.contains(k));
        self.configs.retain(|k, _| configs.contains(k));
        self.models.retain(|k, _| models.contains(k));
    }

    /// The canonical form as YAML: Compose's order of sections, then `x-*`.
    pub fn to_yaml(&self) -> String {
        use goyaml::Node;
        let printed = Project {
            secrets: model::printable(&self.secrets, |_| true),
            configs: model::printable(&self.configs, |c| !c.environment.is_empty()),
            ..self.clone()
        };
        let mut root = goyaml::to_node(&printed);
        // Extensions go after a struct's fields, sorted, as go-yaml writes
        // an inlined map.
        let mut by_path: BTreeMap<&[String], Vec<(&String, &serde_yaml::Value)>> = BTreeMap::new();
        for (path, key, value) in &self.nested_extensions {
            by_path.entry(path).or_default().push((key, value));
        }
        let top: Vec<_> = self.extensions.iter().collect();
        for (path, mut found) in by_path
            .into_iter()
            .map(|(p, f)| (p.to_vec(), f))
            .chain([(Vec::new(), top)])
        {
            let target = path
                .iter()
                .try_fold(&mut root, |node, part| node.child_mut(part));
            // Only a struct has a place for them: in a map (labels...) an
            // `x-` key is an entry like any other.
            if let Some(Node::Struct(fields)) = target {
                found.sort_by(|a, b| goyaml::key_order(a.0, b.0));
                fields.extend(
                    found
                        .into_iter()
                        .map(|(k, v)| (k.clone(), goyaml::to_node(v))),
                );
            }
        }
        omit_zero_structs(&mut root);
        goyaml::emit(&root)
    }

    /// `docker compose config --format json`, byte for byte.
    pub fn to_json_pretty(&self) -> String {
        gofmt::go_json(
            serde_json::to_string_pretty(&self.to_compose_json()).expect("the model serializes"),
        )
    }

    /// Compose's config hash of a service: the digest of its JSON with what
    /// does not change a container (build, scale, depends_on...) left out.
    pub fn service_hash(service: &Service) -> String {
        let mut s = service.clone();
        s.build = None;
        s.pull_policy = String::new();
        s.scale = None;
        if let Some(d) = s.deploy.as_mut() {
            d.replicas = None;
        }
        s.depends_on.clear();
        s.profiles.clear();
        let json = gofmt::go_json(serde_json::to_string(&s).expect("the model serializes"));
        crate::trust::sha256_hex(json.as_bytes())
    }
}

/// go-yaml's `omitempty` leaves out a struct whose fields (extensions
/// included) are all zero, which Go's JSON never does. These are the model's
/// struct-valued fields that are not pointers.
fn omit_zero_structs(node: &mut goyaml::Node) {
    use goyaml::Node;
    const VALUE_STRUCTS: &[&str] = &["resources", "placement", "ipam", "exec"];
    match node {
        Node::Struct(fields) => {
            fields.retain(|(k, v)| {
                !(VALUE_STRUCTS.contains(&k.as_str())
                    && matches!(v, Node::Struct(_))
                    && v.is_zero())
            });
            fields.iter_mut().for_each(|(_, v)| omit_zero_structs(v));
        }
        Node::Map(pairs) => pairs.iter_mut().for_each(|(_, v)| omit_zero_structs(v)),
        Node::Seq(items) => items.iter_mut().for_each(omit_zero_structs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path, files: &[(&str, &str)]) -> Result<Loaded, ComposeError> {
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        load(&ProjectOptions {
            cwd: Some(dir.to_path_buf()),
            os_env: Some([("HOME".to_string(), "/home/me".to_string())].into()),
            ..Default::default()
        })
    }

    #[test]
    fn names_follow_compose() {
        assert_eq!(normalize_project_name("My App_1"), "myapp_1");
        assert_eq!(normalize_project_name("--x"), "x");
        assert_eq!(normalize_project_name("Ünïcode"), "ncode");
    }

    #[test]
    fn a_project_is_found_named_and_normalized() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("Shop App");
        let l = project(
            &dir,
            &[
                (
                    "compose.yaml",
                    "services:\n  web:\n    image: nginx:1\n    ports: ['8080:80']\n",
                ),
                (
                    "compose.override.yaml",
                    "services:\n  web:\n    environment: [A=1]\n",
                ),
            ],
        )
        .unwrap();
        let p = l.project;
        assert_eq!(p.name, "shopapp");
        assert_eq!(p.compose_files.len(), 2);
        assert_eq!(p.services["web"].environment["A"].as_deref(), Some("1"));
        assert_eq!(p.services["web"].ports[0].published, "8080");
        assert_eq!(p.networks["default"].name, "shopapp_default");
    }

    #[test]
    fn env_and_name_come_from_dotenv() {
        let tmp = tempfile::tempdir().unwrap();
        let l = project(
            tmp.path(),
            &[
                (".env", "COMPOSE_PROJECT_NAME=fromenv\nTAG=2\n"),
                (
                    "compose.yaml",
                    "services:\n  web:\n    image: nginx:${TAG}\n",
                ),
            ],
        )
        .unwrap();
        assert_eq!(l.project.name, "fromenv");
        assert_eq!(l.project.services["web"].image, "nginx:2");
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let tmp = tempfile::tempdir().unwrap();
        let err = project(
            tmp.path(),
            &[(
                "compose.yaml",
                "services:\n  web:\n    image: x\n    helthcheck: {test: [NONE]}\n",
            )],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("services.web"), "{err}");
        assert!(err.contains("`helthcheck` is not a Compose key"), "{err}");
        assert!(err.contains("did you mean `healthcheck`"), "{err}");
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_hang() {
        // A flow sequence with `${B}` in it is not YAML (`{` opens a mapping);
        // this once looped forever while looking for `name:`.
        let tmp = tempfile::tempdir().unwrap();
        let err = project(
            tmp.path(),
            &[(
                "compose.yaml",
                "services:\n  s:\n    image: x\n    environment: [B=${B}]\n",
            )],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("failed to parse"), "{err}");
    }

    #[test]
    fn no_file_says_where_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        let err = project(tmp.path(), &[]).unwrap_err().to_string();
        assert!(err.contains("no compose file in"), "{err}");
    }
}
