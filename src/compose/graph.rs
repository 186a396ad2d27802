//! The dependency graph of depends_on: a start order (dependencies first,
//! ties broken by name). Cycles are refused when the project loads
//! (`consistency.rs`), so the order always exists.

use std::collections::BTreeMap;

use super::Service;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("dependency cycle detected: {}", .0.join(" -> "))]
pub struct Cycle(pub Vec<String>);

/// Services in an order where each comes after everything it depends on
/// (ties broken by name, so the order is stable).
pub fn order(services: &BTreeMap<String, Service>) -> Result<Vec<String>, Cycle> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        services: &'a BTreeMap<String, Service>,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
        out: &mut Vec<String>,
    ) -> Result<(), Cycle> {
        match marks.get(name).copied().unwrap_or(Mark::New) {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                let start = path.iter().position(|p| *p == name).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(name.to_string());
                return Err(Cycle(cycle));
            }
            Mark::New => {}
        }
        marks.insert(name, Mark::Visiting);
        path.push(name);
        if let Some(svc) = services.get(name) {
            for dep in svc.depends_on.keys().filter(|d| services.contains_key(*d)) {
                visit(dep, services, marks, path, out)?;
            }
        }
        path.pop();
        marks.insert(name, Mark::Done);
        out.push(name.to_string());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for name in services.keys() {
        visit(name, services, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Service> {
        edges
            .iter()
            .map(|(n, deps)| {
                let svc = Service {
                    image: "x:1".into(),
                    depends_on: deps
                        .iter()
                        .map(|d| (d.to_string(), Default::default()))
                        .collect(),
                    ..Service::default()
                };
                (n.to_string(), svc)
            })
            .collect()
    }

    #[test]
    fn dependencies_come_first() {
        let g = graph(&[
            ("app", &["db", "cache"]),
            ("db", &[]),
            ("cache", &[]),
            ("proxy", &["app"]),
        ]);
        let o = order(&g).unwrap();
        let pos = |n: &str| o.iter().position(|x| x == n).unwrap();
        assert!(pos("db") < pos("app") && pos("cache") < pos("app") && pos("app") < pos("proxy"));
    }

    #[test]
    fn a_cycle_is_named() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(
            order(&g).unwrap_err().to_string(),
            "dependency cycle detected: a -> b -> c -> a"
        );
    }
}
