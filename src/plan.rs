//! Selection + catalog -> Plan.
//!
//! Answers come from flags, an answers file, a preset, defaults or prompts;
//! resolving them against the catalog gives a Plan with nothing optional left:
//! every pick checked, every conflict explained, every port and secret decided.
//! Everything here is pure: no terminal, no disk.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CiNotify, Entry, PortSpec, ServiceFragment, Theme};

/// The picks, as written in `brickyard.yaml`, a preset, or given by flags.
/// A theme left out is unsettled; `none` settles it with no tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Answers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_mgmt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mocks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<Vec<String>>,
    /// Host ports by `service:container-port`; every assigned port is recorded
    /// here so that `--answers` reproduces the project exactly.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, u16>,
}

impl Answers {
    /// The picks of one theme, `None` when unsettled.
    pub fn get(&self, theme: Theme) -> Option<Vec<String>> {
        let one = |v: &Option<String>| v.as_ref().map(|s| vec![s.clone()]);
        match theme {
            Theme::Ci => one(&self.ci),
            Theme::Vcs => one(&self.vcs),
            Theme::ConfigMgmt => one(&self.config_mgmt),
            Theme::Monitoring => one(&self.monitoring),
            Theme::Containers => one(&self.containers),
            Theme::App => one(&self.app),
            Theme::Mocks => one(&self.mocks),
            Theme::Services => self.services.clone(),
            Theme::Tests => self.tests.clone(),
            Theme::Chat => self.chat.clone(),
            Theme::Machine => self.machine.clone(),
        }
    }

    /// Settles a theme. `none` (or an empty list) means no tool.
    pub fn set(&mut self, theme: Theme, picks: Vec<String>) {
        let first = || picks.first().cloned().or(Some("none".into()));
        let many = || Some(picks.iter().filter(|p| *p != "none").cloned().collect());
        match theme {
            Theme::Ci => self.ci = first(),
            Theme::Vcs => self.vcs = first(),
            Theme::ConfigMgmt => self.config_mgmt = first(),
            Theme::Monitoring => self.monitoring = first(),
            Theme::Containers => self.containers = first(),
            Theme::App => self.app = first(),
            Theme::Mocks => self.mocks = first(),
            Theme::Services => self.services = many(),
            Theme::Tests => self.tests = many(),
            Theme::Chat => self.chat = many(),
            Theme::Machine => self.machine = many(),
        }
    }

    /// Makes a theme unsettled again.
    pub fn set_unsettled(&mut self, theme: Theme) {
        match theme {
            Theme::Ci => self.ci = None,
            Theme::Vcs => self.vcs = None,
            Theme::ConfigMgmt => self.config_mgmt = None,
            Theme::Monitoring => self.monitoring = None,
            Theme::Containers => self.containers = None,
            Theme::App => self.app = None,
            Theme::Mocks => self.mocks = None,
            Theme::Services => self.services = None,
            Theme::Tests => self.tests = None,
            Theme::Chat => self.chat = None,
            Theme::Machine => self.machine = None,
        }
    }

    /// Fills what this one leaves unsettled from `lower` (flags over answers over preset).
    pub fn or(mut self, lower: &Answers) -> Answers {
        for theme in Theme::ALL {
            if self.get(theme).is_none()
                && let Some(p) = lower.get(theme)
            {
                self.set(theme, p);
            }
        }
        if self.project.is_none() {
            self.project = lower.project.clone();
        }
        for (k, v) in &lower.ports {
            self.ports.entry(k.clone()).or_insert(*v);
        }
        self
    }

    pub fn unsettled(&self) -> Vec<Theme> {
        Theme::ALL
            .into_iter()
            .filter(|t| self.get(*t).is_none())
            .collect()
    }

