//! The translation report: every compose key of every service, and what
//! became of it. Nothing is dropped without a line here.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Kubernetes does the same thing.
    Translated,
    /// Kubernetes does something close; `note` says how it differs.
    Approximated,
    /// Nothing in the manifests does it; `note` says why.
    NotTranslated,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Translated => "translated",
            Outcome::Approximated => "approximated",
            Outcome::NotTranslated => "not translated",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// The compose key, as `docker compose config` prints it (`healthcheck`).
    pub key: String,
    pub outcome: Outcome,
    /// What it became (translated), how it differs (approximated), or why
    /// it is not there (not translated).
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub project: String,
    /// Service -> its lines, in key order.
    pub services: BTreeMap<String, Vec<Line>>,
    /// What the project has outside its services (volumes, networks,
    /// services of inactive profiles).
    pub project_lines: Vec<Line>,
    /// Resources written, by kind (`Deployment` -> 3).
    pub resources: BTreeMap<String, usize>,
    /// Service -> what the manifests add that compose did not say (a
    /// default, a user): not counted, since no compose key is behind them.
    pub notes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub translated: usize,
    pub approximated: usize,
    pub not_translated: usize,
}

impl Report {
    pub fn add(&mut self, service: &str, key: &str, outcome: Outcome, note: impl Into<String>) {
        self.services
            .entry(service.to_string())
            .or_default()
            .push(Line {
                key: key.to_string(),
                outcome,
                note: note.into(),
            });
    }

    pub fn note(&mut self, service: &str, note: impl Into<String>) {
        self.notes
            .entry(service.to_string())
            .or_default()
            .push(note.into());
    }

    pub fn add_project(&mut self, key: &str, outcome: Outcome, note: impl Into<String>) {
        self.project_lines.push(Line {
            key: key.to_string(),
            outcome,
            note: note.into(),
        });
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for line in self.services.values().flatten().chain(&self.project_lines) {
            match line.outcome {
                Outcome::Translated => c.translated += 1,
                Outcome::Approximated => c.approximated += 1,
                Outcome::NotTranslated => c.not_translated += 1,
            }
        }
        c
    }

    pub fn resource_total(&self) -> usize {
        self.resources.values().sum()
    }

    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "project": self.project,
            "counts": self.counts(),
            "resources": self.resources,
            "services": self.services,
            "project_lines": self.project_lines,
            "notes": self.notes,
        });
        serde_json::to_string_pretty(&value).expect("a report serializes") + "\n"
    }

    pub fn to_markdown(&self) -> String {
        let c = self.counts();
        let mut s = format!(
            "# Kubernetes translation of `{}`\n\n\
             Written by `brickyard export kubernetes` from the compose file; run it again \
             after changing compose.yaml or .env. Every compose key of every service is \
             listed: **{}** translated, **{}** approximated, **{}** not translated.\n\n\
             Resources: {}.\n",
            self.project,
            c.translated,
            c.approximated,
            c.not_translated,
            self.resources
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let table = |s: &mut String, lines: &[Line]| {
            s.push_str("\n| key | outcome | what became of it |\n|---|---|---|\n");
            for l in lines {
                s.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    l.key,
                    l.outcome.label(),
                    l.note.replace('|', "\\|").replace('\n', " ")
                ));
            }
        };
        for (service, lines) in &self.services {
            s.push_str(&format!("\n## {service}\n"));
            table(&mut s, lines);
            for note in self.notes.get(service).into_iter().flatten() {
                s.push_str(&format!("\nAdded: {note}\n"));
            }
        }
        if !self.project_lines.is_empty() {
            s.push_str("\n## The project\n");
            table(&mut s, &self.project_lines);
        }
        s
    }
}
