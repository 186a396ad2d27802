//! What a project keeps so that brickyard can update it later.
//!
//! - `brickyard.yaml`: the picks (an answers file: `new --answers` reads it)
//!   and, under `generated:`, the brickyard version, each catalog layer with
//!   a digest of its content, and every file brickyard wrote.
//! - `.brickyard/base/`: those files as brickyard wrote them, the base of
//!   every three-way merge (the built-in catalog of an older brickyard
//!   cannot be rendered again, so the base is kept rather than re-made).
//!   `.env` is not copied there: secrets live in one file only.
//! - `.brickyard/undo/`: the files as they were before the last `update`,
//!   `add` or `remove` (git-ignored), for `brickyard update --undo`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::catalog::git::{self, GitSpec};
use crate::catalog::{Layer, Source};
use crate::generate::{ANSWERS_FILE, BASE_DIR, ENV_FILE, GeneratedFile};
use crate::plan::Answers;

/// What brickyard needs to update the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    pub brickyard: String,
    pub catalog: Vec<Source>,
    pub files: Vec<String>,
}

/// `brickyard.yaml`, read.
#[derive(Debug, Clone, Default)]
pub struct ProjectFile {
    pub answers: Answers,
    /// Absent in projects made before brickyard recorded it.
    pub generated: Option<Generated>,
}

/// Reads an answers file or a project's `brickyard.yaml`. `generated:` is
/// its last top-level key (as `render` writes it): the picks before it are
/// read as they are, so errors keep their line and column.
pub fn parse(text: &str) -> Result<ProjectFile, String> {
    let split = text
        .match_indices("generated:")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .unwrap_or(text.len());
    let (picks, rest) = text.split_at(split);
    let answers: Answers = if picks
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        Answers::default()
    } else {
        crate::trust::yaml::from_str(picks)?
    };
    let generated = if rest.is_empty() {
        None
    } else {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Tail {
            generated: Generated,
        }
        let tail: Tail = crate::trust::yaml::from_str(rest).map_err(|e| {
            format!("`generated` (brickyard writes it; the picks go above it): {e}")
        })?;
        check_generated(&tail.generated).map_err(|e| {
            format!(
                "{e}\n  brickyard writes `generated:`; put it back as brickyard wrote it (`git diff brickyard.yaml` shows what changed)"
            )
        })?;
        Some(tail.generated)
    };
    Ok(ProjectFile { answers, generated })
}

/// Every field of `generated:` before anything acts on it: a recorded
/// catalog is built-in, a relative directory, or a git URL with a commit id;
/// a recorded file is a normalized path inside the project.
fn check_generated(g: &Generated) -> Result<(), String> {
    if g.brickyard.is_empty()
        || g.brickyard.len() > 64
        || !g
            .brickyard
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+-".contains(&b))
    {
        return Err(format!(
            "generated.brickyard: `{}` is not a version",
            g.brickyard
        ));
    }
    for (i, s) in g.catalog.iter().enumerate() {
        let field = |f: &str| format!("generated.catalog[{i}].{f}");
        let hex = s.digest.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{}: `{}` is not a digest (sha256: and 64 hex digits)",
                field("digest"),
                s.digest
            ));
        }
        if s.source == BUILT_IN {
            if s.commit.is_some() {
                return Err(format!(
                    "{}: the built-in catalog has no commit",
                    field("commit")
                ));
            }
        } else if let Some(spec) = GitSpec::parse(&s.source) {
            spec.check()
                .map_err(|e| format!("{}: {e}", field("source")))?;
            if let Some(c) = &s.commit {
                git::check_commit(c).map_err(|e| format!("{}: {e}", field("commit")))?;
            }
        } else {
            if s.commit.is_some() {
                return Err(format!(
                    "{}: only a git catalog has a commit, and `{}` is a directory",
                    field("commit"),
                    s.source
                ));
            }
            let dir = &s.source;
            if dir.is_empty()
                || dir.starts_with('/')
                || dir.contains(['\\', '\0'])
                || dir.chars().any(char::is_control)
            {
                return Err(format!(
                    "{}: `{dir}` is not a directory relative to the project",
                    field("source")
                ));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, f) in g.files.iter().enumerate() {
        crate::trust::path::check_recorded(f)
            .map_err(|why| format!("generated.files[{i}]: `{f}` {why}"))?;
        if !seen.insert(f) {
            return Err(format!("generated.files[{i}]: `{f}` is listed twice"));
        }
    }
    Ok(())
}

/// Reads a project's `brickyard.yaml` (or an answers file), bounded.
pub fn read(path: &Path) -> Result<ProjectFile> {
    let text = crate::trust::fs::read_text(path, crate::trust::fs::limit::PROJECT)?;
    parse(&text).map_err(|e| anyhow::anyhow!("{} is malformed: {e}", path.display()))
}

