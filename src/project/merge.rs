//! Three-way merges of one file: base (what brickyard wrote last time),
//! mine (the file on disk, with the person's edits) and theirs (what
//! brickyard writes now). Pure, so every case is tested without a disk.
//!
//! Text is merged by lines (diff3, with git's conflict markers: `ours` is
//! the file on disk, `original` what brickyard wrote last, `theirs` what it
//! writes now). A YAML file whose lines conflict is merged again as data,
//! keyed by what it holds (compose services and their keys, Prometheus
//! jobs by `job_name`, lists of named things by `name`), so a person's new
//! service and the catalog's new healthcheck both survive. That result is
//! taken only when it loses nothing: every line of the person's file is
//! still there as written (a comment, a quote, a style), or the text
//! conflict stands.

use serde_yaml::{Mapping, Value};

/// What a merge gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Merged {
    /// Merged cleanly (by lines, or as data).
    Clean { text: String, as_data: bool },
    /// With conflict markers; the line numbers (1-based) where each
    /// conflicted hunk starts.
    Conflict { text: String, hunks: Vec<usize> },
}

pub const MARKER: &str = "<<<<<<< ours";

/// Merges one file three ways; `yaml` turns on the data merge.
pub fn merge(base: &str, mine: &str, theirs: &str, yaml: bool) -> Merged {
    if mine == theirs || base == theirs {
        return Merged::Clean {
            text: mine.to_string(),
            as_data: false,
        };
    }
    if base == mine {
        return Merged::Clean {
            text: theirs.to_string(),
            as_data: false,
        };
    }
    let mut options = diffy::MergeOptions::new();
    options.set_incomplete_hunk_style(diffy::IncompleteHunkStyle::Git);
    let by_lines = options.merge(base, mine, theirs);
    match by_lines {
        Ok(text) if !yaml || parses(&text) => Merged::Clean {
            text,
            as_data: false,
        },
        other => {
            if yaml && let Some(text) = merge_yaml(base, mine, theirs) {
                return Merged::Clean {
                    text,
                    as_data: true,
                };
            }
            let text = match other {
                Ok(t) | Err(t) => t,
            };
            let hunks = conflict_lines(&text);
            Merged::Conflict { text, hunks }
        }
    }
}

/// The 1-based lines where conflict markers open.
pub fn conflict_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("<<<<<<< "))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Whether a file still holds a conflict (opening and closing markers).
pub fn has_markers(text: &str) -> bool {
    let lines = || text.lines();
    lines().any(|l| l.starts_with("<<<<<<< ")) && lines().any(|l| l.starts_with(">>>>>>> "))
}

fn parses(text: &str) -> bool {
    crate::trust::yaml::from_str::<Value>(text).is_ok()
}

/// The data merge, or `None` when it conflicts or would change a line of
/// the person's.
fn merge_yaml(base: &str, mine: &str, theirs: &str) -> Option<String> {
    let parse = |t: &str| crate::trust::yaml::from_str::<Value>(t).ok();
    let (b, m, t) = (parse(base)?, parse(mine)?, parse(theirs)?);
    let merged = value(Some(&b), Some(&m), Some(&t))??;
    // Best: the catalog's changes made in the person's own text, which
    // keeps every comment, quote and style of theirs as it is.
    if let Some(text) = patched(mine, theirs, &b, &m, &t, &merged) {
        return Some(text);
    }
    let body = serde_yaml::to_string(&merged).ok()?;
    // The comments at the top of the file (brickyard's header) stay.
    let header: String = theirs
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let text = format!("{header}{body}");
    keeps_every_line(base, mine, &text).then_some(text)
}

/// `mine` with theirs' changes (from base) applied as edits of its text:
/// a key theirs added is copied in as theirs wrote it, other changes go
/// through a format-preserving YAML editor (yamlpatch). `None` when an
/// edit does not fit (then the data is written anew, or the text conflict
/// stands). The result counts only if it reads back as the data merge's.
fn patched(
    mine: &str,
    theirs_text: &str,
    base: &Value,
    m: &Value,
    theirs: &Value,
    merged: &Value,
) -> Option<String> {
    let mut edits = Vec::new();
    changes(base, m, theirs, &mut Vec::new(), &mut edits)?;
    let theirs_doc = yamlpath::Document::new(theirs_text.to_string()).ok()?;
    let mut doc = yamlpath::Document::new(mine.to_string()).ok()?;
    for (route, op) in edits {
        let spliced = match &op {
            yamlpatch::Op::Add { key, .. } => splice_added(&doc, &theirs_doc, &route, key),
            _ => None,
        };
        doc = match spliced {
            Some(text) => yamlpath::Document::new(text).ok()?,
            None => {
                let patch = yamlpatch::Patch {
                    route: yamlpath::Route::from(route),
                    operation: op,
                };
                yamlpatch::apply_yaml_patches(&doc, &[patch]).ok()?
            }
        };
    }
    let text = doc.source().to_string();
    (crate::trust::yaml::from_str::<Value>(&text).ok()? == *merged).then_some(text)
}

