//! The catalog: every tool a user may pick, its templates, and the presets.
//!
//! The default catalog and templates are embedded in the binary; `--catalog DIR`
//! layers a team's own on top (same layout: `<theme>/<id>.yaml`,
//! `presets/<id>.yaml`, `templates/...`), overriding entries by id.

pub mod git;
mod model;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

pub use model::*;

static EMBEDDED_CATALOG: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/catalog");
static EMBEDDED_TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("invalid catalog entry {file}: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot read catalog directory {dir}: {source}")]
    Read { dir: String, source: std::io::Error },
}

fn invalid(file: &str, message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        file: file.to_string(),
        message: message.into(),
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
    presets: BTreeMap<String, Preset>,
    templates: BTreeMap<String, String>,
    /// Where each entry came from, for error messages.
    origins: BTreeMap<String, String>,
    /// Each layer (built-in, then each directory) with a digest of its
    /// files, so a project can tell when its catalog changed.
    sources: Vec<Source>,
    /// Entries a layer replaced, said to the person (never silent).
    overrides: Vec<String>,
}

/// One layer of the catalog and a digest of its content.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// `built-in`, a directory (absolute when loaded; relative to the
    /// project in its brickyard.yaml), or `git+URL[@REF]`.
    pub source: String,
    /// `sha256:` of every file's path and content, in path order.
    pub digest: String,
    /// For a git catalog, the commit used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// One layer over the built-in catalog.
#[derive(Debug, Clone)]
pub enum Layer {
    Dir(PathBuf),
    Git(git::Checkout),
}

impl Layer {
    /// A `--catalog` argument: `git+URL[@REF]` (fetched now, newest
    /// commit), else a directory.
    pub fn from_arg(arg: &str) -> anyhow::Result<Layer> {
        Ok(match git::GitSpec::parse(arg) {
            Some(spec) => Layer::Git(git::newest(&spec)?),
            None => Layer::Dir(arg.into()),
        })
    }
}

/// Digest of (path, content) pairs, in the order given.
fn digest<'a>(files: impl Iterator<Item = (String, &'a [u8])>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (path, content) in files {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update((content.len() as u64).to_le_bytes());
        h.update(content);
    }
    format!("sha256:{}", crate::trust::hex(&h.finalize()))
}

