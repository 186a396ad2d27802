//! Relative paths in a compose file are relative to the project directory;
//! `~` is the home directory (compose-go's `paths` package). Applied to the
//! merged document, so `./data` in an included or extended file is resolved
//! against that file's own directory before merging.

use std::path::{Path as FsPath, PathBuf};

use serde_yaml::{Mapping, Value};

use super::tree::Path;

/// `~` and `~/x` are the home directory; `~user` is not expanded (as Compose).
pub fn expand_user(p: &str) -> String {
    match p.strip_prefix('~') {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => join(FsPath::new(&home), rest),
            None => p.to_string(),
        },
        None => p.to_string(),
    }
}

/// Go's `filepath.Join`: joined and cleaned.
pub fn join(base: &FsPath, rel: &str) -> String {
    let joined = if rel.is_empty() {
        base.to_string_lossy().into_owned()
    } else {
        format!("{}/{rel}", base.to_string_lossy())
    };
    super::canonical::clean_path(&joined)
}

fn is_windows_abs(p: &str) -> bool {
    let b = p.as_bytes();
    let sep = |c: u8| c == b'\\' || c == b'/';
    (b.len() >= 2 && sep(b[0]) && sep(b[1]))
        || (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && sep(b[2]))
}

struct Resolver<'a> {
    dir: &'a FsPath,
}

impl Resolver<'_> {
    fn abs(&self, v: &str) -> String {
        let v = expand_user(v);
        if v.starts_with('/') || v.is_empty() {
            v
        } else {
            join(self.dir, &v)
        }
    }

    /// An absolute path is left as written (not cleaned), as Compose does.
    fn maybe_unix(&self, v: &str) -> String {
        let v = expand_user(v);
        if v.starts_with('/') || is_windows_abs(&v) {
            v
        } else {
            join(self.dir, &v)
        }
    }

    fn context(&self, v: &str) -> String {
        let remote = [
            "https://",
            "http://",
            "git://",
            "ssh://",
            "github.com/",
            "git@",
        ];
        if v.contains("://") || v.starts_with("service:") || remote.iter().any(|r| v.starts_with(r))
        {
            v.to_string()
        } else {
            self.abs(v)
        }
    }

    fn resolve(&self, v: Value, path: &Path) -> Result<Value, String> {
        let string = |v: &Value, f: &dyn Fn(&str) -> String| match v {
            Value::String(s) => Value::String(f(s)),
            other => other.clone(),
        };
        if path.matches("services.*.build.context")
            || path.matches("services.*.build.additional_contexts.*")
        {
            return Ok(string(&v, &|s| self.context(s)));
        }
        if path.matches("services.*.build.ssh.*")
            || path.matches("configs.*.file")
            || path.matches("secrets.*.file")
        {
            return Ok(string(&v, &|s| self.maybe_unix(s)));
        }
        if path.matches("services.*.env_file.*.path")
            || path.matches("services.*.label_file.*")
            || path.matches("services.*.extends.file")
            || path.matches("services.*.develop.watch.*.path")
        {
            return Ok(string(&v, &|s| self.abs(s)));
        }
        if path.matches("services.*.volumes.*") {
            return self.volume_mount(v);
        }
        if path.matches("volumes.*") {
            return Ok(self.volume_driver_opts(v));
        }
        match v {
            Value::Mapping(m) => m
                .into_iter()
                .map(|(k, item)| {
                    let next = path.next(k.as_str().unwrap_or_default());
                    Ok((k, self.resolve(item, &next)?))
                })
                .collect::<Result<Mapping, String>>()
                .map(Value::Mapping),
            Value::Sequence(items) => items
                .into_iter()
                .map(|i| self.resolve(i, &path.item()))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Sequence),
            other => Ok(other),
        }
    }

    fn volume_mount(&self, v: Value) -> Result<Value, String> {
        let Value::Mapping(mut m) = v else {
            return Ok(v);
        };
        if m.get("type").and_then(Value::as_str) != Some("bind") {
            return Ok(Value::Mapping(m));
        }
        let Some(source) = m.get("source").and_then(Value::as_str) else {
            return Err(
                r#"invalid mount config for type "bind": field Source must not be empty"#.into(),
            );
        };
        let resolved = self.maybe_unix(source);
        m.insert("source".into(), resolved.into());
        Ok(Value::Mapping(m))
    }

    /// A local volume that binds a host directory (`o: bind`, `device: ./x`).
    fn volume_driver_opts(&self, v: Value) -> Value {
        let Value::Mapping(mut vol) = v else {
            return v;
        };
        if vol.get("driver").and_then(Value::as_str) != Some("local") {
            return Value::Mapping(vol);
        }
        if let Some(Value::Mapping(opts)) = vol.get_mut("driver_opts")
            && opts.get("o").and_then(Value::as_str) == Some("bind")
            && let Some(Value::String(dev)) = opts.get("device").cloned()
        {
            opts.insert("device".into(), self.maybe_unix(&dev).into());
        }
        Value::Mapping(vol)
    }
}

/// Resolves every path of `doc` against `dir`.
pub fn resolve_relative_paths(doc: Mapping, dir: &FsPath) -> Result<Mapping, String> {
    let r = Resolver { dir };
    match r.resolve(Value::Mapping(doc), &Path::root())? {
        Value::Mapping(m) => Ok(m),
        _ => unreachable!("a mapping stays a mapping"),
    }
}

/// `path` relative to `base` when it is below it, for messages.
pub fn display_relative(path: &FsPath, base: &FsPath) -> PathBuf {
    path.strip_prefix(base)
        .map(FsPath::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_project() {
        let doc: Mapping = serde_yaml::from_str(
            "services:\n  a:\n    build: {context: ./app}\n    volumes:\n      - {type: bind, source: ./data, target: /d}\n      - {type: bind, source: /abs/../x, target: /x}\n      - {type: volume, source: named, target: /n}\n    env_file: [{path: .env.a, required: true}]\nsecrets:\n  s: {file: ./s.txt}\n",
        )
        .unwrap();
        let out = Value::Mapping(resolve_relative_paths(doc, FsPath::new("/p/q")).unwrap());
        let a = &out["services"]["a"];
        assert_eq!(a["build"]["context"], Value::from("/p/q/app"));
        assert_eq!(a["volumes"][0]["source"], Value::from("/p/q/data"));
        assert_eq!(a["volumes"][1]["source"], Value::from("/abs/../x"));
        assert_eq!(a["volumes"][2]["source"], Value::from("named"));
        assert_eq!(a["env_file"][0]["path"], Value::from("/p/q/.env.a"));
        assert_eq!(out["secrets"]["s"]["file"], Value::from("/p/q/s.txt"));
    }

    #[test]
    fn remote_contexts_are_left_alone() {
        let doc: Mapping = serde_yaml::from_str(
            "services:\n  a:\n    build: {context: 'https://github.com/x/y.git'}\n",
        )
        .unwrap();
        let out = Value::Mapping(resolve_relative_paths(doc, FsPath::new("/p")).unwrap());
        assert_eq!(
            out["services"]["a"]["build"]["context"],
            Value::from("https://github.com/x/y.git")
        );
    }
}
