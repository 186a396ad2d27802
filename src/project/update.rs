//! What `update`, `add` and `remove` do to each file: the project rendered
//! again (theirs) against what brickyard wrote last (base) and what is on
//! disk (mine). Pure: `write::apply` carries the result out.

use std::collections::{BTreeMap, BTreeSet};

use crate::compose::dotenv;
use crate::generate::{ANSWERS_FILE, ENV_FILE, GeneratedFile};

use super::merge::{self, Merged};
use super::state;

/// What happens to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing to do.
    Unchanged,
    /// New from the catalog.
    Created,
    /// Only brickyard changed it: the new version is written.
    Updated,
    /// Both changed it; merged (by lines, or as data).
    Merged { as_data: bool },
    /// Both changed the same lines: written with conflict markers.
    Conflict { lines: Vec<usize> },
    /// No longer made, and not changed by you: removed.
    Removed,
    /// No longer made, but you changed it: kept.
    KeptChanged,
    /// You deleted it and the catalog changed it: left deleted.
    KeptDeleted,
    /// `.env`: these secrets were missing and are added; every line stays.
    SecretsAdded(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileChange {
    pub path: String,
    pub outcome: Outcome,
    /// What the file holds after (None: deleted, or left as it is).
    pub after: Option<String>,
    pub private: bool,
}

impl FileChange {
    pub fn writes(&self) -> bool {
        self.after.is_some()
    }
    pub fn deletes(&self) -> bool {
        self.outcome == Outcome::Removed
    }
}

/// The changes for every file brickyard wrote before or writes now.
/// `mine` reads a file of the project as it is on disk.
pub fn changes(
    base: &BTreeMap<String, String>,
    written_before: &[String],
    theirs: &[GeneratedFile],
    mine: impl Fn(&str) -> Option<String>,
) -> Vec<FileChange> {
    let theirs_by_path: BTreeMap<&str, &GeneratedFile> =
        theirs.iter().map(|f| (f.path.as_str(), f)).collect();
    let paths: BTreeSet<&str> = written_before
        .iter()
        .map(String::as_str)
        .chain(theirs_by_path.keys().copied())
        .collect();
    let mut out = Vec::new();
    for path in paths {
        let t = theirs_by_path.get(path);
        let m = mine(path);
        let change = |outcome, after: Option<String>| FileChange {
            path: path.to_string(),
            outcome,
            after,
            private: t.is_some_and(|t| t.private),
        };
        let Some(t) = t else {
            // No longer made.
            out.push(match (m, base.get(path)) {
                (None, _) => change(Outcome::Unchanged, None),
                (Some(m), Some(b)) if &m == b => change(Outcome::Removed, None),
                (Some(_), _) => change(Outcome::KeptChanged, None),
            });
            continue;
        };
        if path == ENV_FILE {
            out.push(env_change(m.as_deref().unwrap_or(""), &t.contents, change));
            continue;
        }
        if path == ANSWERS_FILE {
            out.push(if m.as_deref() == Some(t.contents.as_str()) {
                change(Outcome::Unchanged, None)
            } else {
                change(Outcome::Updated, Some(t.contents.clone()))
            });
            continue;
        }
        let b = base.get(path);
        out.push(match (m, b) {
            (None, None) => change(Outcome::Created, Some(t.contents.clone())),
            (None, Some(b)) if *b == t.contents => change(Outcome::Unchanged, None),
            (None, Some(_)) => change(Outcome::KeptDeleted, None),
            (Some(m), b) => {
                let b = b.map(String::as_str).unwrap_or("");
                let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
                match merge::merge(b, &m, &t.contents, yaml) {
                    Merged::Clean { text, .. } if text == m => change(Outcome::Unchanged, None),
                    Merged::Clean { text, .. } if m == b => change(Outcome::Updated, Some(text)),
                    Merged::Clean { text, as_data } => {
                        change(Outcome::Merged { as_data }, Some(text))
                    }
                    Merged::Conflict { text, hunks } => {
                        change(Outcome::Conflict { lines: hunks }, Some(text))
                    }
                }
            }
        });
    }
    out
}

/// `.env` keeps every line it has; secrets it lacks are added at the end.
fn env_change(
    mine: &str,
    theirs: &str,
    change: impl Fn(Outcome, Option<String>) -> FileChange,
) -> FileChange {
    match merge_env(mine, theirs) {
        None => change(Outcome::Unchanged, None),
        Some((text, added)) => change(Outcome::SecretsAdded(added), Some(text)),
    }
}

/// `mine` with the variables of `theirs` it lacks appended, and their
/// names; `None` when it lacks none.
fn merge_env(mine: &str, theirs: &str) -> Option<(String, Vec<String>)> {
    let have = env_values(mine);
    let missing: Vec<(String, String)> = env_values(theirs)
        .into_iter()
        .filter(|(k, _)| !have.contains_key(k))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut text = mine.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if text.is_empty() {
        text.push_str(
            "# Secrets generated by brickyard for this machine. Never commit this file.\n",
        );
    }
    for (k, v) in &missing {
        for comment in comments_above(theirs, k) {
            text.push_str(comment);
            text.push('\n');
        }
        text.push_str(&format!("{k}={v}\n"));
    }
    Some((text, missing.into_iter().map(|(k, _)| k).collect()))
}

/// `new --force` over an existing directory: every file brickyard makes is
/// replaced (except `.env`, which keeps every line and gains the missing
/// secrets); a file it made before and makes no more is removed if
/// unchanged, kept if the person changed it. What it does, file by file.
#[derive(Debug, Default)]
pub struct Overwrite {
    pub files: Vec<GeneratedFile>,
    pub deletes: Vec<String>,
    pub replaced: Vec<String>,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

pub fn overwrite(
    base: &BTreeMap<String, String>,
    written_before: &[String],
    theirs: &[GeneratedFile],
    mine: impl Fn(&str) -> Option<String>,
) -> Overwrite {
    let mut out = Overwrite::default();
    for t in theirs {
        let current = mine(&t.path);
        let contents = match (&current, t.path == ENV_FILE) {
            (Some(c), true) => {
                merge_env(c, &t.contents).map_or_else(|| c.clone(), |(text, _)| text)
            }
            _ => t.contents.clone(),
        };
        if current.as_ref().is_some_and(|c| *c != contents) {
            out.replaced.push(t.path.clone());
        }
        out.files.push(GeneratedFile {
            contents,
            ..t.clone()
        });
    }
    let stale: Vec<&str> = written_before
        .iter()
        .map(String::as_str)
        .filter(|p| !theirs.iter().any(|t| t.path == *p))
        .collect();
    for p in &stale {
        match (mine(p), base.get(*p)) {
            (None, _) => {}
            (Some(m), Some(b)) if &m == b => out.removed.push(p.to_string()),
            (Some(_), _) => out.kept.push(p.to_string()),
        }
    }
    out.files.extend(state::base_copies(theirs));
    out.deletes = out.removed.clone();
    out.deletes.extend(stale_base(stale.into_iter(), theirs));
    out
}

/// The comment lines right above `key`'s line in a generated `.env`
/// (what the value is: a machine's group, where a hosted key is found);
/// none for the first key, under the file's header.
fn comments_above<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines
        .iter()
        .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
    else {
        return Vec::new();
    };
    let start = lines[..at]
        .iter()
        .rposition(|l| !l.trim_start().starts_with('#'))
        .map_or(0, |i| i + 1);
    if start == 0 {
        return Vec::new();
    }
    lines[start..at].to_vec()
}

/// A `.env` as Compose reads it; one that does not parse is read line by
/// line (`KEY=value`), so its keys are still known and none is added twice.
fn env_values(text: &str) -> BTreeMap<String, String> {
    dotenv::parse(text).unwrap_or_else(|_| {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().trim_start_matches("export ").to_string(),
                    v.to_string(),
                )
            })
            .collect()
    })
}