    pub fn all_ids(&self) -> Vec<&str> {
        [
            &self.ci,
            &self.vcs,
            &self.config_mgmt,
            &self.monitoring,
            &self.containers,
            &self.app,
            &self.mocks,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(
            [&self.services, &self.tests, &self.chat, &self.machine]
                .into_iter()
                .flatten()
                .flatten()
                .map(String::as_str),
        )
        .collect()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error(
        "unknown {theme} `{id}`{hint}\n  see the choices: brickyard catalog list --theme {theme}"
    )]
    Unknown {
        theme: Theme,
        id: String,
        hint: String,
    },
    #[error("`{id}` is a {actual} tool, not {theme}; pass it as --{actual} {id}")]
    WrongTheme {
        theme: Theme,
        actual: Theme,
        id: String,
    },
    #[error("{theme} takes one pick, got {picks}; choose one of them")]
    TooMany { theme: Theme, picks: String },
    #[error("{name} needs one of {options}: {reason}\n  pick one, e.g. --{theme} {first}")]
    Missing {
        name: String,
        options: String,
        reason: String,
        theme: Theme,
        first: String,
    },
    #[error("{a} and {b} cannot be picked together: {reason}")]
    Conflict {
        a: String,
        b: String,
        reason: String,
    },
    #[error("{a} and {b} both define the compose service `{service}`; drop one of them")]
    ServiceClash {
        a: String,
        b: String,
        service: String,
    },
    #[error("{message}")]
    Ports { message: String },
    #[error("project name `{name}` is not usable: {why}")]
    ProjectName { name: String, why: String },
}

/// A compose service with everything decided.
#[derive(Debug, Clone)]
pub struct PlannedService {
    pub name: String,
    /// The catalog entry that contributed it.
    pub from: String,
    pub fragment: ServiceFragment,
    /// (spec, host port) in the fragment's order.
    pub ports: Vec<(PortSpec, u16)>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    /// The settled picks, with every port recorded: what brickyard.yaml holds.
    pub answers: Answers,
    /// Picked entries in theme order, services in the order given.
    pub entries: Vec<Entry>,
    pub services: Vec<PlannedService>,
    pub secrets: BTreeMap<String, String>,
    /// Keys of hosted services, by name: where the person finds each.
    pub hosted_keys: BTreeMap<String, String>,
    /// Facts of this machine `.env` carries, by name: the group that owns
    /// a host mount's source, for a service that joins it.
    pub machine: BTreeMap<String, MachineFact>,
    /// Things a person should know about how the plan was reached.
    pub notes: Vec<String>,
}

/// A value read from this machine when the project is made.
#[derive(Debug, Clone)]
pub struct MachineFact {
    /// Empty when the machine does not have it (yet).
    pub value: String,
    /// What it is, for the comment above it in `.env`.
    pub what: String,
}

impl Plan {
    pub fn has(&self, id: &str) -> bool {
        self.entries.iter().any(|e| e.id == id)
    }

    pub fn service(&self, name: &str) -> Option<&PlannedService> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The picked chat that takes CI results, and how it is wired.
    pub fn ci_notify(&self) -> Option<(&Entry, &CiNotify)> {
        self.entries
            .iter()
            .find_map(|e| e.wires.ci_notify.as_ref().map(|n| (e, n)))
    }
}

/// A compose project name: lowercase letters, digits, dashes, underscores.
pub fn check_project_name(name: &str) -> Result<(), PlanError> {
    let bad = |why: &str| PlanError::ProjectName {
        name: name.into(),
        why: why.into(),
    };
    let first = name.chars().next().ok_or_else(|| bad("it is empty"))?;
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) || !name.chars().all(allowed) {
        return Err(bad(&format!(
            "Docker Compose project names are lowercase letters, digits, `-` and `_`, starting with a letter or digit (e.g. `{}`)",
            suggest_project_name(name)
        )));
    }
    Ok(())
}

pub fn suggest_project_name(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "app".into() } else { s }
}

/// Resolves settled answers against the catalog. `secret` makes each secret
/// value; callers pass a random source (tests pass a fixed one).
pub fn resolve(
    catalog: &Catalog,
    project: &str,
    answers: &Answers,
    secret: impl FnMut(&str) -> String,
) -> Result<Plan, PlanError> {
    resolve_on(catalog, project, answers, secret, &|_| true)
}