/// `mine`'s text with the key theirs added under `route` copied in from
/// theirs' text (its lines, its style), after the mapping's last entry and
/// at the mapping's indentation.
fn splice_added(
    mine: &yamlpath::Document,
    theirs: &yamlpath::Document,
    route: &Route,
    key: &str,
) -> Option<String> {
    let mut full = route.clone();
    full.push(yamlpath::Component::Key(key.to_string().into()));
    let added = theirs.query_pretty(&yamlpath::Route::from(full)).ok()?;
    let block = theirs.extract_with_leading_whitespace(&added);
    let theirs_indent = block.len() - block.trim_start_matches(' ').len();
    let text = mine.source();
    let (end, indent) = if route.is_empty() {
        let top = mine.top_feature().ok()?;
        (top.location.byte_span.1, 0)
    } else {
        let parent = mine
            .query_exact(&yamlpath::Route::from(route.clone()))
            .ok()??;
        if !matches!(parent.kind(), yamlpath::FeatureKind::BlockMapping) {
            return None;
        }
        (parent.location.byte_span.1, parent.location.point_span.0.1)
    };
    // After the end of the line the mapping's last entry ends on (an
    // inline comment there stays with its entry).
    let at = text[end..]
        .find('\n')
        .map(|i| end + i + 1)
        .unwrap_or(text.len());
    let shifted: String = block
        .lines()
        .map(|l| {
            let own = l.len() - l.trim_start_matches(' ').len();
            if l.trim().is_empty() {
                "\n".to_string()
            } else {
                format!(
                    "{}{}\n",
                    " ".repeat(indent + own.saturating_sub(theirs_indent)),
                    l.trim_start_matches(' ')
                )
            }
        })
        .collect();
    let sep = if at == text.len() && !text.ends_with('\n') {
        "\n"
    } else {
        ""
    };
    Some(format!("{}{sep}{shifted}{}", &text[..at], &text[at..]))
}

type Route = Vec<yamlpath::Component<'static>>;

fn to_patch_value(v: &Value) -> Option<yaml_serde::Value> {
    yaml_serde::to_value(v).ok()
}

