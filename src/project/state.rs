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
        serde_yaml::from_str(picks).map_err(|e| e.to_string())?
    };
    let generated = if rest.is_empty() {
        None
    } else {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Tail {
            generated: Generated,
        }
        let tail: Tail = serde_yaml::from_str(rest).map_err(|e| {
            format!("`generated` (brickyard writes it; the picks go above it): {e}")
        })?;
        Some(tail.generated)
    };
    Ok(ProjectFile { answers, generated })
}

pub fn read(path: &Path) -> Result<ProjectFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
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
        .filter_map(|p| {
            std::fs::read_to_string(dir.join(BASE_DIR).join(p))
                .ok()
                .map(|t| (p.clone(), t))
        })
        .collect()
}

pub const BUILT_IN: &str = "built-in";

/// The secrets a project already has (its volumes were made with them),
/// read from `.env` as Compose reads it.
pub fn secrets(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(ENV_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => crate::compose::dotenv::parse(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} cannot be read ({e}); fix it so brickyard keeps its secrets",
                path.display()
            )
        }),
        Err(_) => Ok(BTreeMap::new()),
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
                    digest: "sha256:00".into(),
                    commit: None,
                },
                Source {
                    source: "git+file:///srv/team@main".into(),
                    digest: "sha256:01".into(),
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