/// `resolve`, giving a port not yet recorded only if `port_free` says the
/// machine has it free (recorded ports stay as they are).
pub fn resolve_on(
    catalog: &Catalog,
    project: &str,
    answers: &Answers,
    mut secret: impl FnMut(&str) -> String,
    port_free: &dyn Fn(u16) -> bool,
) -> Result<Plan, PlanError> {
    check_project_name(project)?;
    let (picked, mut notes) = check_rules(catalog, answers, Partial::No)?;

    let services = plan_services(&picked, answers, port_free)?;
    let mut machine = BTreeMap::new();
    for svc in &services {
        for mount in &svc.fragment.host_mounts {
            notes.push(format!(
                "{} mounts {} from your machine: {}",
                svc.name, mount.source, mount.reason
            ));
            if let Some(var) = &mount.group_var {
                let fact = group_of(&mount.source, &svc.name);
                if fact.value.is_empty() {
                    notes.push(format!(
                        "{} joins the group that owns {}, which this machine does not have yet: once it does, set {var} in .env to its group (stat -c %g {})",
                        svc.name, mount.source, mount.source
                    ));
                }
                machine.insert(var.clone(), fact);
            }
        }
        if !svc.fragment.profiles.is_empty() {
            let flags: Vec<String> = svc
                .fragment
                .profiles
                .iter()
                .map(|p| format!("`brickyard up --profile {p}`"))
                .collect();
            notes.push(format!(
                "{} starts only on demand: {}",
                svc.name,
                join_or(flags.iter().map(String::as_str))
            ));
        }
    }

    let mut secrets = BTreeMap::new();
    let mut hosted_keys = BTreeMap::new();
    for entry in &picked {
        for name in &entry.secrets {
            secrets.entry(name.clone()).or_insert_with(|| secret(name));
        }
        for key in &entry.hosted_keys {
            hosted_keys.insert(key.name.clone(), key.from.clone());
            notes.push(format!(
                "{} needs {} in .env (empty now): {}",
                entry.name, key.name, key.from
            ));
        }
    }

    let mut settled = answers.clone();
    settled.project = Some(project.to_string());
    settled.ports = services
        .iter()
        .flat_map(|s| {
            s.ports
                .iter()
                .map(move |(spec, host)| (format!("{}:{}", s.name, spec.container), *host))
        })
        .collect();
    Ok(Plan {
        project: project.to_string(),
        answers: settled,
        entries: picked.into_iter().cloned().collect(),
        services,
        secrets,
        hosted_keys,
        machine,
        notes,
    })
}

/// The group that owns `path` here: a Docker socket's `docker` group,
/// whose number differs from machine to machine.
fn group_of(path: &str, service: &str) -> MachineFact {
    use std::os::unix::fs::MetadataExt;
    MachineFact {
        value: std::fs::metadata(path)
            .map(|m| m.gid().to_string())
            .unwrap_or_default(),
        what: format!("The group that owns {path} on this machine; {service} joins it."),
    }
}

/// Whether a rule may wait for themes not yet settled.
#[derive(Clone, Copy, PartialEq)]
pub enum Partial {
    /// Every theme is settled: every rule must hold.
    No,
    /// Some themes are still to be asked: a requirement one of whose
    /// options lies in such a theme may still be met, so it waits.
    Yes,
}

