//! Team catalogs in git: `--catalog git+URL[@REF]`.
//!
//! A commit is fetched once into a cache (`BRICKYARD_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/brickyard`, else `~/.cache/brickyard`) and its tree
//! exported to a directory named by the commit, which never changes after
//! that; the catalog loads from there like any directory. A project records
//! the commit, so `add` and `verify` use exactly what `new` used (offline,
//! once cached) and `update` moves to the newest commit of REF.
//!
//! Through the `git` program, as cargo does for its git dependencies when
//! `net.git-fetch-with-cli` is set: the person's credentials and config apply.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A catalog given as `git+URL[@REF]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    pub url: String,
    /// A branch, tag or commit; `None` is the remote's default branch.
    pub reference: Option<String>,
}

impl GitSpec {
    /// `git+URL[@REF]`; `None` if `text` is not a git catalog.
    pub fn parse(text: &str) -> Option<GitSpec> {
        let rest = text.strip_prefix("git+")?;
        // The ref follows the last `@`, if what comes before it is a whole
        // URL (`ssh://git@host/x.git` has an `@` of its own, and no ref).
        if let Some((url, reference)) = rest.rsplit_once('@') {
            let whole = match url.split_once("://") {
                Some((_, after)) => after.contains('/'),
                None => url.contains(':'), // scp-like: git@host:team/catalog.git
            };
            if whole && !reference.is_empty() {
                return Some(GitSpec {
                    url: url.to_string(),
                    reference: Some(reference.to_string()),
                });
            }
        }
        Some(GitSpec {
            url: rest.to_string(),
            reference: None,
        })
    }

    /// The same catalog at another ref.
    pub fn at(&self, reference: Option<&str>) -> GitSpec {
        GitSpec {
            url: self.url.clone(),
            reference: reference.map(String::from).or(self.reference.clone()),
        }
    }
}

impl std::fmt::Display for GitSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reference {
            Some(r) => write!(f, "git+{}@{r}", self.url),
            None => write!(f, "git+{}", self.url),
        }
    }
}

/// A commit of a git catalog, exported to a directory.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub spec: GitSpec,
    pub commit: String,
    pub dir: PathBuf,
}

/// The newest commit of the spec's ref (fetched now), exported.
pub fn newest(spec: &GitSpec) -> Result<Checkout> {
    let repo = repo(spec)?;
    let want = spec.reference.as_deref().unwrap_or("HEAD");
    git(&repo, &["fetch", "--quiet", "--no-tags", &spec.url, want])
        .with_context(|| format!("cannot fetch `{want}` of the catalog {}", spec.url))?;
    let commit = git(&repo, &["rev-parse", "--verify", "FETCH_HEAD^{commit}"])?;
    export(spec, &repo, commit.trim())
}

/// A recorded commit: from the cache, or fetched if it is not there.
pub fn pinned(spec: &GitSpec, commit: &str) -> Result<Checkout> {
    let repo = repo(spec)?;
    let dir = repo.with_file_name(commit);
    if dir.is_dir() {
        return Ok(Checkout {
            spec: spec.clone(),
            commit: commit.to_string(),
            dir,
        });
    }
    let have = |c: &str| git(&repo, &["cat-file", "-e", &format!("{c}^{{commit}}")]).is_ok();
    if !have(commit) {
        // By id (servers allow a reachable commit), else every branch and tag.
        let by_id = git(&repo, &["fetch", "--quiet", "--no-tags", &spec.url, commit]);
        if by_id.is_err() || !have(commit) {
            git(
                &repo,
                &[
                    "fetch",
                    "--quiet",
                    &spec.url,
                    "+refs/heads/*:refs/remotes/catalog/*",
                    "+refs/tags/*:refs/tags/*",
                ],
            )
            .with_context(|| format!("cannot fetch the catalog {}", spec.url))?;
        }
        if !have(commit) {
            bail!(
                "the catalog {} has no commit {commit} (the one this project records); `brickyard update` moves the project to the newest commit of its ref",
                spec.url
            );
        }
    }
    export(spec, &repo, commit)
}

