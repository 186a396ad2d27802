//! The shape of a catalog entry, exactly as it is written in YAML.
//!
//! Every struct denies unknown fields, so a typo in a team's entry is an error
//! that names the field instead of a silently ignored key.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A theme of the picker. The id is also the `brickyard new` flag name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    Ci,
    Vcs,
    ConfigMgmt,
    Monitoring,
    Containers,
    App,
    Services,
    Mocks,
    Tests,
    Chat,
    Machine,
}

impl Theme {
    /// In the order the picker asks.
    pub const ALL: [Theme; 11] = [
        Theme::Ci,
        Theme::Vcs,
        Theme::ConfigMgmt,
        Theme::Monitoring,
        Theme::Containers,
        Theme::App,
        Theme::Services,
        Theme::Mocks,
        Theme::Tests,
        Theme::Chat,
        Theme::Machine,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Theme::Ci => "ci",
            Theme::Vcs => "vcs",
            Theme::ConfigMgmt => "config-mgmt",
            Theme::Monitoring => "monitoring",
            Theme::Containers => "containers",
            Theme::App => "app",
            Theme::Services => "services",
            Theme::Mocks => "mocks",
            Theme::Tests => "tests",
            Theme::Chat => "chat",
            Theme::Machine => "machine",
        }
    }

    /// The question the picker asks for this theme.
    pub fn question(self) -> &'static str {
        match self {
            Theme::Ci => "CI",
            Theme::Vcs => "VCS host",
            Theme::ConfigMgmt => "Config management",
            Theme::Monitoring => "Monitoring",
            Theme::Containers => "Containers",
            Theme::App => "Application language",
            Theme::Services => "Backing services",
            Theme::Mocks => "Third-party API mocks",
            Theme::Tests => "Tests against the running stack",
            Theme::Chat => "Chat and ChatOps",
            Theme::Machine => "Local machine",
        }
    }

    /// Themes whose tools do different jobs, so several may be picked at
    /// once (tools that do the same job there say so with `conflicts`).
    pub fn is_multi(self) -> bool {
        matches!(
            self,
            Theme::Services | Theme::Tests | Theme::Chat | Theme::Machine
        )
    }

    pub fn parse(s: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.id() == s)
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub theme: Theme,
    pub name: String,
    pub description: String,
    /// Picked when the user accepts defaults (`--yes`) and nothing else says otherwise.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    /// This tool runs the project's compose.yaml (Docker Compose, Podman, ...),
    /// so picking it makes brickyard write one.
    #[serde(default, skip_serializing_if = "is_false")]
    pub runs_compose_file: bool,
    /// Picking it also writes k8s/: the stack's Kubernetes manifests, made
    /// from compose.yaml as `brickyard export kubernetes` makes them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exports_kubernetes: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// Other entries this one brings along (added unless the user said otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceFragment>,
    /// Names of secrets generated at random into `.env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Keys a hosted service issues (an API key): `.env` gets each, empty,
    /// with where to find it; nothing is generated and nothing committed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted_keys: Vec<HostedKey>,
    #[serde(default, skip_serializing_if = "Wires::is_empty")]
    pub wires: Wires,
    /// Written `- http: {...}`, `- tcp: {...}`, `- exec: {...}`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "serde_yaml::with::singleton_map_recursive"
    )]
    pub checks: Vec<Check>,
    /// How the app is tested and run outside its image (app entries only):
    /// the CI configurations, hooks and README say it from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<Toolchain>,
}

/// An app's toolchain, each command run in `app/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    /// The image CI tests the app in ("golang:1.23-bookworm").
    pub image: String,
    /// Fetches the app's dependencies, when it has any to fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
    /// Runs the app's own tests.
    pub test: String,
    /// Starts the app on this machine.
    pub run: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostedKey {
    /// The variable's name in `.env`.
    pub name: String,
    /// Where the person finds the value ("PagerDuty: Service → Integrations → ...").
    pub from: String,
}

/// "Needs one of these", with the reason a person would give.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    #[serde(default)]
    pub one_of: Vec<String>,
    /// Any tool of this theme will do, a team's own included: the catalog
    /// adds that theme's ids to `one_of` once every layer is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_in_theme: Option<Theme>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Every tool of this theme, a team's own included: the catalog makes
    /// it one conflict per id once every layer is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_in_theme: Option<Theme>,
    pub reason: String,
}

/// A template rendered to a path inside the generated project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub template: String,
    pub path: String,
    /// Written only when the plan has all of these ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
}

/// The part of a compose service an entry contributes. Assembled into
/// compose.yaml as data, so the result is always valid YAML.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFragment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Build context, relative to the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Run an init process as PID 1 so signals reach the program (compose `init`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub init: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    /// `name:/path` for a named volume, `./path:/path[:ro]` for a project file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Paths of the person's machine the service mounts, each with why
    /// (a CI agent's Docker socket): `volumes` refuses them, and `new`
    /// tells the person when the entry is picked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_mounts: Vec<HostMount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Started only when one of these profiles is asked for (`brickyard up
    /// --profile NAME`): tools a person runs now and then, not every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostMount {
    /// An absolute path on the person's machine.
    pub source: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Why the service needs it, told to the person when it is picked.
    pub reason: String,
    /// The service joins the group that owns `source` on this machine,
    /// kept in `.env` under this name (`DOCKER_GID`): how a non-root
    /// service reaches a Docker socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_var: Option<String>,
}