/// The catalog's rules over the picks: each id known and in its theme,
/// implied tools added, every `requires` met and no `conflicts` pair. The
/// picks with what they imply, and notes on what was implied.
pub fn check_rules<'c>(
    catalog: &'c Catalog,
    answers: &Answers,
    partial: Partial,
) -> Result<(Vec<&'c Entry>, Vec<String>), PlanError> {
    let mut notes = Vec::new();
    let mut picked: Vec<&Entry> = Vec::new();
    for theme in Theme::ALL {
        let picks = answers.get(theme).unwrap_or_default();
        let picks: Vec<&String> = picks_iter(&picks).collect();
        if !theme.is_multi() && picks.len() > 1 {
            return Err(PlanError::TooMany {
                theme,
                picks: join_and(picks.iter().map(|s| s.as_str())),
            });
        }
        for id in picks {
            picked.push(lookup(catalog, theme, id)?);
        }
    }

    // Implied entries join the picks, once; an implied single-pick tool
    // cannot displace what the user chose.
    let mut i = 0;
    while i < picked.len() {
        for implied in &picked[i].implies.clone() {
            if picked.iter().any(|e| &e.id == implied) {
                continue;
            }
            let entry = catalog.get(implied).expect("validated at load");
            if !entry.theme.is_multi()
                && let Some(other) = picked.iter().find(|e| e.theme == entry.theme)
            {
                return Err(PlanError::Conflict {
                    a: picked[i].id.clone(),
                    b: other.id.clone(),
                    reason: format!(
                        "{} brings {} along, and {} takes one pick",
                        picked[i].name, entry.name, entry.theme
                    ),
                });
            }
            notes.push(format!("{} brings {} along", picked[i].name, entry.name));
            picked.push(entry);
        }
        i += 1;
    }

    let ids: BTreeSet<&str> = picked.iter().map(|e| e.id.as_str()).collect();
    for entry in &picked {
        for req in &entry.requires {
            let may_wait = partial == Partial::Yes
                && req.one_of.iter().any(|o| {
                    catalog
                        .get(o)
                        .is_some_and(|e| answers.get(e.theme).is_none())
                });
            if !may_wait && !req.one_of.iter().any(|o| ids.contains(o.as_str())) {
                let first = &req.one_of[0];
                let theme = catalog.get(first).expect("validated").theme;
                return Err(PlanError::Missing {
                    name: entry.name.clone(),
                    options: join_or(req.one_of.iter().map(String::as_str)),
                    reason: req.reason.clone(),
                    theme,
                    first: first.clone(),
                });
            }
        }
        for conflict in &entry.conflicts {
            if ids.contains(conflict.id.as_str()) {
                return Err(PlanError::Conflict {
                    a: entry.id.clone(),
                    b: conflict.id.clone(),
                    reason: conflict.reason.clone(),
                });
            }
        }
    }
    needs_a_stack(catalog, answers, &picked)?;
    Ok((picked, notes))
}

/// A tool that runs as a container (it brings compose services; the app
/// aside, which also runs on its own) needs a containers pick that runs the
/// compose file: with `--containers none` nothing would start it. Implicit,
/// so a team's entries need not say it. Waits while containers is unsettled.
fn needs_a_stack(catalog: &Catalog, answers: &Answers, picked: &[&Entry]) -> Result<(), PlanError> {
    if answers.get(Theme::Containers).is_none() || picked.iter().any(|e| e.runs_compose_file) {
        return Ok(());
    }
    let Some(entry) = picked
        .iter()
        .find(|e| e.theme != Theme::App && !e.services.is_empty())
    else {
        return Ok(());
    };
    let runners: Vec<&str> = catalog
        .in_theme(Theme::Containers)
        .filter(|e| e.runs_compose_file)
        .map(|e| e.id.as_str())
        .collect();
    Err(PlanError::Missing {
        name: entry.name.clone(),
        options: join_or(runners.iter().copied()),
        reason: format!(
            "{} runs as a container of the local stack, and without one nothing starts it",
            entry.name
        ),
        theme: Theme::Containers,
        first: runners.first().copied().unwrap_or("compose").to_string(),
    })
}

/// A settled set of picks that includes `id`: the defaults, with `id` picked
/// and its requirements met by their first option. Used to render and
/// validate every catalog entry, not only the presets.
pub fn sample_answers(catalog: &Catalog, id: &str) -> Answers {
    let mut answers = Answers::default();
    for theme in Theme::ALL {
        answers.set(
            theme,
            catalog
                .in_theme(theme)
                .filter(|e| e.default)
                .map(|e| e.id.clone())
                .collect(),
        );
    }
    let Some(entry) = catalog.get(id) else {
        return answers;
    };
    let pick = |answers: &mut Answers, e: &Entry| {
        let mut picks = if e.theme.is_multi() {
            answers.get(e.theme).unwrap_or_default()
        } else {
            Vec::new()
        };
        if !picks.contains(&e.id) {
            picks.push(e.id.clone());
        }
        answers.set(e.theme, picks);
    };
    pick(&mut answers, entry);
    for req in &entry.requires {
        if !req
            .one_of
            .iter()
            .any(|o| answers.all_ids().contains(&o.as_str()))
            && let Some(first) = catalog.get(&req.one_of[0])
        {
            pick(&mut answers, first);
        }
    }
    // Picks the defaults made that now need something else drop to `none`.
    for theme in Theme::ALL {
        if theme == entry.theme {
            continue;
        }
        let others: Vec<String> = answers.get(theme).unwrap_or_default();
        for other in others {
            let Some(e) = catalog.get(&other) else {
                continue;
            };
            let unmet = e.requires.iter().any(|r| {
                !r.one_of
                    .iter()
                    .any(|o| answers.all_ids().contains(&o.as_str()))
            });
            let clash = e.conflicts.iter().any(|c| c.id == entry.id)
                || entry.conflicts.iter().any(|c| c.id == e.id);
            if unmet || clash {
                let kept: Vec<String> = answers
                    .get(theme)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|x| x != &other)
                    .collect();
                answers.set(theme, kept);
            }
        }
    }
    answers
}