/// The cache's bare repository for `spec.url`, made if missing.
fn repo(spec: &GitSpec) -> Result<PathBuf> {
    let home = cache_dir()?.join("git").join(url_key(&spec.url));
    let repo = home.join("repo");
    if repo.join("HEAD").exists() {
        return Ok(repo);
    }
    std::fs::create_dir_all(&home)
        .with_context(|| format!("cannot make the catalog cache {}", home.display()))?;
    // Made aside and renamed, so a run beside this one never sees half a repository.
    let staging = tempfile::Builder::new()
        .prefix(".repo-")
        .tempdir_in(&home)?;
    git(staging.path(), &["init", "--quiet", "--bare", "."])?;
    match std::fs::rename(staging.path(), &repo) {
        Ok(()) => {
            let _ = staging.keep();
        }
        // Another run made it first: theirs serves.
        Err(_) if repo.join("HEAD").exists() => {}
        Err(e) => return Err(e).context(format!("cannot make {}", repo.display())),
    }
    Ok(repo)
}

/// The commit's files in `<cache>/git/<url>/<commit>/`, made once.
fn export(spec: &GitSpec, repo: &Path, commit: &str) -> Result<Checkout> {
    let dir = repo.with_file_name(commit);
    if !dir.is_dir() {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["archive", "--format=tar", commit])
            .output()
            .context("cannot run git")?;
        if !out.status.success() {
            bail!(
                "cannot read commit {commit} of {}: {}",
                spec.url,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let parent = dir.parent().expect("the cache has a parent");
        let staging = tempfile::Builder::new()
            .prefix(".export-")
            .tempdir_in(parent)?;
        tar::Archive::new(out.stdout.as_slice())
            .unpack(staging.path())
            .with_context(|| format!("cannot unpack commit {commit} of {}", spec.url))?;
        if std::fs::rename(staging.path(), &dir).is_ok() {
            let _ = staging.keep();
        } else if !dir.is_dir() {
            bail!("cannot write {}", dir.display());
        }
    }
    Ok(Checkout {
        spec: spec.clone(),
        commit: commit.to_string(),
        dir,
    })
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never wait on a password prompt nobody sees.
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            anyhow::anyhow!("a git catalog needs the `git` program ({e}); install git, or use a catalog directory")
        })?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cache_dir() -> Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("BRICKYARD_CACHE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Ok(dir.join("brickyard"));
    }
    match var("HOME") {
        Some(home) => Ok(home.join(".cache").join("brickyard")),
        None => bail!("no cache directory for git catalogs: set BRICKYARD_CACHE_DIR"),
    }
}

/// A directory name for a URL: readable tail plus a hash of the whole.
fn url_key(url: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(url.as_bytes());
    let tail: String = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("catalog")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{tail}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::GitSpec;

    fn spec(url: &str, reference: Option<&str>) -> Option<GitSpec> {
        Some(GitSpec {
            url: url.into(),
            reference: reference.map(String::from),
        })
    }

    #[test]
    fn a_spec_is_split_at_the_ref_only_after_a_whole_url() {
        assert_eq!(GitSpec::parse("../team"), None);
        assert_eq!(
            GitSpec::parse("git+file:///srv/cat@main"),
            spec("file:///srv/cat", Some("main"))
        );
        assert_eq!(
            GitSpec::parse("git+https://example.com/team/cat.git"),
            spec("https://example.com/team/cat.git", None)
        );
        assert_eq!(
            GitSpec::parse("git+ssh://git@example.com/team/cat.git"),
            spec("ssh://git@example.com/team/cat.git", None)
        );
        assert_eq!(
            GitSpec::parse("git+ssh://git@example.com/team/cat.git@release/2"),
            spec("ssh://git@example.com/team/cat.git", Some("release/2"))
        );
        assert_eq!(
            GitSpec::parse("git+git@example.com:team/cat.git"),
            spec("git@example.com:team/cat.git", None)
        );
        assert_eq!(
            GitSpec::parse("git+git@example.com:team/cat.git@v2"),
            spec("git@example.com:team/cat.git", Some("v2"))
        );
        let s = GitSpec::parse("git+file:///srv/cat@main").unwrap();
        assert_eq!(s.to_string(), "git+file:///srv/cat@main");
    }
}