pub fn render(answers: &Answers, generated: &Generated) -> String {
    let picks = serde_yaml::to_string(answers).expect("answers serialize");
    let generated = serde_yaml::to_string(&serde_yaml::Mapping::from_iter([(
        "generated".into(),
        serde_yaml::to_value(generated).expect("generated serializes"),
    )]))
    .expect("generated serializes");
    format!(
        "# The picks this project was made from.\n\
         # `brickyard new <dir> --answers brickyard.yaml` makes the same project again;\n\
         # `brickyard add`, `remove` and `update` change it and its files together.\n\
         {picks}\
         # What brickyard wrote, from which catalog: `brickyard update` reads it.\n\
         {generated}"
    )
}

/// The files as written, plus their copies in the base directory.
pub fn with_base(files: Vec<GeneratedFile>) -> Vec<GeneratedFile> {
    let base = base_copies(&files);
    files.into_iter().chain(base).collect()
}

/// The base directory's copies of `files` (those that have one).
pub fn base_copies(files: &[GeneratedFile]) -> Vec<GeneratedFile> {
    files
        .iter()
        .filter(|f| in_base(&f.path))
        .map(|f| GeneratedFile {
            path: base_path(&f.path),
            contents: f.contents.clone(),
            private: false,
        })
        .collect()
}

/// Where a file's base copy lives.
pub fn base_path(path: &str) -> String {
    format!("{BASE_DIR}/{path}")
}

/// Whether a generated file has a copy in the base (not the secrets, not
/// the project file, which brickyard alone writes).
pub fn in_base(path: &str) -> bool {
    path != ENV_FILE && path != ANSWERS_FILE
}

/// The base copies of `files`, by path (missing ones are left out).
pub fn read_base(dir: &Path, files: &[String]) -> BTreeMap<String, String> {
    files
        .iter()
        .filter(|p| in_base(p))
        .filter(|p| crate::trust::path::first_link(dir, &base_path(p)).is_none())
        .filter_map(|p| {
            crate::trust::fs::read_text(
                &dir.join(BASE_DIR).join(p),
                crate::trust::fs::limit::GENERATED,
            )
            .ok()
            .map(|t| (p.clone(), t))
        })
        .collect()
}

pub const BUILT_IN: &str = "built-in";

/// A file of the project as it is on disk, read to merge it: `None` when
/// it is not there, cannot be read, or is reached through a symbolic link
/// (a link may lead out of the project; writing refuses it by name).
pub fn project_file(dir: &Path, rel: &str) -> Option<String> {
    if crate::trust::path::first_link(dir, rel).is_some() {
        return None;
    }
    crate::trust::fs::read_text(&dir.join(rel), crate::trust::fs::limit::GENERATED).ok()
}

/// The secrets a project already has (its volumes were made with them),
/// read from `.env` as Compose reads it. Only a `.env` that is not there
/// means none: one that cannot be read is an error, never a reason to make
/// new secrets.
pub fn secrets(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(ENV_FILE);
    match crate::trust::fs::read_text_if_exists(&path, crate::trust::fs::limit::ENV) {
        Ok(Some(text)) => crate::compose::dotenv::parse(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} cannot be read ({e}); fix it so brickyard keeps its secrets",
                path.display()
            )
        }),
        // A link to nothing is a .env that cannot be read, not a missing one.
        Ok(None) if std::fs::symlink_metadata(&path).is_err() => Ok(BTreeMap::new()),
        Ok(None) => Err(anyhow::anyhow!(
            "{} is a symbolic link to nothing\n  brickyard keeps the secrets .env holds (the data volumes were made with them), so it stops here; put the file back and run the command again",
            path.display()
        )),
        Err(e) => Err(anyhow::anyhow!(
            "{e}\n  brickyard keeps the secrets .env holds (the data volumes were made with them), so it stops here; make it readable (`ls -l {}`) and run the command again",
            path.display()
        )),
    }
}

/// `path` made absolute without touching the disk, `.` and `..` resolved.
pub fn lexical_absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether `rel` is a directory inside the project: no `..`, no link on
/// the way, and where links lead (resolved), still inside.
fn inside(project_dir: &Path, rel: &str) -> bool {
    let rel = rel.trim_start_matches("./");
    crate::trust::path::check_relative(rel).is_ok()
        && crate::trust::path::first_link(project_dir, rel).is_none()
        && match (
            std::fs::canonicalize(project_dir),
            std::fs::canonicalize(project_dir.join(rel)),
        ) {
            (Ok(p), Ok(d)) => d.starts_with(p),
            _ => false,
        }
}