/// The edits that take `mine` from `base` to theirs' changes, at `route`
/// (in mine). `None` when theirs' change meets one of the person's.
fn changes(
    base: &Value,
    mine: &Value,
    theirs: &Value,
    route: &mut Route,
    out: &mut Vec<(Route, yamlpatch::Op<'static>)>,
) -> Option<()> {
    use yamlpath::Component;
    if base == theirs {
        return Some(());
    }
    if mine == theirs {
        return Some(());
    }
    match (base, mine, theirs) {
        (Value::Mapping(b), Value::Mapping(m), Value::Mapping(t)) => {
            for (k, tv) in t {
                let key = k.as_str()?.to_string();
                match (b.get(k), m.get(k)) {
                    (None, None) => out.push((
                        route.clone(),
                        yamlpatch::Op::Add {
                            key,
                            value: to_patch_value(tv)?,
                        },
                    )),
                    (Some(bv), Some(mv)) => {
                        route.push(Component::Key(key.into()));
                        changes(bv, mv, tv, route, out)?;
                        route.pop();
                    }
                    // The person removed it (theirs changed it: the data
                    // merge decides), or both added it alike.
                    (Some(_), None) => {}
                    (None, Some(mv)) if mv == tv => {}
                    (None, Some(_)) => return None,
                }
            }
            for (k, bv) in b {
                if t.contains_key(k) {
                    continue;
                }
                match m.get(k) {
                    Some(mv) if mv == bv => {
                        let mut at = route.clone();
                        at.push(Component::Key(k.as_str()?.to_string().into()));
                        out.push((at, yamlpatch::Op::Remove));
                    }
                    None => {}
                    Some(_) => return None,
                }
            }
            Some(())
        }
        (Value::Sequence(b), Value::Sequence(m), Value::Sequence(t)) => {
            // Items theirs took out, last first so indexes hold; then
            // what theirs added, at the end.
            let mut gone: Vec<usize> = b
                .iter()
                .filter(|v| !t.contains(v))
                .filter_map(|v| m.iter().position(|x| x == v))
                .collect();
            gone.sort_unstable();
            gone.dedup();
            for i in gone.into_iter().rev() {
                let mut at = route.clone();
                at.push(Component::Index(i));
                out.push((at, yamlpatch::Op::Remove));
            }
            for v in t.iter().filter(|v| !b.contains(v) && !m.contains(v)) {
                out.push((
                    route.clone(),
                    yamlpatch::Op::Append {
                        value: to_patch_value(v)?,
                    },
                ));
            }
            Some(())
        }
        _ if base == mine => {
            out.push((
                route.clone(),
                yamlpatch::Op::Replace(to_patch_value(theirs)?),
            ));
            Some(())
        }
        _ => None,
    }
}

/// Whether `merged` holds every line the person wrote (in `mine`, not in
/// `base`) as they wrote it. The data merge writes YAML anew, so a
/// comment, a quote (`'on'` is text, `on` a boolean to a YAML 1.1 reader),
/// a scalar style or an indentation of theirs would not survive it: then
/// the text conflict, which loses nothing, is the answer. Blank lines do
/// not count.
fn keeps_every_line(base: &str, mine: &str, merged: &str) -> bool {
    use std::collections::HashMap;
    let count = |t: &str| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for l in t
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
        {
            *m.entry(l.to_string()).or_default() += 1;
        }
        m
    };
    let (b, out) = (count(base), count(merged));
    count(mine).into_iter().all(|(line, n)| {
        let written = n.saturating_sub(b.get(&line).copied().unwrap_or(0));
        out.get(&line).copied().unwrap_or(0) >= written
    })
}

/// Three-way merge of two values over their base. `Some(None)`: removed;
/// `None`: a conflict.
fn value(
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
) -> Option<Option<Value>> {
    if mine == theirs {
        return Some(mine.cloned());
    }
    if base == mine {
        return Some(theirs.cloned());
    }
    if base == theirs {
        return Some(mine.cloned());
    }
    match (mine, theirs) {
        (Some(Value::Mapping(m)), Some(Value::Mapping(t))) => {
            let empty = Mapping::new();
            let b = match base {
                Some(Value::Mapping(b)) => b,
                _ => &empty,
            };
            mapping(b, m, t).map(|m| Some(Value::Mapping(m)))
        }
        (Some(Value::Sequence(m)), Some(Value::Sequence(t))) => {
            let empty = Vec::new();
            let b = match base {
                Some(Value::Sequence(b)) => b,
                _ => &empty,
            };
            sequence(b, m, t).map(|s| Some(Value::Sequence(s)))
        }
        _ => None,
    }
}

/// Key by key, in the person's order, then theirs' new keys in their order.
fn mapping(base: &Mapping, mine: &Mapping, theirs: &Mapping) -> Option<Mapping> {
    let mut out = Mapping::new();
    let keys = mine
        .keys()
        .chain(theirs.keys().filter(|k| !mine.contains_key(*k)))
        .chain(
            base.keys()
                .filter(|k| !mine.contains_key(*k) && !theirs.contains_key(*k)),
        );
    for k in keys {
        if let Some(v) = value(base.get(k), mine.get(k), theirs.get(k))? {
            out.insert(k.clone(), v);
        }
    }
    Some(out)
}

