//! `brickyard catalog list|show`.

use anyhow::{Context, Result};
use serde_json::json;

use crate::catalog::{Catalog, Theme};
use crate::ui::Ui;

pub fn list(ui: Ui, catalog: &Catalog, theme: Option<&str>, json_out: bool) -> Result<()> {
    let theme = theme
        .map(|t| {
            Theme::parse(t).with_context(|| {
                format!(
                    "unknown theme `{t}`; themes are: {}",
                    Theme::ALL.map(Theme::id).join(", ")
                )
            })
        })
        .transpose()?;
    let entries: Vec<_> = catalog
        .entries()
        .filter(|e| theme.is_none_or(|t| e.theme == t))
        .collect();
    if json_out {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "theme": e.theme, "name": e.name, "description": e.description,
                    "default": e.default,
                    "services": e.services.keys().collect::<Vec<_>>(),
                })
            })
            .collect();
        ui.data(serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for t in Theme::ALL
        .into_iter()
        .filter(|t| theme.is_none_or(|x| x == *t))
    {
        ui.data(ui.bold(&format!("{} ({})", t.question(), t.id())));
        for e in entries.iter().filter(|e| e.theme == t) {
            let mark = if e.default { "*" } else { " " };
            ui.data(format!("  {mark} {:<20} {}", e.id, e.description));
        }
    }
    if theme.is_none() {
        ui.data(ui.bold("Presets (--preset)"));
        for p in catalog.presets() {
            ui.data(format!("    {:<20} {}", p.id, p.description));
        }
    }
    ui.status(ui.dim("* = default with --yes; every theme also takes `none`"));
    Ok(())
}

pub fn show(ui: Ui, catalog: &Catalog, id: &str) -> Result<()> {
    let entry = catalog.get(id).with_context(|| {
        let hint = catalog
            .closest(None, id)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        format!("unknown tool `{id}`{hint}\n  see the choices: brickyard catalog list")
    })?;
    ui.data(serde_yaml::to_string(entry)?);
    Ok(())
}
