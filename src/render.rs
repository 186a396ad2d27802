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
    /// Compiling was most of `new`'s time, so: plain text is hoisted out
    /// of each template first (`hoist_text`); only what a render will use
    /// is compiled (the named templates, and the partials their
    /// `{{#if C}}{{> P}}{{/if}}` guards let through for this context: an
    /// app's per-service partials under a false `{{#if has.X}}` never
    /// are); and compiles run on every core. A partial the guess missed
    /// is compiled when a render asks for it.
    registry: std::cell::RefCell<Handlebars<'a>>,
    /// The data every render reads, converted once (Handlebars would copy
    /// the whole value for each render otherwise).
    context: handlebars::Context,
    /// How many text helpers `hoist_text` has made so far.
    texts: std::cell::Cell<usize>,
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
        context: &Value,
    ) -> Result<Self, RenderError> {
        let renderer = Renderer {
            sources,
            registry: std::cell::RefCell::new(new_registry()),
            context: handlebars::Context::from(context.clone()),
            texts: Default::default(),
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
        // The named templates, then the partials this context includes.
        let mut wanted: Vec<&str> = Vec::new();
        let mut next: Vec<&str> = names.iter().map(String::as_str).collect();
        while let Some(name) = next.pop() {
            if wanted.contains(&name) {
                continue;
            }
            wanted.push(name);
            for (guard, partial) in guarded_partials(renderer.source(name)?) {
                if guard.is_none_or(|path| truthy(context, path))
                    && let Some((key, _)) = sources.get_key_value(partial)
                {
                    next.push(key);
                }
            }
        }
        let jobs: Vec<(String, &str)> = wanted
            .iter()
            .map(|name| Ok((name.to_string(), renderer.source(name)?.as_str())))
            .collect::<Result<_, RenderError>>()?;
        renderer.compile_all(&jobs)?;
        Ok(renderer)
    }

    /// Compiles (name, source) pairs on every core (each is independent).
    fn compile_all(&self, sources: &[(String, &str)]) -> Result<(), RenderError> {
        // Plain text hoisted out first (see `hoist_text`), each run a helper.
        let mut next_text = self.texts.get();
        let hoisted: Vec<(&String, &str, String, Vec<String>, usize)> = sources
            .iter()
            .map(|(name, src)| {
                let first = next_text;
                let (template, texts) = hoist_text(src, first);
                next_text += texts.len();
                (name, *src, template, texts, first)
            })
            .collect();
        self.texts.set(next_text);
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 8);
        let chunk = hoisted.len().div_ceil(workers).max(1);
        let compiled: Vec<Result<handlebars::Template, _>> = std::thread::scope(|s| {
            let jobs: Vec<_> = hoisted
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(name, _, template, ..)| {
                                handlebars::Template::compile_with_name(template, name.to_string())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            jobs.into_iter()
                .flat_map(|j| j.join().expect("a compile thread panicked"))
                .collect()
        });
        let mut registry = self.registry.borrow_mut();
        for ((name, source, _, texts, first), template) in hoisted.into_iter().zip(compiled) {
            let template = match template {
                Ok(t) => {
                    for (i, text) in texts.into_iter().enumerate() {
                        registry.register_helper(&text_helper(first + i), Box::new(Text(text)));
                    }
                    t
                }
                // The source as written, for the error's own line numbers
                // (or the template itself, should only the hoisted one fail).
                Err(_) => handlebars::Template::compile_with_name(source, name.to_string())
                    .map_err(|e| RenderError::Parse {
                        name: name.to_string(),
                        message: e.to_string(),
                    })?,
            };
            registry.register_template(name, template);
        }
        Ok(())
    }

    fn source(&self, name: &str) -> Result<&'a String, RenderError> {
        self.sources.get(name).ok_or_else(|| RenderError::Parse {
            name: name.to_string(),
            message: "no such template".into(),
        })
    }

    /// Renders a named template with the context given to `new`.
    pub fn render(&self, name: &str) -> Result<String, RenderError> {
        self.render_with(&self.registry, name, true)
            .map_err(|hoisted| {
                // Hoisted text moves lines, so an error's line numbers would
                // not be the author's: render again from the sources as
                // written, for the error they give.
                let plain = std::cell::RefCell::new(new_registry());
                match self.render_with(&plain, name, false) {
                    Err(as_written) => as_written,
                    Ok(_) => hoisted,
                }
            })
    }

    /// Renders with `registry`, compiling any template or partial it does
    /// not have yet (`new` checked they exist) and rendering again.
    fn render_with(
        &self,
        registry: &std::cell::RefCell<Handlebars<'a>>,
        name: &str,
        hoist: bool,
    ) -> Result<String, RenderError> {
        loop {
            let result = registry.borrow().render_with_context(name, &self.context);
            let error = match result {
                Ok(text) => return Ok(text),
                Err(e) => e,
            };
            let missing = match error.reason() {
                handlebars::RenderErrorReason::PartialNotFound(p)
                | handlebars::RenderErrorReason::TemplateNotFound(p) => Some(p.clone()),
                _ => None,
            };
            if let Some(missing) = missing
                && let Some(source) = self.sources.get(&missing)
                && !registry.borrow().has_template(&missing)
            {
                if hoist {
                    self.compile_all(&[(missing, source.as_str())])?;
                } else {
                    registry
                        .borrow_mut()
                        .register_template_string(&missing, source)
                        .map_err(|e| RenderError::Parse {
                            name: missing.clone(),
                            message: e.to_string(),
                        })?;
                }
                continue;
            }
            return Err(RenderError::Render {
                name: name.into(),
                message: error.to_string(),
            });
        }
    }
}