/// Lists of named things (`name`, `job_name`, `id`) merge item by item;
/// lists of plain values merge as sets (the person's order, then theirs'
/// additions, without what either side removed).
fn sequence(base: &[Value], mine: &[Value], theirs: &[Value]) -> Option<Vec<Value>> {
    if let Some(key) = identity(base, mine, theirs) {
        let id = |v: &Value| v.get(key).cloned();
        let find =
            |list: &[Value], k: &Value| list.iter().find(|v| id(v).as_ref() == Some(k)).cloned();
        let mut ids: Vec<Value> = Vec::new();
        for v in mine.iter().chain(theirs).chain(base) {
            if let Some(k) = id(v)
                && !ids.contains(&k)
            {
                ids.push(k);
            }
        }
        let mut out = Vec::new();
        for k in ids {
            let (b, m, t) = (find(base, &k), find(mine, &k), find(theirs, &k));
            if let Some(v) = value(b.as_ref(), m.as_ref(), t.as_ref())? {
                out.push(v);
            }
        }
        return Some(out);
    }
    let scalar = |v: &Value| !matches!(v, Value::Mapping(_) | Value::Sequence(_));
    if !mine.iter().chain(theirs).chain(base).all(scalar) {
        return None;
    }
    let removed = |v: &Value| base.contains(v) && (!mine.contains(v) || !theirs.contains(v));
    let mut out: Vec<Value> = Vec::new();
    for v in mine.iter().chain(theirs) {
        if !removed(v) && !out.contains(v) {
            out.push(v.clone());
        }
    }
    Some(out)
}