/// The files to write and delete for `changes`, with the new base.
pub fn to_write(
    changes: &[FileChange],
    theirs: &[GeneratedFile],
) -> (Vec<GeneratedFile>, Vec<String>) {
    let mut files: Vec<GeneratedFile> = changes
        .iter()
        .filter_map(|c| {
            c.after.as_ref().map(|after| GeneratedFile {
                path: c.path.clone(),
                contents: after.clone(),
                private: c.private,
            })
        })
        .collect();
    let mut deletes: Vec<String> = changes
        .iter()
        .filter(|c| c.deletes())
        .map(|c| c.path.clone())
        .collect();
    // The base becomes what brickyard made now.
    files.extend(state::base_copies(theirs));
    deletes.extend(stale_base(changes.iter().map(|c| c.path.as_str()), theirs));
    (files, deletes)
}

/// The base copies of files brickyard no longer makes.
fn stale_base<'a>(paths: impl Iterator<Item = &'a str>, theirs: &[GeneratedFile]) -> Vec<String> {
    paths
        .filter(|p| state::in_base(p) && !theirs.iter().any(|t| t.path == *p))
        .map(state::base_path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
            private: path == ENV_FILE,
        }
    }

    fn run(
        base: &[(&str, &str)],
        mine: &[(&str, &str)],
        theirs: &[(&str, &str)],
    ) -> BTreeMap<String, FileChange> {
        let base: BTreeMap<String, String> = base
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        let written: Vec<String> = base.keys().cloned().collect();
        let mine: BTreeMap<String, String> = mine
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        let theirs: Vec<GeneratedFile> = theirs.iter().map(|(p, c)| gen_file(p, c)).collect();
        changes(&base, &written, &theirs, |p| mine.get(p).cloned())
            .into_iter()
            .map(|c| (c.path.clone(), c))
            .collect()
    }

    #[test]
    fn each_case_of_one_file() {
        let c = run(
            &[
                ("same", "a\n"),
                ("ours", "a\n"),
                ("cat", "a\n"),
                ("gone", "a\n"),
                ("gone-edited", "a\n"),
                ("deleted", "a\n"),
            ],
            &[
                ("same", "a\n"),
                ("ours", "mine\n"),
                ("cat", "a\n"),
                ("gone", "a\n"),
                ("gone-edited", "mine\n"),
            ],
            &[
                ("same", "a\n"),
                ("ours", "a\n"),
                ("cat", "new\n"),
                ("deleted", "new\n"),
                ("fresh", "x\n"),
            ],
        );
        assert_eq!(c["same"].outcome, Outcome::Unchanged);
        assert_eq!(c["ours"].outcome, Outcome::Unchanged);
        assert_eq!(c["cat"].outcome, Outcome::Updated);
        assert_eq!(c["cat"].after.as_deref(), Some("new\n"));
        assert_eq!(c["gone"].outcome, Outcome::Removed);
        assert_eq!(c["gone-edited"].outcome, Outcome::KeptChanged);
        assert_eq!(c["deleted"].outcome, Outcome::KeptDeleted);
        assert_eq!(c["fresh"].outcome, Outcome::Created);
    }

    #[test]
    fn env_keeps_every_line_and_adds_only_missing_secrets() {
        let c = run(
            &[],
            &[(ENV_FILE, "# mine\nDB_PASSWORD=kept\nMY_OWN=1\n")],
            &[(
                ENV_FILE,
                "# header\nDB_PASSWORD=new\nREDIS_PASSWORD=fresh\n",
            )],
        );
        assert_eq!(
            c[ENV_FILE].outcome,
            Outcome::SecretsAdded(vec!["REDIS_PASSWORD".into()])
        );
        assert_eq!(
            c[ENV_FILE].after.as_deref(),
            Some("# mine\nDB_PASSWORD=kept\nMY_OWN=1\nREDIS_PASSWORD=fresh\n")
        );
        assert!(c[ENV_FILE].private);
    }

    #[test]
    fn env_gains_a_missing_value_with_the_comment_that_says_what_it_is() {
        let c = run(
            &[],
            &[(ENV_FILE, "# mine\nDB_PASSWORD=kept\n")],
            &[(
                ENV_FILE,
                "# header\nDB_PASSWORD=new\n# The group that owns /s; ci joins it.\nDOCKER_GID=107\nREDIS_PASSWORD=fresh\n",
            )],
        );
        assert_eq!(
            c[ENV_FILE].after.as_deref(),
            Some(
                "# mine\nDB_PASSWORD=kept\n# The group that owns /s; ci joins it.\nDOCKER_GID=107\nREDIS_PASSWORD=fresh\n"
            )
        );
    }
}