impl HostMount {
    /// The compose short syntax: `source:target[:ro]`.
    pub fn volume(&self) -> String {
        let ro = if self.read_only { ":ro" } else { "" };
        format!("{}:{}{ro}", self.source, self.target)
    }

    /// The compose `group_add` value when the service joins the source's
    /// group. Unset, it is 0: a socket owned by root's group (a daemon
    /// started without a `docker` group) is reachable so, and a project
    /// whose service is off (a profile) still loads, as Compose
    /// interpolates every service.
    pub fn group_add(&self) -> Option<String> {
        let var = self.group_var.as_ref()?;
        Some(format!("${{{var}:-0}}"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    pub container: u16,
    /// The host port asked for; the plan moves it up when another service took it.
    pub host: u16,
    /// What answers there, for the URL list: `http` (default) or a scheme such as `postgres`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
}

fn default_scheme() -> String {
    "http".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(default = "default_interval")]
    pub interval: String,
    #[serde(default = "default_timeout")]
    pub timeout: String,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_start_period")]
    pub start_period: String,
}

fn default_interval() -> String {
    "5s".into()
}
fn default_timeout() -> String {
    "3s".into()
}
fn default_retries() -> u32 {
    20
}
fn default_start_period() -> String {
    "5s".into()
}

/// What an entry plugs into the others.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wires {
    /// Environment given to the app service (e.g. DATABASE_URL).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_env: BTreeMap<String, String>,
    /// Prometheus scrape targets this entry exposes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape: Vec<ScrapeTarget>,
    /// The Grafana datasource this entry provides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<Datasource>,
    /// Smoke checks of what the app does with this entry (a mail it sent,
    /// metrics it wrote): run only when the project has an app.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "serde_yaml::with::singleton_map_recursive"
    )]
    pub app_checks: Vec<Check>,
    /// The CI posts each result to a chat: `ci/notify.sh` reads the webhook
    /// URL from this CI secret (set in the CI's settings, never committed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_notify: Option<CiNotify>,
    /// Every other service's logs go to this service of the entry, through
    /// Docker's fluentd logging driver: the daemon, on the machine, sends
    /// them to the port published for `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_logs: Option<LogSink>,
    /// Services of this entry that run the CI's builds on this machine (a
    /// local Jenkins): they get the picked chat's webhook variable
    /// (`wires.ci_notify`), from `.env` or the shell, empty when unset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify_env: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSink {
    /// A service of the same entry that speaks Fluentd's forward protocol.
    pub service: String,
    /// Its container port for the forward protocol.
    pub port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiNotify {
    /// The secret's name, an environment variable name (SLACK_WEBHOOK_URL).
    pub secret: String,
}

impl Wires {
    fn is_empty(&self) -> bool {
        self.app_env.is_empty()
            && self.scrape.is_empty()
            && self.datasource.is_none()
            && self.app_checks.is_empty()
            && self.ship_logs.is_none()
            && self.ci_notify.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeTarget {
    pub job: String,
    /// `service:port` on the compose network.
    pub target: String,
    #[serde(default = "default_metrics_path")]
    pub path: String,
}

fn default_metrics_path() -> String {
    "/metrics".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datasource {
    pub name: String,
    /// Grafana's datasource type id (prometheus, influxdb, graphite).
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// A smoke check that proves a service works once it is up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Check {
    Http {
        service: String,
        port: u16,
        path: String,
        #[serde(default = "default_status")]
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contains: Option<String>,
        /// What the report calls it (default: `GET <path>`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Tcp {
        service: String,
        port: u16,
    },
    Exec {
        service: String,
        command: Vec<String>,
        /// What the report calls it (default: the command).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// The app's `/health`: 200, and every dependency it reports is ok.
    AppHealth {
        service: String,
        port: u16,
    },
    /// Every scrape target Prometheus has is `up` in `/api/v1/targets`.
    PrometheusTargets {
        service: String,
        port: u16,
    },
    /// Grafana has the provisioned datasource (by uid), logged in as admin
    /// with the password from `.env`.
    GrafanaDatasource {
        service: String,
        port: u16,
        uid: String,
        password_env: String,
    },
    /// Every Graphite target (the dashboard's series) has a value in the
    /// last 15 minutes: the metrics the app sends arrive.
    GraphiteSeries {
        service: String,
        port: u16,
        targets: Vec<String>,
    },
    /// Every InfluxQL query (the dashboard's) returns a value, asked with
    /// the token from `.env`.
    InfluxqlSeries {
        service: String,
        port: u16,
        database: String,
        token_env: String,
        queries: Vec<String>,
    },
}

impl Check {
    pub fn service(&self) -> &str {
        match self {
            Check::Http { service, .. }
            | Check::Tcp { service, .. }
            | Check::Exec { service, .. }
            | Check::AppHealth { service, .. }
            | Check::PrometheusTargets { service, .. }
            | Check::GrafanaDatasource { service, .. }
            | Check::GraphiteSeries { service, .. }
            | Check::InfluxqlSeries { service, .. } => service,
        }
    }
}

fn default_status() -> u16 {
    200
}

/// A named set of picks, from `catalog/presets/<id>.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub id: String,
    pub name: String,
    pub description: String,
    pub picks: crate::plan::Answers,
}