/// The key every item of all three lists has, if any.
fn identity(base: &[Value], mine: &[Value], theirs: &[Value]) -> Option<&'static str> {
    ["name", "job_name", "id"].into_iter().find(|key| {
        let all: Vec<&Value> = base.iter().chain(mine).chain(theirs).collect();
        !all.is_empty()
            && all
                .iter()
                .all(|v| v.get(*key).is_some_and(|k| !k.is_mapping()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(m: Merged) -> String {
        match m {
            Merged::Clean { text, .. } => text,
            Merged::Conflict { text, .. } => panic!("conflict:\n{text}"),
        }
    }

    #[test]
    fn one_side_changed_takes_that_side() {
        assert_eq!(clean(merge("a\n", "a\n", "b\n", false)), "b\n");
        assert_eq!(clean(merge("a\n", "b\n", "a\n", false)), "b\n");
        assert_eq!(clean(merge("a\n", "b\n", "b\n", false)), "b\n");
    }

    #[test]
    fn text_edits_in_different_places_both_survive() {
        let base = "one\ntwo\nthree\nfour\nfive\n";
        let mine = "one\nTWO\nthree\nfour\nfive\n";
        let theirs = "one\ntwo\nthree\nfour\nFIVE\n";
        assert_eq!(
            clean(merge(base, mine, theirs, false)),
            "one\nTWO\nthree\nfour\nFIVE\n"
        );
    }

    #[test]
    fn the_same_line_changed_twice_is_a_conflict_with_its_line() {
        let m = merge("a\nb\nc\n", "a\nmine\nc\n", "a\ntheirs\nc\n", false);
        let Merged::Conflict { text, hunks } = m else {
            panic!("{m:?}")
        };
        assert_eq!(hunks, vec![2]);
        assert!(has_markers(&text));
        assert!(
            text.contains(
                "<<<<<<< ours\nmine\n||||||| original\nb\n=======\ntheirs\n>>>>>>> theirs\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn compose_services_added_on_both_sides_merge_as_data() {
        let base = "services:\n  app:\n    image: app:1\n";
        // The person adds a service at the end; the catalog adds a
        // healthcheck to app and a new service, also at the end.
        let mine = "services:\n  app:\n    image: app:1\n    environment:\n      MINE: '1'\n  worker:\n    image: worker:1\n";
        let theirs = "services:\n  app:\n    image: app:1\n    healthcheck:\n      test: [CMD, true]\n  redis:\n    image: redis:7\n";
        let m = merge(base, mine, theirs, true);
        let Merged::Clean { text, as_data } = m else {
            panic!("{m:?}")
        };
        assert!(as_data);
        let v: Value = serde_yaml::from_str(&text).unwrap();
        let app = &v["services"]["app"];
        assert_eq!(app["environment"]["MINE"], "1");
        assert!(app.get("healthcheck").is_some());
        assert!(v["services"].get("worker").is_some());
        assert!(v["services"].get("redis").is_some());
    }

    #[test]
    fn a_value_both_sides_changed_differently_is_a_conflict() {
        let base = "services:\n  app:\n    image: app:1\n";
        let m = merge(
            base,
            "services:\n  app:\n    image: app:2\n",
            "services:\n  app:\n    image: app:3\n",
            true,
        );
        assert!(matches!(m, Merged::Conflict { .. }), "{m:?}");
    }

    #[test]
    fn prometheus_jobs_merge_by_job_name_in_either_style() {
        // As the data merge writes YAML, and as
        // templates/monitoring/prometheus.yml.hbs does (indented sequences,
        // flow lists): the person's job and the catalog's both land, every
        // line of the person's as it was written.
        let styles = [
            (
                "scrape_configs:\n- job_name: app\n  static_configs:\n  - targets:\n    - app:8000\n",
                "scrape_configs:\n- job_name: app\n  static_configs:\n  - targets:\n    - app:8000\n  scrape_interval: 5s\n- job_name: mine\n  static_configs:\n  - targets:\n    - x:1\n",
                "scrape_configs:\n- job_name: app\n  static_configs:\n  - targets:\n    - app:8000\n- job_name: redis\n  static_configs:\n  - targets:\n    - redis-exporter:9121\n",
            ),
            (
                "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [\"app:8000\"]\n",
                "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [\"app:8000\"]\n    scrape_interval: 5s # faster\n  - job_name: mine\n    static_configs:\n      - targets: [\"x:1\"]\n",
                "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [\"app:8000\"]\n  - job_name: redis\n    static_configs:\n      - targets: [\"redis-exporter:9121\"]\n",
            ),
        ];
        for (base, mine, theirs) in styles {
            let v = merged_as_data_keeping_every_line(base, mine, theirs);
            let jobs: Vec<&str> = v["scrape_configs"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|j| j["job_name"].as_str().unwrap())
                .collect();
            assert_eq!(jobs, ["app", "mine", "redis"]);
            assert_eq!(v["scrape_configs"][0]["scrape_interval"], "5s");
        }
    }

    #[test]
    fn a_persons_comment_is_never_dropped_by_the_data_merge() {
        let base = "services:\n  app:\n    image: app:1\n";
        let mine =
            "services:\n  app:\n    image: app:1\n  # our worker\n  worker:\n    image: w:1\n";
        let theirs = "services:\n  app:\n    image: app:1\n  redis:\n    image: redis:7\n";
        // By lines both add at the same place; as data, in the person's
        // own text, the comment stays where it was.
        let m = merge(base, mine, theirs, true);
        let Merged::Clean {
            text,
            as_data: true,
        } = m
        else {
            panic!("{m:?}")
        };
        assert_eq!(
            text,
            "services:\n  app:\n    image: app:1\n  # our worker\n  worker:\n    image: w:1\n  redis:\n    image: redis:7\n"
        );
    }

    /// The data merge's result, which must hold every line of `mine` as written.
    fn merged_as_data_keeping_every_line(base: &str, mine: &str, theirs: &str) -> Value {
        let m = merge(base, mine, theirs, true);
        let Merged::Clean {
            text,
            as_data: true,
        } = &m
        else {
            panic!("{m:?}")
        };
        for line in mine.lines() {
            assert!(text.lines().any(|l| l == line), "{line:?} lost:\n{text}");
        }
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn a_persons_quotes_and_inline_comments_are_never_rewritten() {
        let base = "services:\n  app:\n    image: app:1\n    environment:\n      A: '1'\n";
        let theirs = "services:\n  app:\n    image: app:1\n    environment:\n      A: '1'\n      REDIS_URL: redis://redis\n  redis:\n    image: redis:7\n";
        for mine in [
            // `on` unquoted is a boolean to PyYAML, Ansible and yamllint.
            "services:\n  app:\n    image: app:1\n    environment:\n      A: '1'\n      MY_FLAG: 'on'\n",
            "services:\n  app:\n    image: app:1 # pinned by us\n    environment:\n      A: '1'\n      MY_FLAG: \"x\"\n",
        ] {
            let v = merged_as_data_keeping_every_line(base, mine, theirs);
            assert_eq!(v["services"]["redis"]["image"], "redis:7");
        }
    }

    #[test]
    fn plain_lists_merge_as_sets() {
        let base = "ports:\n- a\n- b\n";
        let mine = "ports:\n- a\n- b\n- mine\n";
        let theirs = "ports:\n- b\n- theirs\n";
        let v: Value = serde_yaml::from_str(&clean(merge(base, mine, theirs, true))).unwrap();
        assert_eq!(
            v["ports"],
            serde_yaml::from_str::<Value>("[b, mine, theirs]").unwrap()
        );
    }
}