/// `path` relative to `base` (both made absolute), with `..` as needed.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let (path, base) = (lexical_absolute(path), lexical_absolute(base));
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The catalog layers as a project records them: directories relative to
/// the project.
pub fn portable(sources: &[Source], project_dir: &Path) -> Vec<Source> {
    sources
        .iter()
        .map(|s| Source {
            source: if s.source == BUILT_IN || s.commit.is_some() {
                s.source.clone()
            } else {
                relative(Path::new(&s.source), project_dir)
                    .to_string_lossy()
                    .replace('\\', "/")
            },
            ..s.clone()
        })
        .collect()
}

/// Which commit of a recorded git catalog to use.
#[derive(Debug, Clone, PartialEq)]
pub enum GitCommit {
    /// The one recorded: what the project was made with.
    Recorded,
    /// The newest of the recorded ref, or of this one (`update`).
    Newest(Option<String>),
}

/// The catalog layers a project was made with (from its brickyard.yaml):
/// directories resolved against it, git catalogs at `which` commit. An
/// error names the layer that is not there and the way out.
pub fn recorded_catalogs(project_dir: &Path, which: &GitCommit) -> Result<Vec<Layer>> {
    let file = project_dir.join(ANSWERS_FILE);
    let generated = if file.exists() {
        read(&file)?.generated
    } else {
        None
    };
    let sources = generated.map(|g| g.catalog).unwrap_or_default();
    let mut layers = Vec::new();
    for s in sources.iter().filter(|s| s.source != BUILT_IN) {
        if let Some(spec) = GitSpec::parse(&s.source) {
            let checkout = match (which, &s.commit) {
                (GitCommit::Recorded, Some(commit)) => git::pinned(&spec, commit),
                (GitCommit::Newest(reference), _) => git::newest(&spec.at(reference.as_deref())),
                (GitCommit::Recorded, None) => git::newest(&spec),
            }
            .with_context(|| {
                format!(
                    "cannot get the catalog {} that {} records\n  is the repository there and reachable? (git's words below); `--catalog DIR` or `--catalog git+URL` uses another",
                    s.source,
                    file.display()
                )
            })?;
            layers.push(Layer::Git(checkout));
            continue;
        }
        let dir = project_dir.join(&s.source);
        if !dir.is_dir() {
            anyhow::bail!(
                "this project was made with the catalog directory {} ({} records it), and it is not there\n  pass the catalog with --catalog DIR (brickyard then records the new place)",
                s.source,
                file.display()
            );
        }
        if !inside(project_dir, &s.source) && !crate::trust::allowed::is_allowed(project_dir, &dir)
        {
            anyhow::bail!(
                "{} records the catalog directory {} ({}), outside the project; brickyard reads a directory outside a project only once you name it for that project\n  if it is your team's catalog, pass it once: --catalog {}",
                file.display(),
                s.source,
                lexical_absolute(&dir).display(),
                s.source
            );
        }
        layers.push(Layer::Dir(dir));
    }
    if let GitCommit::Newest(Some(reference)) = which
        && !layers.iter().any(|l| matches!(l, Layer::Git(_)))
    {
        anyhow::bail!(
            "--ref {reference}: this project has no git catalog (only `--catalog git+URL` ones have refs)"
        );
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalogs_are_recorded_relative_to_the_project() {
        let rel = |p: &str, b: &str| relative(Path::new(p), Path::new(b));
        assert_eq!(
            rel("/work/team", "/work/apps/myapp"),
            PathBuf::from("../../team")
        );
        assert_eq!(
            rel("/work/apps/myapp/cat", "/work/apps/myapp"),
            PathBuf::from("cat")
        );
        assert_eq!(
            rel("/work/x/../team", "/work/apps"),
            PathBuf::from("../team")
        );
    }

    use super::*;

    #[test]
    fn an_answers_file_without_generated_still_reads() {
        let p = parse("ci: jenkins\nservices: [redis]\n").unwrap();
        assert_eq!(p.answers.ci.as_deref(), Some("jenkins"));
        assert!(p.generated.is_none());
    }

    #[test]
    fn the_project_file_round_trips() {
        let answers = Answers {
            ci: Some("jenkins".into()),
            ..Default::default()
        };
        let generated = Generated {
            brickyard: "0.1.0".into(),
            catalog: vec![
                Source {
                    source: BUILT_IN.into(),
                    digest: format!("sha256:{}", "0".repeat(64)),
                    commit: None,
                },
                Source {
                    source: "git+file:///srv/team@main".into(),
                    digest: format!("sha256:{}", "1".repeat(64)),
                    commit: Some("190f2187b44181957bea224625f87723e7180fe6".into()),
                },
            ],
            files: vec!["compose.yaml".into()],
        };
        let p = parse(&render(&answers, &generated)).unwrap();
        assert_eq!(p.answers, answers);
        assert_eq!(p.generated, Some(generated));
    }

    #[test]
    fn a_typo_is_still_refused() {
        let e = parse("cii: jenkins\n").unwrap_err();
        assert!(e.contains("cii"), "{e}");
    }
}
