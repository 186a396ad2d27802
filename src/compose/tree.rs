//! Dotted paths into a compose document (`services.web.ports`), and the
//! patterns the loader's rules are keyed by (`services.*.ports`, `[]` for a
//! list item), as compose-go's `tree` package spells them.

use std::fmt;

/// A path such as `services.web.ports.[]`. A key that contains a dot is kept
/// whole (its dots are not separators).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(Vec<String>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    pub fn new(parts: &[&str]) -> Path {
        Path(parts.iter().map(|p| p.to_string()).collect())
    }

    pub fn next(&self, part: &str) -> Path {
        let mut parts = self.0.clone();
        parts.push(part.to_string());
        Path(parts)
    }

    /// The path with a list item appended (`[]`, as pattern tables spell it).
    pub fn item(&self) -> Path {
        self.next("[]")
    }

    pub fn parts(&self) -> &[String] {
        &self.0
    }

    pub fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// `*` matches any one part; everything else must be equal.
    pub fn matches(&self, pattern: &str) -> bool {
        let pattern: Vec<&str> = if pattern.is_empty() {
            Vec::new()
        } else {
            pattern.split('.').collect()
        };
        pattern.len() == self.0.len()
            && pattern
                .iter()
                .zip(&self.0)
                .all(|(p, part)| *p == "*" || *p == part)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = Path::new(&["services", "web", "ports"]);
        assert!(p.matches("services.*.ports"));
        assert!(!p.matches("services.*"));
        assert!(p.item().matches("services.*.ports.[]"));
        assert!(Path::root().matches(""));
        // A key with a dot stays one part.
        let label = Path::new(&["services", "web", "labels"]).next("traefik.enable");
        assert!(label.matches("services.*.labels.*"));
        assert_eq!(label.to_string(), "services.web.labels.traefik.enable");
    }
}
