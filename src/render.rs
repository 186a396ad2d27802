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
    registry: Handlebars<'a>,
}

impl<'a> Renderer<'a> {
    /// Registers the named templates (only those the plan uses, to keep `new` fast).
    pub fn new<'n>(
        sources: &'a std::collections::BTreeMap<String, String>,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Result<Self, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        for name in names {
            if registry.has_template(name) {
                continue;
            }
            let source = sources.get(name).ok_or_else(|| RenderError::Parse {
                name: name.into(),
                message: "no such template".into(),
            })?;
            registry
                .register_template_string(name, source)
                .map_err(|e| RenderError::Parse {
                    name: name.into(),
                    message: e.to_string(),
                })?;
        }
        Ok(Renderer { registry })
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, RenderError> {
        self.registry
            .render(name, context)
            .map_err(|e| RenderError::Render {
                name: name.into(),
                message: e.to_string(),
            })
    }
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