/// Strict (a missing value is an error), no HTML escaping, and the
/// `ident` and `quote` helpers.
fn new_registry<'a>() -> Handlebars<'a> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    registry.register_helper("ident", Box::new(ident));
    registry.register_helper("quote", Box::new(quote));
    registry
}

/// Compiling costs about half a microsecond per byte, text or not
/// (pest's Handlebars grammar scans plain text a character at a time), so
/// each run of whole lines with no `{{` (80 bytes or more) leaves the
/// template for a helper that writes it: the run "A\nB\n" becomes the line
/// `{{__text_N}}` and the helper writes "A\nB", the line's own newline
/// giving the last one back. Lines around stay whole lines, so what
/// Handlebars strips around standalone tags is the same; a run next to
/// a `~` (which trims across text) stays as it is.
fn hoist_text(source: &str, first: usize) -> (String, Vec<String>) {
    const MIN: usize = 80;
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let mut out = String::with_capacity(source.len());
    let mut texts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        while i < lines.len() && lines[i].ends_with('\n') && !lines[i].contains("{{") {
            i += 1;
        }
        let run: String = lines[start..i].concat();
        let trims_before = start > 0 && lines[start - 1].contains("~}}");
        let trims_after = lines.get(i).is_some_and(|l| l.contains("{{~"));
        if run.len() >= MIN && !trims_before && !trims_after {
            out.push_str(&format!("{{{{{}}}}}\n", text_helper(first + texts.len())));
            texts.push(run[..run.len() - 1].to_string());
        } else {
            out.push_str(&run);
        }
        if i < lines.len() && (start == i || lines[i].contains("{{") || !lines[i].ends_with('\n')) {
            out.push_str(lines[i]);
            i += 1;
        }
    }
    (out, texts)
}

fn text_helper(n: usize) -> String {
    format!("__brickyard_text_{n}")
}

/// Writes one hoisted run of text.
struct Text(String);

impl handlebars::HelperDef for Text {
    fn call<'reg: 'rc, 'rc>(
        &self,
        _: &handlebars::Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc handlebars::Context,
        _: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        out.write(&self.0)?;
        Ok(())
    }
}

/// Each `{{> P}}` on a line of its own with the path of the `{{#if C}}` on
/// the line just before it (None when there is no such guard).
fn guarded_partials(source: &str) -> Vec<(Option<&str>, &str)> {
    let mut out = Vec::new();
    let mut previous = "";
    for line in source.lines().map(str::trim) {
        if let Some(partial) = line
            .strip_prefix("{{>")
            .and_then(|l| l.strip_suffix("}}"))
            .map(str::trim)
        {
            let guard = previous
                .strip_prefix("{{#if ")
                .and_then(|l| l.strip_suffix("}}"))
                .map(str::trim);
            out.push((guard, partial));
        }
        previous = line;
    }
    out
}

/// Whether `{{#if path}}` would take its branch: a plain path
/// (`has.[x-y]`, `notify`) looked up as Handlebars does; anything else
/// (a subexpression) counts as true, so its partial is compiled.
fn truthy(context: &Value, path: &str) -> bool {
    use handlebars::JsonTruthy;
    if path.contains(['(', ' ', '@', '/']) {
        return true;
    }
    path.split('.')
        .map(|seg| seg.trim_start_matches('[').trim_end_matches(']'))
        .try_fold(context, |v, seg| v.get(seg))
        .is_some_and(|v| v.is_truthy(false))
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
        let r = Renderer::new(&sources, ["t"], &serde_json::json!({"name": "x"})).unwrap();
        let err = r.render("t").unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn nothing_is_html_escaped() {
        let mut sources = BTreeMap::new();
        sources.insert("t".to_string(), "{{v}}".to_string());
        let r = Renderer::new(&sources, ["t"], &serde_json::json!({"v": "a<b & \"c\""})).unwrap();
        let out = r.render("t").unwrap();
        assert_eq!(out, "a<b & \"c\"");
    }

    #[test]
    fn an_error_names_the_line_as_written() {
        // Lines 2-4 are long plain text, hoisted into one helper line: the
        // error must still say line 5, where the author wrote the mistake.
        let text = "x".repeat(100);
        let source = format!("top {{{{name}}}}\n{text}\n{text}\n{text}\nbad {{{{missing}}}}\n");
        let mut sources = BTreeMap::new();
        sources.insert("t".to_string(), source);
        let r = Renderer::new(&sources, ["t"], &serde_json::json!({"name": "x"})).unwrap();
        let err = r.render("t").unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn hoisting_keeps_the_text_exactly() {
        let long = "plain text that is long enough to be hoisted out of the template, surely\n";
        let source = format!(
            "{long}{long}{{{{#if on}}}}\n{long}{long}{{{{/if}}}}\nmid {{{{v}}}}\n{long}{long}  {{{{~v}}}}\n{long}{long}no newline at the end"
        );
        let mut sources = BTreeMap::new();
        sources.insert("t".to_string(), source.clone());
        let context = serde_json::json!({"on": true, "v": "V"});
        let hoisted = Renderer::new(&sources, ["t"], &context)
            .unwrap()
            .render("t")
            .unwrap();
        let mut plain = new_registry();
        plain.register_template_string("t", &source).unwrap();
        assert_eq!(hoisted, plain.render("t", &context).unwrap());
        assert!(!hoisted.contains("__brickyard"), "{hoisted}");
    }
}

// `{{ident name}}`: a name as an identifier (`my-svc` -> `my_svc`), for
// languages whose names cannot hold a dash (CFEngine classes, e.g.).
handlebars::handlebars_helper!(ident: |s: String| {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>()
});

// `{{quote text}}`: a double-quoted string literal (JSON's escapes, which
// Python, JavaScript and YAML read the same way).
handlebars::handlebars_helper!(quote: |s: String| serde_json::Value::String(s).to_string());
