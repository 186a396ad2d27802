//! The build context: a tar of the context directory that honours
//! .dockerignore the way Docker does (last matching rule wins, `!` re-includes,
//! a rule that matches a directory excludes everything under it).

use std::path::Path;

use globset::{Glob, GlobMatcher};

struct Rule {
    matcher: GlobMatcher,
    include: bool,
}

pub struct DockerIgnore {
    rules: Vec<Rule>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Result<DockerIgnore, String> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
            let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .or_else(|_| Glob::new(&globset::escape(pattern)))
                .map_err(|e| format!(".dockerignore: `{line}`: {e}"))?;
            rules.push(Rule {
                matcher: glob.compile_matcher(),
                include,
            });
        }
        Ok(DockerIgnore { rules })
    }

    /// Whether `rel` (forward slashes, relative to the context) is left out.
    pub fn excludes(&self, rel: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            // A pattern matches the path itself or any directory above it.
            let mut hit = rule.matcher.is_match(rel);
            let mut prefix = rel;
            while !hit {
                match prefix.rsplit_once('/') {
                    Some((parent, _)) => {
                        prefix = parent;
                        hit = rule.matcher.is_match(prefix);
                    }
                    None => break,
                }
            }
            if hit {
                excluded = !rule.include;
            }
        }
        excluded
    }
}

impl DockerIgnore {
    /// Whether some `!` rule may bring back a file below an excluded directory.
    fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.include)
    }
}

/// A tar of `dir` without what .dockerignore leaves out. The Dockerfile and
/// .dockerignore are always sent, as Docker does; an excluded directory is
/// still walked when a `!` rule may re-include something in it
/// (`node_modules` + `!node_modules/keep.js`). `inline` is a Dockerfile
/// given in the compose file, sent under the name `dockerfile`.
pub fn tar_context(dir: &Path, dockerfile: &str, inline: Option<&str>) -> Result<Vec<u8>, String> {
    let ignore = match crate::trust::fs::read_text_if_exists(
        &dir.join(".dockerignore"),
        crate::trust::fs::limit::ENV,
    ) {
        Ok(Some(text)) => DockerIgnore::parse(&text)?,
        Ok(None) => DockerIgnore { rules: Vec::new() },
        Err(e) => return Err(e.to_string()),
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .expect("below dir")
                .to_string_lossy()
                .replace('\\', "/");
            let always = rel == dockerfile || rel == ".dockerignore";
            let excluded = !always && ignore.excludes(&rel);
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() && (!excluded || ignore.has_exceptions()) {
                stack.push(path.clone());
            }
            if !excluded {
                files.push((path, rel));
            }
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    for (path, rel) in files {
        builder
            .append_path_with_name(&path, &rel)
            .map_err(|e| format!("cannot add {} to the build context: {e}", path.display()))?;
    }
    if let Some(text) = inline {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, dockerfile, text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    builder.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bytes: &[u8]) -> Vec<String> {
        tar::Archive::new(bytes)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn an_exception_under_an_excluded_directory_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(
            dir.path().join(".dockerignore"),
            "node_modules\n!node_modules/keep.js\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/deep")).unwrap();
        std::fs::write(dir.path().join("node_modules/keep.js"), "k").unwrap();
        std::fs::write(dir.path().join("node_modules/drop.js"), "d").unwrap();
        std::fs::write(dir.path().join("node_modules/deep/x.js"), "x").unwrap();
        let names = names(&tar_context(dir.path(), "Dockerfile", None).unwrap());
        assert!(
            names.contains(&"node_modules/keep.js".to_string()),
            "{names:?}"
        );
        assert!(
            !names
                .iter()
                .any(|n| n.contains("drop.js") || n.contains("deep")),
            "{names:?}"
        );
    }

    #[test]
    fn an_inline_dockerfile_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tar_context(dir.path(), ".inline.Dockerfile", Some("FROM scratch\n")).unwrap();
        assert_eq!(names(&bytes), [".inline.Dockerfile"]);
    }

    #[test]
    fn docker_semantics() {
        let ig = DockerIgnore::parse(
            "# c\n.git\n*.md\n!README.md\nnode_modules\n**/__pycache__\n/target/\n",
        )
        .unwrap();
        assert!(ig.excludes(".git"));
        assert!(ig.excludes(".git/objects/ab"));
        assert!(ig.excludes("NOTES.md"));
        assert!(!ig.excludes("README.md"));
        assert!(!ig.excludes("docs/guide.md"), "`*` does not cross a slash");
        assert!(ig.excludes("node_modules/x/index.js"));
        assert!(ig.excludes("app/__pycache__/m.pyc"));
        assert!(ig.excludes("target/release/app"));
        assert!(!ig.excludes("app/main.py"));
    }

    #[test]
    fn the_tar_leaves_out_ignored_files_but_keeps_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(
            dir.path().join(".dockerignore"),
            "Dockerfile\n.env\nsecret/\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".env"), "PW=x\n").unwrap();
        std::fs::create_dir(dir.path().join("secret")).unwrap();
        std::fs::write(dir.path().join("secret/key"), "k").unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/main.py"), "print()").unwrap();
        let bytes = tar_context(dir.path(), "Dockerfile", None).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&"Dockerfile".to_string()), "{names:?}");
        assert!(names.contains(&"app/main.py".to_string()), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.contains(".env") || n.contains("secret")),
            "{names:?}"
        );
    }
}