impl Catalog {
    /// The embedded catalog with each extra directory layered on top, in order.
    /// Its layers, built-in first, with their digests.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Entries a team layer replaced: `team/services/redis.yaml replaces
    /// catalog/services/redis.yaml (`redis`)`.
    pub fn overrides(&self) -> &[String] {
        &self.overrides
    }

    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let layers: Vec<Layer> = extra_dirs.iter().cloned().map(Layer::Dir).collect();
        Catalog::load_layers(&layers)
    }

    /// The embedded catalog with each layer on top, in order.
    pub fn load_layers(layers: &[Layer]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for file in embedded_files(&EMBEDDED_TEMPLATES) {
            let text = file.contents_utf8().expect("embedded templates are UTF-8");
            catalog
                .templates
                .insert(file.path().to_string_lossy().into_owned(), text.to_string());
        }
        for file in embedded_files(&EMBEDDED_CATALOG) {
            let rel = file.path().to_string_lossy().into_owned();
            let text = file.contents_utf8().expect("embedded catalog is UTF-8");
            catalog.add_file(&rel, &format!("catalog/{rel}"), text)?;
        }
        let mut embedded: Vec<(String, &[u8])> = embedded_files(&EMBEDDED_CATALOG)
            .into_iter()
            .map(|f| (format!("catalog/{}", f.path().display()), f.contents()))
            .chain(
                embedded_files(&EMBEDDED_TEMPLATES)
                    .into_iter()
                    .map(|f| (format!("templates/{}", f.path().display()), f.contents())),
            )
            .collect();
        embedded.sort();
        catalog.sources.push(Source {
            source: crate::project::state::BUILT_IN.into(),
            digest: digest(embedded.into_iter()),
            commit: None,
        });
        for layer in layers {
            match layer {
                Layer::Dir(dir) => catalog.add_dir(dir, None)?,
                Layer::Git(checkout) => catalog.add_dir(&checkout.dir, Some(checkout))?,
            }
        }
        catalog.expand_theme_requirements();
        catalog.validate()?;
        Ok(catalog)
    }

    /// `any_in_theme: app` becomes every app id the layers brought, in a
    /// requirement's `one_of` and as one conflict per id.
    fn expand_theme_requirements(&mut self) {
        let by_theme: BTreeMap<Theme, Vec<String>> =
            self.entries.values().fold(BTreeMap::new(), |mut m, e| {
                m.entry(e.theme).or_default().push(e.id.clone());
                m
            });
        for entry in self.entries.values_mut() {
            for req in &mut entry.requires {
                let Some(theme) = req.any_in_theme else {
                    continue;
                };
                for id in by_theme.get(&theme).into_iter().flatten() {
                    if !req.one_of.contains(id) {
                        req.one_of.push(id.clone());
                    }
                }
            }
            let conflicts = std::mem::take(&mut entry.conflicts);
            for c in conflicts {
                let Some(theme) = c.any_in_theme.filter(|_| c.id.is_empty()) else {
                    entry.conflicts.push(c);
                    continue;
                };
                for id in by_theme.get(&theme).into_iter().flatten() {
                    if !entry.conflicts.iter().any(|known| known.id == *id) {
                        entry.conflicts.push(Conflict {
                            id: id.clone(),
                            any_in_theme: None,
                            reason: c.reason.clone(),
                        });
                    }
                }
            }
        }
    }

    fn add_dir(&mut self, dir: &Path, git: Option<&git::Checkout>) -> Result<(), CatalogError> {
        let read_err = |source| CatalogError::Read {
            dir: dir.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(dir).map_err(read_err)?;
        if !meta.is_dir() {
            return Err(read_err(std::io::Error::other("not a directory")));
        }
        let mut files = Vec::new();
        walk(dir, dir, &mut files).map_err(read_err)?;
        files.sort();
        // Each file is looked at before it is read (no link, no device, no
        // FIFO, nothing over the limit), and read once: the digest and the
        // entries come from the same bytes.
        let mut contents = Vec::new();
        for rel in &files {
            let full = dir.join(rel);
            let shown = full.display().to_string();
            if std::fs::symlink_metadata(&full)
                .map_err(read_err)?
                .file_type()
                .is_symlink()
            {
                return Err(invalid(
                    &shown,
                    "is a symbolic link; catalog files must be regular files",
                ));
            }
            let bytes = crate::trust::fs::read_bytes(&full, crate::trust::fs::limit::CATALOG)
                .map_err(|e| match e {
                    crate::trust::fs::ReadError::TooLarge { size, limit, .. } => invalid(
                        &shown,
                        format!(
                            "is {size} bytes; a catalog file may be {} KiB at most",
                            limit / 1024
                        ),
                    ),
                    other => invalid(&shown, other.to_string()),
                })?;
            contents.push((rel.to_string_lossy().replace('\\', "/"), bytes));
        }
        self.sources.push(Source {
            source: match git {
                Some(g) => g.spec.to_string(),
                None => crate::project::state::lexical_absolute(dir)
                    .display()
                    .to_string(),
            },
            digest: digest(contents.iter().map(|(p, c)| (p.clone(), c.as_slice()))),
            commit: git.map(|g| g.commit.clone()),
        });
        for (rel, bytes) in contents {
            let shown = dir.join(&rel).display().to_string();
            let text =
                String::from_utf8(bytes).map_err(|_| invalid(&shown, "is not UTF-8 text"))?;
            if let Some(t) = rel.strip_prefix("templates/") {
                self.templates.insert(t.to_string(), text);
            } else if rel.ends_with(".yaml") || rel.ends_with(".yml") {
                self.add_file(&rel, &shown, &text)?;
            }
        }
        Ok(())
    }

    /// One YAML file: `presets/<id>.yaml` or `<theme>/<id>.yaml`.
    fn add_file(&mut self, rel: &str, shown: &str, text: &str) -> Result<(), CatalogError> {
        let (dir, stem) = match rel.rsplit_once('/') {
            Some((dir, name)) => (dir, name.trim_end_matches(".yaml").trim_end_matches(".yml")),
            None => return Err(invalid(shown, "must live in a theme folder (e.g. ci/)")),
        };
        if dir == "presets" {
            let preset: Preset =
                crate::trust::yaml::from_str(text).map_err(|e| invalid(shown, e))?;
            if preset.id != stem {
                return Err(invalid(
                    shown,
                    format!(
                        "field `id`: `{}` must match the file name `{stem}`",
                        preset.id
                    ),
                ));
            }
            self.presets.insert(preset.id.clone(), preset);
            return Ok(());
        }
        let entry: Entry = crate::trust::yaml::from_str(text).map_err(|e| invalid(shown, e))?;
        let Some(theme) = Theme::parse(dir) else {
            return Err(invalid(
                shown,
                format!(
                    "folder `{dir}` is not a theme (one of: {})",
                    Theme::ALL.map(Theme::id).join(", ")
                ),
            ));
        };
        if entry.theme != theme {
            return Err(invalid(
                shown,
                format!(
                    "field `theme`: `{}` does not match its folder `{dir}`",
                    entry.theme
                ),
            ));
        }
        if entry.id != stem {
            return Err(invalid(
                shown,
                format!(
                    "field `id`: `{}` must match the file name `{stem}`",
                    entry.id
                ),
            ));
        }
        check_entry(&entry).map_err(|m| invalid(shown, m))?;
        if let Some(before) = self.entries.get(&entry.id) {
            if before.theme != entry.theme {
                return Err(invalid(
                    shown,
                    format!(
                        "field `id`: `{}` is already the {} tool of {}; an entry may replace one of its own theme only, so give this {} tool another id",
                        entry.id, before.theme, self.origins[&entry.id], entry.theme
                    ),
                ));
            }
            self.overrides.push(format!(
                "{} replaces {} (`{}`)",
                shown, self.origins[&entry.id], entry.id
            ));
        }
        self.origins.insert(entry.id.clone(), shown.to_string());
        self.entries.insert(entry.id.clone(), entry);
        Ok(())
    }

    /// Checks that need the whole catalog: references between entries, templates.
    fn validate(&self) -> Result<(), CatalogError> {
        for (id, entry) in &self.entries {
            let file = &self.origins[id];
            let refs = entry
                .requires
                .iter()
                .flat_map(|r| r.one_of.iter().map(|i| ("requires", i)))
                .chain(entry.conflicts.iter().map(|c| ("conflicts", &c.id)))
                .chain(entry.implies.iter().map(|i| ("implies", i)))
                .chain(
                    entry
                        .files
                        .iter()
                        .flat_map(|f| f.when.iter().map(|i| ("files.when", i))),
                );
            if let Some(req) = entry.requires.iter().find(|r| r.one_of.is_empty()) {
                return Err(invalid(
                    file,
                    match req.any_in_theme {
                        Some(t) => {
                            format!("field `requires.any_in_theme`: the catalog has no {t} tool")
                        }
                        None => "field `requires`: give `one_of` (ids) or `any_in_theme`".into(),
                    },
                ));
            }
            // Expanded by now: what is left with a theme, or with no id, was
            // written with both or neither.
            if entry
                .conflicts
                .iter()
                .any(|c| c.id.is_empty() || c.any_in_theme.is_some())
            {
                return Err(invalid(
                    file,
                    "field `conflicts`: give `id` or `any_in_theme`, not both or neither",
                ));
            }
            for (field, other) in refs {
                if !self.entries.contains_key(other) {
                    return Err(invalid(
                        file,
                        format!("field `{field}`: no catalog entry has the id `{other}`"),
                    ));
                }
            }
            match (entry.theme == Theme::App, &entry.toolchain) {
                (true, None) => {
                    return Err(invalid(
                        file,
                        "field `toolchain`: an app entry says how its app is tested and run \
                         (image, test, run; install when it fetches dependencies)",
                    ));
                }
                (false, Some(_)) => {
                    return Err(invalid(
                        file,
                        "field `toolchain`: only an app entry has one",
                    ));
                }
                (_, Some(t)) => {
                    // Each command goes into a Jenkinsfile's sh '...' and YAML lines.
                    let commands = [("run", &t.run), ("test", &t.test)]
                        .into_iter()
                        .chain(t.install.as_ref().map(|i| ("install", i)));
                    for (field, command) in commands {
                        if command.trim().is_empty() || command.contains(['\'', '\\', '\n', '\r']) {
                            return Err(invalid(
                                file,
                                format!(
                                    "field `toolchain.{field}`: one line with no quote (') or backslash, \
                                     as CI files quote it; put a longer command in a script under app/"
                                ),
                            ));
                        }
                    }
                }
                (false, None) => {}
            }
            if let Some(sink) = &entry.wires.ship_logs {
                let published = entry
                    .services
                    .get(&sink.service)
                    .is_some_and(|svc| svc.ports.iter().any(|p| p.container == sink.port));
                if !published {
                    return Err(invalid(
                        file,
                        format!(
                            "field `wires.ship_logs`: `{}` is not a service of this entry publishing port {}; \
                             Docker's logging driver sends from the machine, so the port must be published",
                            sink.service, sink.port
                        ),
                    ));
                }
            }
            if let Some(name) = entry
                .wires
                .notify_env
                .iter()
                .find(|name| !entry.services.contains_key(*name))
            {
                return Err(invalid(
                    file,
                    format!("field `wires.notify_env`: `{name}` is not a service of this entry"),
                ));
            }
            for spec in &entry.files {
                if !self.templates.contains_key(&spec.template) {
                    return Err(invalid(
                        file,
                        format!(
                            "field `files.template`: no template `{}` (embedded or under a --catalog dir's templates/)",
                            spec.template
                        ),
                    ));
                }
            }
        }
        for preset in self.presets.values() {
            for id in preset.picks.all_ids() {
                if id != "none" && !self.entries.contains_key(id) {
                    return Err(invalid(
                        &format!("presets/{}.yaml", preset.id),
                        format!("field `picks`: no catalog entry has the id `{id}`"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn in_theme(&self, theme: Theme) -> impl Iterator<Item = &Entry> {
        self.entries.values().filter(move |e| e.theme == theme)
    }

    pub fn preset(&self, id: &str) -> Option<&Preset> {
        self.presets.get(id)
    }

    pub fn presets(&self) -> impl Iterator<Item = &Preset> {
        self.presets.values()
    }

    pub fn templates(&self) -> &BTreeMap<String, String> {
        &self.templates
    }

    /// The closest known id of a theme, for "did you mean" hints.
    pub fn closest(&self, theme: Option<Theme>, wrong: &str) -> Option<&str> {
        self.entries
            .values()
            .filter(|e| theme.is_none_or(|t| e.theme == t))
            .map(|e| (strsim::jaro_winkler(wrong, &e.id), e.id.as_str()))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id)
    }
}

/// Every file below an embedded directory, in path order.
fn embedded_files(dir: &'static Dir<'static>) -> Vec<&'static include_dir::File<'static>> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        out.extend(d.files());
        stack.extend(d.dirs());
    }
    out.sort_by_key(|f| f.path());
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() || kind.is_symlink() {
            // (Symbolic links are refused, by name, when the files are read.)
            out.push(path.strip_prefix(root).expect("below root").to_path_buf());
        } else {
            // A FIFO would block the read forever; a device or socket is no file.
            return Err(std::io::Error::other(format!(
                "{} is not a regular file (a pipe, socket or device); a catalog holds only files and folders",
                path.display()
            )));
        }
    }
    Ok(())
}

/// An environment variable name: what .env, compose and CI settings carry.
fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks one entry can stand alone: ids, paths that stay inside the project.
fn check_entry(entry: &Entry) -> Result<(), String> {
    if !is_id(&entry.id) {
        return Err(format!(
            "field `id`: `{}` must be lowercase letters, digits and dashes",
            entry.id
        ));
    }
    for spec in &entry.files {
        check_output(&spec.path).map_err(|m| format!("field `files.path`: `{}` {m}", spec.path))?;
    }
    for name in &entry.secrets {
        if !is_var_name(name) {
            return Err(format!(
                "field `secrets`: `{name}` is not a variable name (letters, digits and `_`, not starting with a digit), so .env and compose could not carry it"
            ));
        }
    }
    for key in &entry.hosted_keys {
        if !is_var_name(&key.name) || key.from.contains('\n') {
            return Err(format!(
                "field `hosted_keys`: `{}` is not a variable name (letters, digits and `_`, not starting with a digit) with a one-line `from`, so .env could not carry it",
                key.name
            ));
        }
    }
    if let Some(notify) = &entry.wires.ci_notify
        && !is_var_name(&notify.secret)
    {
        return Err(format!(
            "field `wires.ci_notify.secret`: `{}` is not a variable name (letters, digits and `_`, not starting with a digit), so no CI could hand it to a script",
            notify.secret
        ));
    }
    for (name, svc) in &entry.services {
        if !is_id(name) {
            return Err(format!(
                "field `services.{name}`: a service name must be lowercase letters, digits and dashes"
            ));
        }
        if svc.image.is_none() && svc.build.is_none() {
            return Err(format!(
                "field `services.{name}`: needs an `image` (pinned, e.g. postgres:16.4) or a `build`"
            ));
        }
        if let Some(image) = &svc.image {
            let tag = image.rsplit('/').next().unwrap_or(image);
            if !tag.contains(':') || tag.ends_with(":latest") {
                return Err(format!(
                    "field `services.{name}.image`: `{image}` must be pinned to a version tag, not latest"
                ));
            }
        }
        if let Some(build) = &svc.build {
            check_relative(build)
                .map_err(|m| format!("field `services.{name}.build`: `{build}` {m}"))?;
        }
        for vol in &svc.volumes {
            let src = vol.split(':').next().unwrap_or_default();
            if src.starts_with('~') || src.contains('$') {
                return Err(format!(
                    "field `services.{name}.volumes`: `{vol}` mounts a path of the person's machine outside the project; use a named volume or a path inside the project (./...), or declare it under `host_mounts` with the reason"
                ));
            }
            if src.starts_with('.') || src.starts_with('/') {
                check_relative(src)
                    .map_err(|m| format!("field `services.{name}.volumes`: `{vol}` {m}"))?;
            }
        }
        for mount in &svc.host_mounts {
            let plain = |p: &str| {
                p.starts_with('/')
                    && !p.contains(['$', '~', ':'])
                    && !p.split('/').any(|c| c == "..")
            };
            if !plain(&mount.source) || !plain(&mount.target) {
                return Err(format!(
                    "field `services.{name}.host_mounts`: `{}` needs an absolute source and target with no `~`, `$`, `:` or `..`",
                    mount.volume()
                ));
            }
            if mount.reason.trim().is_empty() {
                return Err(format!(
                    "field `services.{name}.host_mounts`: `{}` needs a `reason`; it is what the person is told",
                    mount.volume()
                ));
            }
            if let Some(var) = mount.group_var.as_deref().filter(|v| !is_var_name(v)) {
                return Err(format!(
                    "field `services.{name}.host_mounts`: group_var `{var}` is not a variable name (letters, digits and `_`, not starting with a digit), so .env could not carry it"
                ));
            }
        }
        for port in &svc.ports {
            if port.host == 0 || port.container == 0 {
                return Err(format!(
                    "field `services.{name}.ports`: port 0 is not a port"
                ));
            }
        }
    }
    Ok(())
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub use crate::trust::path::check_relative;

/// A file an entry writes: inside the project, and none of the files
/// brickyard alone writes (`.env`, `brickyard.yaml`) or keeps its state in
/// (`.brickyard/`), nor git's (a hook in `.git/` would run on the next
/// commit).
fn check_output(path: &str) -> Result<(), &'static str> {
    check_relative(path)?;
    if let Some(why) = crate::trust::path::reserved(path) {
        return Err(why);
    }
    match path.trim_start_matches("./") {
        ".env" | "brickyard.yaml" => Err("is a file brickyard alone writes"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_loads_and_validates() {
        let catalog = Catalog::load(&[]).expect("embedded catalog is valid");
        for theme in Theme::ALL {
            assert!(
                catalog.in_theme(theme).count() > 0,
                "theme {theme} has no entry"
            );
        }
        for id in ["minimal", "demo", "full"] {
            assert!(catalog.preset(id).is_some(), "preset {id} missing");
        }
    }

    #[test]
    fn relative_paths_must_stay_inside() {
        assert!(check_relative("app/main.py").is_ok());
        assert!(check_relative("./Dockerfile").is_ok());
        assert!(check_relative("../evil").is_err());
        assert!(check_relative("a/../../evil").is_err());
        assert!(check_relative("/etc/passwd").is_err());
        assert!(check_relative("").is_err());
    }

    #[test]
    fn closest_id_suggests_a_near_miss() {
        let catalog = Catalog::load(&[]).unwrap();
        assert_eq!(
            catalog.closest(Some(Theme::Ci), "gitlab"),
            Some("gitlab-ci")
        );
        assert_eq!(
            catalog.closest(Some(Theme::Services), "postgress"),
            Some("postgres")
        );
    }
}
