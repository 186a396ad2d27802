//! Making a project: its name, a plan with secrets and free host ports,
//! and its files on disk. What `new`, `demo` and `add`/`update` share.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

use crate::catalog::Catalog;
use crate::engine::ports::HostPorts;
use crate::generate::{self, write};
use crate::plan::{self, Answers, Plan};

/// The project's name: its directory's.
pub fn project_name(path: &Path) -> Result<String> {
    let abs =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the project path has no name; give a directory such as ./myapp")?;
    plan::check_project_name(&name)?;
    Ok(name)
}

/// Resolves the picks into a plan. `keep_secrets`: the project's `.env`
/// keeps its values (its volumes were made with them); new ones are random.
/// Ports not yet recorded are chosen free on this machine.
pub fn plan(
    catalog: &Catalog,
    project: &str,
    answers: &Answers,
    target: &Path,
    keep_secrets: bool,
    ports: &HostPorts,
) -> Result<Plan> {
    let existing = if keep_secrets {
        super::state::secrets(target)?
    } else {
        BTreeMap::new()
    };
    let plan = plan::resolve_on(
        catalog,
        project,
        answers,
        |name| existing.get(name).cloned().unwrap_or_else(random_secret),
        &|p| ports.is_free(p),
    )?;
    Ok(plan)
}

/// Renders and writes a resolved plan (for `demo`, which settles its own
/// picks); `replace` writes over a project `demo` made itself.
pub fn create(catalog: &Catalog, plan: &Plan, path: &Path, replace: bool) -> Result<()> {
    let files = super::state::with_base(generate::files(catalog, plan, path)?);
    write::write(path, &files, replace)?;
    Ok(())
}

/// 32 characters from the OS's random source, letters and digits only so
/// they need no quoting in URLs, YAML or shells.
pub fn random_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut buf = [0u8; 64];
        getrandom::fill(&mut buf).expect("the OS random source works");
        // 248 = 4 * 62: drop bytes above it so every character is equally likely.
        out.extend(
            buf.iter()
                .filter(|b| **b < 248)
                .map(|b| ALPHABET[(*b % 62) as usize] as char)
                .take(32 - out.len()),
        );
    }
    out
}