/// Makes `app` the answers' app, dropping the picks it rules out (a static
/// site and a database); false when it rules out `keep`, the entry the
/// answers are for. For tests that try every entry with every app.
pub fn set_app(catalog: &Catalog, answers: &mut Answers, keep: &str, app: &str) -> bool {
    let ruled_out: Vec<&str> = catalog
        .get(app)
        .map(|a| a.conflicts.iter().map(|c| c.id.as_str()).collect())
        .unwrap_or_default();
    if ruled_out.contains(&keep) {
        return false;
    }
    answers.set(Theme::App, vec![app.to_string()]);
    for theme in Theme::ALL {
        let picks = answers.get(theme).unwrap_or_default();
        if picks.iter().any(|p| ruled_out.contains(&p.as_str())) {
            let kept = picks
                .into_iter()
                .filter(|p| !ruled_out.contains(&p.as_str()))
                .collect();
            answers.set(theme, kept);
        }
    }
    true
}

fn picks_iter(picks: &[String]) -> impl Iterator<Item = &String> {
    picks.iter().filter(|p| p.as_str() != "none")
}

fn lookup<'c>(catalog: &'c Catalog, theme: Theme, id: &str) -> Result<&'c Entry, PlanError> {
    match catalog.get(id) {
        Some(e) if e.theme == theme => Ok(e),
        Some(e) => Err(PlanError::WrongTheme {
            theme,
            actual: e.theme,
            id: id.into(),
        }),
        None => Err(PlanError::Unknown {
            theme,
            id: id.into(),
            hint: catalog
                .closest(Some(theme), id)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default(),
        }),
    }
}

/// Collects each entry's compose services and gives every published port a
/// host port on 127.0.0.1 that no other service of the project has.
fn plan_services(
    picked: &[&Entry],
    answers: &Answers,
    port_free: &dyn Fn(u16) -> bool,
) -> Result<Vec<PlannedService>, PlanError> {
    // The app first, then what it uses: earlier services get first claim on ports.
    let mut ordered: Vec<&&Entry> = picked.iter().collect();
    ordered.sort_by_key(|e| match e.theme {
        Theme::App => 0,
        Theme::Services => 1,
        _ => 2,
    });
    let mut services: Vec<PlannedService> = Vec::new();
    for entry in ordered {
        for (name, fragment) in &entry.services {
            if let Some(other) = services.iter().find(|s| &s.name == name) {
                return Err(PlanError::ServiceClash {
                    a: other.from.clone(),
                    b: entry.id.clone(),
                    service: name.clone(),
                });
            }
            services.push(PlannedService {
                name: name.clone(),
                from: entry.id.clone(),
                fragment: fragment.clone(),
                ports: Vec::new(),
            });
        }
    }
    // Ports the user fixed (answers file) are taken first, then the rest.
    let mut taken: BTreeMap<u16, String> = BTreeMap::new();
    for svc in &services {
        for spec in &svc.fragment.ports {
            let key = format!("{}:{}", svc.name, spec.container);
            if let Some(&host) = answers.ports.get(&key)
                && let Some(owner) = taken.insert(host, key.clone())
            {
                return Err(PlanError::Ports {
                    message: format!(
                        "host port {host} is given to both {owner} and {key} in `ports`; give each its own"
                    ),
                });
            }
        }
    }
    for svc in &mut services {
        for spec in &svc.fragment.ports {
            let key = format!("{}:{}", svc.name, spec.container);
            let host = match answers.ports.get(&key) {
                Some(&h) => h,
                None => {
                    let mut h = spec.host;
                    while taken.contains_key(&h) || !port_free(h) {
                        h = h.checked_add(1).ok_or_else(|| PlanError::Ports {
                            message: format!("no free host port above {} for {key}", spec.host),
                        })?;
                    }
                    taken.insert(h, key.clone());
                    h
                }
            };
            svc.ports.push((spec.clone(), host));
        }
    }
    Ok(services)
}

