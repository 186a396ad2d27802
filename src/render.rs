//! Handlebars in strict mode with no HTML escaping: a template that reads a
//! value the context does not have is an error, never an empty string.

use handlebars::Handlebars;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name} is malformed: {message}")]
    Parse { name: String, message: String },
    #[error("template {name} failed to render: {message}")]
    Render { name: String, message: String },
}

pub struct Renderer<'a> {
    sources: &'a std::collections::BTreeMap<String, String>,
    /// Partials are compiled when a render first needs one: an app's
    /// per-service partials under a false `{{#if has.X}}` never are.
    /// Compiling is about half of `new`'s time (perf: a fifth of that is
    /// pest's `Position::line_col`, which scans from the template's start
    /// for every element), so what is never rendered is never compiled.
    registry: std::cell::RefCell<Handlebars<'a>>,
}

impl<'a> Renderer<'a> {
    /// Compiles the named templates (only those the plan uses, to keep `new`
    /// fast) and checks the partials they include, transitively: each must
    /// exist, and a partial that includes itself, directly or through
    /// others, is an error (Handlebars would recurse until the stack
    /// overflows).
    pub fn new<'n>(
        sources: &'a std::collections::BTreeMap<String, String>,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Result<Self, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("ident", Box::new(ident));
        let renderer = Renderer {
            sources,
            registry: std::cell::RefCell::new(registry),
        };
        let names: Vec<String> = names.into_iter().map(String::from).collect();
        let mut queue = names.clone();
        let mut includes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        while let Some(name) = queue.pop() {
            if includes.contains_key(&name) {
                continue;
            }
            let partials = partials(renderer.source(&name)?);
            queue.extend(partials.iter().cloned());
            includes.insert(name, partials);
        }
        if let Some(cycle) = find_cycle(&includes) {
            return Err(RenderError::Parse {
                name: cycle[0].clone(),
                message: format!(
                    "it includes itself ({}); a partial cannot include itself, directly or through others",
                    cycle.join(" -> ")
                ),
            });
        }
        for name in &names {
            renderer.compile(name)?;
        }
        Ok(renderer)
    }

    fn source(&self, name: &str) -> Result<&'a String, RenderError> {
        self.sources.get(name).ok_or_else(|| RenderError::Parse {
            name: name.to_string(),
            message: "no such template".into(),
        })
    }

    fn compile(&self, name: &str) -> Result<(), RenderError> {
        let mut registry = self.registry.borrow_mut();
        if registry.has_template(name) {
            return Ok(());
        }
        registry
            .register_template_string(name, self.source(name)?)
            .map_err(|e| RenderError::Parse {
                name: name.to_string(),
                message: e.to_string(),
            })
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, RenderError> {
        loop {
            let result = self.registry.borrow().render(name, context);
            let error = match result {
                Ok(text) => return Ok(text),
                Err(e) => e,
            };
            // A partial not compiled yet (new checked it exists): compile it, render again.
            if let handlebars::RenderErrorReason::PartialNotFound(partial) = error.reason()
                && self.sources.contains_key(partial)
                && !self.registry.borrow().has_template(partial)
            {
                self.compile(partial)?;
                continue;
            }
            return Err(RenderError::Render {
                name: name.into(),
                message: error.to_string(),
            });
        }
    }
}

/// The partials a template includes (`{{> name}}`, `{{#> name}}`).
fn partials(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["{{>", "{{#>", "{{~>", "{{~#>"] {
        for (i, _) in source.match_indices(marker) {
            let name: String = source[i + marker.len()..]
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '}' && *c != '~')
                .collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// A path that comes back to where it started, if the includes have one.
fn find_cycle(includes: &std::collections::BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        includes: &std::collections::BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in includes.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, includes, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = Default::default();
    includes
        .keys()
        .find_map(|k| visit(k, includes, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn strict_mode_rejects_a_missing_value() {
        let mut sources = BTreeMap::new();
        sources.insert("t".to_string(), "hello {{name}} <{{missing}}>".to_string());
        let r = Renderer::new(&sources, ["t"]).unwrap();
        let err = r
            .render("t", &serde_json::json!({"name": "x"}))
            .unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn nothing_is_html_escaped() {
        let mut sources = BTreeMap::new();
        sources.insert("t".to_string(), "{{v}}".to_string());
        let r = Renderer::new(&sources, ["t"]).unwrap();
        let out = r
            .render("t", &serde_json::json!({"v": "a<b & \"c\""}))
            .unwrap();
        assert_eq!(out, "a<b & \"c\"");
    }
}

// `{{ident name}}`: a name as an identifier (`my-svc` -> `my_svc`), for
// languages whose names cannot hold a dash (CFEngine classes, e.g.).
handlebars::handlebars_helper!(ident: |s: String| {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>()
});
