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

/// The transports a catalog URL may use. `ext::` runs a program and `fd::`
/// reads a descriptor: never from a URL someone else wrote.
const PROTOCOLS: &str = "file:git:http:https:ssh";

impl GitSpec {
    /// Checks a URL and ref before git sees them: no option (`-...`), no
    /// `ext::`-style transport, no control character, and a ref that is a
    /// ref name (`git check-ref-format`'s rules).
    pub fn check(&self) -> Result<(), String> {
        check_url(&self.url)?;
        if let Some(r) = &self.reference {
            check_ref(r)?;
        }
        Ok(())
    }
}

/// A catalog URL: `scheme://...` with a scheme git may use here, or
/// scp-like `[user@]host:path`.
pub fn check_url(url: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{url}` is not a git URL brickyard uses: {why}"));
    if url.is_empty() {
        return bad("it is empty");
    }
    if url.starts_with('-') {
        return bad("it starts with `-`, as an option would");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("it holds a space or a control character");
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        if !PROTOCOLS.split(':').any(|p| p == scheme) {
            return bad("the scheme must be https, http, ssh, git or file");
        }
        if rest.starts_with('-') {
            return bad("its host starts with `-`");
        }
        return Ok(());
    }
    if url.contains("::") {
        return bad("`TRANSPORT::ADDRESS` URLs (ext::, fd::) are refused");
    }
    match url.split_once(':') {
        Some((host, _)) if !host.is_empty() && !host.contains('/') => Ok(()),
        _ => bad("use scheme://... or host:path (file:///path for a local repository)"),
    }
}

/// A commit id: 40 hex digits (SHA-1), or 64 (SHA-256).
pub fn check_commit(commit: &str) -> Result<(), String> {
    if matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("`{commit}` is not a commit id (40 hex digits)"))
    }
}

/// A branch, tag or commit name as `git check-ref-format --allow-onelevel`
/// takes it, and never an option.
pub fn check_ref(reference: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{reference}` is not a ref name: {why}"));
    if reference.is_empty() {
        return bad("it is empty");
    }
    if reference.starts_with('-') {
        return bad("it starts with `-`, as an option would");
    }
    if reference.len() > 255 {
        return bad("it is longer than 255 bytes");
    }
    if reference
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return bad("it holds a space, a control character or one of ~^:?*[\\");
    }
    if reference.contains("..") || reference.contains("@{") || reference == "@" {
        return bad("it holds `..` or `@{`, or is `@`");
    }
    if reference.ends_with('/') || reference.ends_with('.') || reference.ends_with(".lock") {
        return bad("it ends with `/`, `.` or `.lock`");
    }
    if reference
        .split('/')
        .any(|part| part.is_empty() || part.starts_with('.'))
    {
        return bad("a part of it is empty or starts with `.`");
    }
    Ok(())
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
    spec.check().map_err(anyhow::Error::msg)?;
    let repo = repo(spec)?;
    let want = spec.reference.as_deref().unwrap_or("HEAD");
    git(
        &repo,
        &["fetch", "--quiet", "--no-tags", "--", &spec.url, want],
    )
    .with_context(|| format!("cannot fetch `{want}` of the catalog {}", spec.url))?;
    let commit = git(&repo, &["rev-parse", "--verify", "FETCH_HEAD^{commit}"])?;
    export(spec, &repo, commit.trim())
}

/// A recorded commit: from the cache, or fetched if it is not there.
pub fn pinned(spec: &GitSpec, commit: &str) -> Result<Checkout> {
    spec.check().map_err(anyhow::Error::msg)?;
    check_commit(commit).map_err(anyhow::Error::msg)?;
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
        let by_id = git(
            &repo,
            &["fetch", "--quiet", "--no-tags", "--", &spec.url, commit],
        );
        if by_id.is_err() || !have(commit) {
            git(
                &repo,
                &[
                    "fetch",
                    "--quiet",
                    "--",
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
    git(
        staging.path(),
        &["init", "--quiet", "--bare", "--template=", "."],
    )?;
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
        let out = command(repo)
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

/// `git -C dir` as brickyard runs it: the cache repository's hooks never
/// run, only the transports of [`PROTOCOLS`] are allowed whatever the
/// config says, and no prompt waits for an answer nobody can give. Every
/// value from a file reaches it checked and after `--`.
fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "protocol.ext.allow=never",
        ])
        .env("GIT_ALLOW_PROTOCOL", PROTOCOLS)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(std::process::Stdio::null());
    cmd
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = command(dir).args(args).output().map_err(|e| {
        anyhow::anyhow!(
            "a git catalog needs the `git` program ({e}); install git, or use a catalog directory"
        )
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
    let hash = crate::trust::sha256_hex(url.as_bytes());
    let tail: String = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("catalog")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{tail}-{}", &hash[..16])
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
    fn what_reaches_git_is_never_an_option_or_a_program() {
        use super::{check_commit, check_ref, check_url};
        for ok in [
            "https://example.com/team/cat.git",
            "ssh://git@example.com/team/cat.git",
            "git@example.com:team/cat.git",
            "file:///srv/cat",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "--upload-pack=touch /tmp/x",
            "ext::sh -c touch% /tmp/x",
            "fd::7",
            "ftp://example.com/x",
            "ssh://-oProxyCommand=x/y",
            "/srv/cat",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        for ok in [
            "main",
            "release/2",
            "v1.0",
            "190f2187b44181957bea224625f87723e7180fe6",
        ] {
            assert_eq!(check_ref(ok), Ok(()), "{ok}");
        }
        for bad in [
            "--upload-pack=x",
            "-x",
            "a..b",
            "a b",
            "a:b",
            ".hidden",
            "x.lock",
            "x/",
            "@{u}",
            "",
        ] {
            assert!(check_ref(bad).is_err(), "{bad}");
        }
        assert!(check_commit("190f2187b44181957bea224625f87723e7180fe6").is_ok());
        for bad in ["../../x", "--upload-pack=x", "190f2187", "HEAD"] {
            assert!(check_commit(bad).is_err(), "{bad}");
        }
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