fn join_with<'a>(items: impl Iterator<Item = &'a str>, last: &str) -> String {
    let items: Vec<&str> = items.collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

fn join_or<'a>(items: impl Iterator<Item = &'a str>) -> String {
    join_with(items, "or")
}

fn join_and<'a>(items: impl Iterator<Item = &'a str>) -> String {
    join_with(items, "and")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every theme `none` but containers (compose), then `pairs`.
    fn answers(pairs: &[(Theme, &str)]) -> Answers {
        let mut a = Answers::default();
        for theme in Theme::ALL {
            a.set(theme, vec!["none".into()]);
        }
        a.set(Theme::Containers, vec!["compose".into()]);
        for (theme, v) in pairs {
            a.set(*theme, v.split(',').map(String::from).collect());
        }
        a
    }

    fn fixed(name: &str) -> String {
        format!("secret-{name}")
    }

    #[test]
    fn woodpecker_without_a_forge_says_why() {
        let catalog = Catalog::load(&[]).unwrap();
        let err =
            resolve(&catalog, "x", &answers(&[(Theme::Ci, "woodpecker")]), fixed).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("needs one of gitea, github or gitlab"),
            "{text}"
        );
        assert!(text.contains("--vcs gitea"), "{text}");
    }

    #[test]
    fn ports_never_collide_and_are_recorded() {
        let catalog = Catalog::load(&[]).unwrap();
        let a = answers(&[
            (Theme::App, "python"),
            (Theme::Services, "postgres,mysql,redis,rabbitmq,memcached"),
            (Theme::Monitoring, "prometheus-grafana"),
            (Theme::Vcs, "gitea"),
            (Theme::Ci, "woodpecker"),
        ]);
        let plan = resolve(&catalog, "x", &a, fixed).unwrap();
        let hosts: Vec<u16> = plan
            .services
            .iter()
            .flat_map(|s| s.ports.iter().map(|p| p.1))
            .collect();
        let unique: BTreeSet<u16> = hosts.iter().copied().collect();
        assert_eq!(hosts.len(), unique.len(), "{hosts:?}");
        assert_eq!(plan.answers.ports.len(), hosts.len());
    }

    #[test]
    fn a_port_the_machine_uses_is_skipped_but_a_recorded_one_stays() {
        let catalog = Catalog::load(&[]).unwrap();
        let mut answers = Answers {
            services: Some(vec!["redis".into(), "postgres".into()]),
            ..Default::default()
        };
        answers.ports.insert("postgres:5432".into(), 5432);
        // 6379 is in use on the machine; so is 5432, but it is recorded.
        let free = |p: u16| p != 6379 && p != 5432;
        let plan = resolve_on(&catalog, "p", &answers, |_| String::new(), &free).unwrap();
        assert_eq!(plan.service("redis").unwrap().ports[0].1, 6380);
        assert_eq!(plan.service("postgres").unwrap().ports[0].1, 5432);
        assert_eq!(plan.answers.ports["redis:6379"], 6380);
    }

    #[test]
    fn a_fixed_port_is_kept_and_others_move_around_it() {
        let catalog = Catalog::load(&[]).unwrap();
        let mut a = answers(&[(Theme::App, "python"), (Theme::Services, "postgres")]);
        a.ports.insert("app:8000".into(), 5432);
        let plan = resolve(&catalog, "x", &a, fixed).unwrap();
        assert_eq!(plan.service("app").unwrap().ports[0].1, 5432);
        assert_eq!(plan.service("postgres").unwrap().ports[0].1, 5433);
    }

    #[test]
    fn secrets_come_from_the_source() {
        let catalog = Catalog::load(&[]).unwrap();
        let a = answers(&[(Theme::App, "python"), (Theme::Services, "postgres")]);
        let plan = resolve(&catalog, "x", &a, fixed).unwrap();
        assert_eq!(
            plan.secrets["POSTGRES_PASSWORD"],
            "secret-POSTGRES_PASSWORD"
        );
    }

    #[test]
    fn project_names_follow_compose() {
        assert!(check_project_name("my-app_2").is_ok());
        let err = check_project_name("My App").unwrap_err().to_string();
        assert!(err.contains("`my-app`"), "{err}");
    }
}
