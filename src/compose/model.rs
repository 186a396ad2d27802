//! The resolved project: Compose's own types (compose-go's `types`), field
//! for field and in the same order, so that
//! - `brickyard config --format json` prints what `docker compose config` does,
//! - the config hash (a digest of a service's JSON) equals Compose's,
//! - and the engine boots exactly the model that `config` shows.
//!
//! Serialization follows Go's `encoding/json`: `omitempty` skips zero values
//! (but never a struct), maps come out sorted. For YAML (`goyaml`) a few
//! fields follow go-yaml instead, as Compose's `MarshalYAML` methods do. Deserialization reads the
//! loader's normalized document the way compose-go's decode hooks do
//! (`decode.rs`), and names any key it does not know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_yaml::Value;

use super::decode as de;
use super::{gofmt, goyaml};

fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A nil command is left out of YAML (`null` in JSON); an empty one stays.
fn nil_in_yaml(v: &Option<Vec<String>>) -> bool {
    v.is_none() && goyaml::marshalling()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `float32` as Go's JSON encoder writes it (`1`, `0.5`, never `1.0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct F32(pub f32);

impl Serialize for F32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shortest: f64 = self.0.to_string().parse().unwrap_or(0.0);
        if shortest.fract() == 0.0 && shortest.abs() < 1e15 {
            s.serialize_i64(shortest as i64)
        } else {
            s.serialize_f64(shortest)
        }
    }
}

/// A byte size, printed as a decimal string (`"536870912"`) as Compose does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitBytes(pub i64);

impl Serialize for UnitBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// A duration in nanoseconds, printed as Go prints it (`1m30s`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duration(pub i64);

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&gofmt::duration_string(self.0))
    }
}

impl Duration {
    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }
}

/// A file mode, printed in octal with a leading zero (`"0440"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileMode(pub i64);

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0{:o}", self.0))
    }
}

pub type Mapping = BTreeMap<String, String>;
pub type MappingWithEquals = BTreeMap<String, Option<String>>;

/// `extra_hosts`: host -> addresses, printed as a sorted `host=ip` list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostsList(pub BTreeMap<String, Vec<String>>);

impl Serialize for HostsList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut list: Vec<String> = self
            .0
            .iter()
            .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}={ip}")))
            .collect();
        list.sort();
        list.serialize(s)
    }
}

impl HostsList {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Project {
    pub name: String,
    #[serde(skip)]
    pub working_dir: std::path::PathBuf,
    #[serde(deserialize_with = "de::services")]
    pub services: BTreeMap<String, Service>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub networks: BTreeMap<String, Network>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub configs: BTreeMap<String, FileObject>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub models: BTreeMap<String, Model>,
    /// Top-level `x-*` keys, printed beside the rest.
    #[serde(skip)]
    pub extensions: BTreeMap<String, Value>,
    /// The other `x-*` keys, by the path of the mapping that held them:
    /// only Compose's YAML prints them.
    #[serde(skip)]
    pub nested_extensions: Vec<(Vec<String>, String, Value)>,
    #[serde(skip)]
    pub compose_files: Vec<std::path::PathBuf>,
    /// What interpolation saw: the environment over `.env`.
    #[serde(skip)]
    pub environment: Mapping,
    /// Services left out by their profiles.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Service>,
    #[serde(skip)]
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Service {
    #[serde(skip)]
    pub name: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub profiles: Vec<String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub annotations: Mapping,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_boolean"
    )]
    pub attach: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub develop: Option<Develop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<BlkioConfig>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub cap_add: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub cap_drop: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub cgroup_parent: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub cgroup: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_count: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::float32")]
    pub cpu_percent: F32,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_period: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_quota: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_rt_period: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_rt_runtime: i64,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::float32")]
    pub cpus: F32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub cpuset: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub cpu_shares: i64,
    /// Never omitted: `null` (the image's) and `[]` (none) differ.
    #[serde(
        skip_serializing_if = "nil_in_yaml",
        deserialize_with = "de::shell_command"
    )]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub configs: Vec<FileReference>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub container_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_spec: Option<CredentialSpec>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_or_nulls"
    )]
    pub depends_on: BTreeMap<String, Dependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub device_cgroup_rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub devices: Vec<DeviceMapping>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub dns: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub dns_opt: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub dns_search: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub dockerfile: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub domainname: String,
    #[serde(
        skip_serializing_if = "nil_in_yaml",
        deserialize_with = "de::shell_command"
    )]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping_with_equals"
    )]
    pub environment: MappingWithEquals,
    #[serde(
        rename = "env_file",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::list"
    )]
    pub env_files: Vec<EnvFile>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_or_number_list"
    )]
    pub expose: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extends: Option<Extends>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub external_links: Vec<String>,
    #[serde(
        skip_serializing_if = "HostsList::is_empty",
        deserialize_with = "de::hosts_list"
    )]
    pub extra_hosts: HostsList,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub group_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub gpus: Vec<DeviceRequest>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub image: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_boolean"
    )]
    pub init: Option<bool>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub ipc: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub isolation: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(
        rename = "label_file",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub label_files: Vec<String>,
    /// Labels brickyard adds (project, service...); never hashed or printed.
    #[serde(skip)]
    pub custom_labels: Mapping,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub log_driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub log_opt: Mapping,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub mem_limit: UnitBytes,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub mem_reservation: UnitBytes,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub memswap_limit: UnitBytes,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub mem_swappiness: UnitBytes,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub mac_address: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_of_options"
    )]
    pub models: BTreeMap<String, Option<ServiceModel>>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub net: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub network_mode: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::map_of_options"
    )]
    pub networks: BTreeMap<String, Option<ServiceNetwork>>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub oom_kill_disable: bool,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub oom_score_adj: i64,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub pid: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub pids_limit: i64,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub platform: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub privileged: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub pull_policy: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub restart: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub runtime: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_int"
    )]
    pub scale: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub secrets: Vec<FileReference>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub shm_size: UnitBytes,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub stdin_open: bool,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub stop_grace_period: Option<Duration>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub stop_signal: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub storage_opt: Mapping,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub sysctls: Mapping,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub tty: bool,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::ulimits"
    )]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub use_api_socket: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub user: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub userns_mode: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub uts: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub volume_driver: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub volumes: Vec<ServiceVolume>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub volumes_from: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub working_dir: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub post_start: Vec<ServiceHook>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub pre_stop: Vec<ServiceHook>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Provider {
    #[serde(
        rename = "type",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub kind: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::multi_options"
    )]
    pub options: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Build {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub context: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub dockerfile: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub dockerfile_inline: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub entitlements: Vec<String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping_with_equals"
    )]
    pub args: MappingWithEquals,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub provenance: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub sbom: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::ssh")]
    pub ssh: Vec<SshKey>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub cache_from: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub cache_to: Vec<String>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub no_cache: bool,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub additional_contexts: Mapping,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub pull: bool,
    #[serde(
        skip_serializing_if = "HostsList::is_empty",
        deserialize_with = "de::hosts_list"
    )]
    pub extra_hosts: HostsList,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub isolation: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub network: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub secrets: Vec<FileReference>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub shm_size: UnitBytes,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub tags: Vec<String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::ulimits"
    )]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub platforms: Vec<String>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub privileged: bool,
}

/// One `build.ssh` entry: `default`, or `id=path`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SshKey {
    pub id: String,
    pub path: String,
}

impl Serialize for SshKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.path.is_empty() {
            s.serialize_str(&self.id)
        } else if goyaml::marshalling() {
            s.serialize_str(&format!("{}: {}", self.id, self.path))
        } else {
            s.serialize_str(&format!("{}={}", self.id, self.path))
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Develop {
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub watch: Vec<Trigger>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Trigger {
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub target: String,
    /// A struct, so Go's omitempty never drops it: every trigger prints one.
    #[serde(deserialize_with = "de::or_default")]
    pub exec: ServiceHook,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub include: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::string_list"
    )]
    pub ignore: Vec<String>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub initial_sync: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceHook {
    #[serde(
        skip_serializing_if = "nil_in_yaml",
        deserialize_with = "de::shell_command"
    )]
    pub command: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub user: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub privileged: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub working_dir: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping_with_equals"
    )]
    pub environment: MappingWithEquals,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BlkioConfig {
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int_u16")]
    pub weight: u16,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub weight_device: Vec<WeightDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub device_read_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub device_read_iops: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub device_write_bps: Vec<ThrottleDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub device_write_iops: Vec<ThrottleDevice>,
}

/// Go declares these fields without JSON names, so JSON prints them
/// capitalized; go-yaml lowercases untagged names.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WeightDevice {
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    #[serde(deserialize_with = "de::int_u16")]
    pub weight: u16,
}

impl Serialize for WeightDevice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let [path, weight] = if goyaml::marshalling() {
            ["path", "weight"]
        } else {
            ["Path", "Weight"]
        };
        let mut m = s.serialize_struct("WeightDevice", 2)?;
        m.serialize_field(path, &self.path)?;
        m.serialize_field(weight, &self.weight)?;
        m.end()
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleDevice {
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    #[serde(deserialize_with = "de::unit_bytes")]
    pub rate: UnitBytes,
}

impl Serialize for ThrottleDevice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let [path, rate] = if goyaml::marshalling() {
            ["path", "rate"]
        } else {
            ["Path", "Rate"]
        };
        let mut m = s.serialize_struct("ThrottleDevice", 2)?;
        m.serialize_field(path, &self.path)?;
        m.serialize_field(rate, &self.rate)?;
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceMapping {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub source: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub target: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub permissions: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Logging {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub options: Mapping,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Deploy {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub mode: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_int"
    )]
    pub replicas: Option<i64>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_config: Option<UpdateConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<UpdateConfig>,
    #[serde(deserialize_with = "de::or_default")]
    pub resources: Resources,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicy>,
    #[serde(deserialize_with = "de::or_default")]
    pub placement: Placement,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub endpoint_mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateConfig {
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_int"
    )]
    pub parallelism: Option<i64>,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::duration")]
    pub delay: Duration,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub failure_action: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::duration")]
    pub monitor: Duration,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::float32")]
    pub max_failure_ratio: F32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub order: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<Resource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Resource {
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::float32")]
    pub cpus: F32,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub memory: UnitBytes,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub pids: i64,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub devices: Vec<DeviceRequest>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub generic_resources: Vec<GenericResource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GenericResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discrete_resource_spec: Option<DiscreteGenericResource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DiscreteGenericResource {
    #[serde(deserialize_with = "de::string")]
    pub kind: String,
    #[serde(deserialize_with = "de::int")]
    pub value: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RestartPolicy {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub condition: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub delay: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_int"
    )]
    pub max_attempts: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub window: Option<Duration>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Placement {
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub constraints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub preferences: Vec<PlacementPreference>,
    #[serde(
        rename = "max_replicas_per_node",
        skip_serializing_if = "is_zero",
        deserialize_with = "de::int"
    )]
    pub max_replicas: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PlacementPreference {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub spread: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceRequest {
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub capabilities: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    /// `all` is -1.
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::device_count")]
    pub count: i64,
    #[serde(
        rename = "device_ids",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub ids: Vec<String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub options: Mapping,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceNetwork {
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub aliases: Vec<String>,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub driver_opts: Mapping,
    #[serde(
        rename = "gw_priority",
        skip_serializing_if = "is_zero",
        deserialize_with = "de::int"
    )]
    pub gateway_priority: i64,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub interface_name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub ipv4_address: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub ipv6_address: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub link_local_ips: Vec<String>,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub mac_address: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub priority: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceModel {
    #[serde(
        rename = "endpoint_var",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub endpoint_variable: String,
    #[serde(
        rename = "model_var",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub model_variable: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Port {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub mode: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub host_ip: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int_u32")]
    pub target: u32,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string_or_number"
    )]
    pub published: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub protocol: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub app_protocol: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceVolume {
    #[serde(
        rename = "type",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub kind: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub source: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub target: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub read_only: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub consistency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<VolumeBind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<VolumeTmpfs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<VolumeImage>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeBind {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub selinux: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub propagation: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub create_host_path: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub recursive: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeVolume {
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub labels: Mapping,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub nocopy: bool,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub subpath: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeTmpfs {
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::unit_bytes")]
    pub size: UnitBytes,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int_u32")]
    pub mode: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeImage {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub subpath: String,
}

/// A secret or config as a service uses it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FileReference {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub source: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub target: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub uid: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub gid: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_file_mode"
    )]
    pub mode: Option<FileMode>,
}

/// `ulimits.<name>`: one number, or soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ulimit {
    pub single: i64,
    pub soft: i64,
    pub hard: i64,
}

impl Serialize for Ulimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if self.single != 0 {
            return s.serialize_i64(self.single);
        }
        // YAML prints both limits, zero or not; JSON leaves zeros out.
        let yaml = goyaml::marshalling();
        let mut m = s.serialize_struct("Ulimit", 2)?;
        for (name, value) in [("soft", self.soft), ("hard", self.hard)] {
            if value != 0 || yaml {
                m.serialize_field(name, &value)?;
            } else {
                m.skip_field(name)?;
            }
        }
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub driver_opts: Mapping,
    #[serde(deserialize_with = "de::or_default")]
    pub ipam: Ipam,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub external: bool,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub attachable: bool,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(skip)]
    pub custom_labels: Mapping,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_boolean"
    )]
    pub enable_ipv4: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_boolean"
    )]
    pub enable_ipv6: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Ipam {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "de::list")]
    pub config: Vec<IpamPool>,
    /// In the schema but not in Compose's model: accepted, then dropped.
    #[serde(skip_serializing, deserialize_with = "de::ignored")]
    pub options: (),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct IpamPool {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub subnet: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub gateway: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub ip_range: String,
    #[serde(
        rename = "aux_addresses",
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::mapping"
    )]
    pub auxiliary_addresses: Mapping,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Volume {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub driver_opts: Mapping,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub external: bool,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(skip)]
    pub custom_labels: Mapping,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialSpec {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub config: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub file: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub registry: String,
}

/// A top-level secret or config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FileObject {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub file: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub environment: String,
    /// Printed for a config with inline content; a secret's value never is.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub content: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub external: bool,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::labels"
    )]
    pub labels: Mapping,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub driver: String,
    #[serde(
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de::options"
    )]
    pub driver_opts: Mapping,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub template_driver: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Dependency {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub condition: String,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub restart: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Extends {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub file: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvFile {
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    #[serde(deserialize_with = "de::boolean")]
    pub required: bool,
    #[serde(deserialize_with = "de::string")]
    pub format: String,
}

impl Serialize for EnvFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.required {
            return s.serialize_str(&self.path);
        }
        let mut m = s.serialize_map(None)?;
        if goyaml::marshalling() {
            // Compose's MarshalYAML: a map of these two, whatever the format.
            m.serialize_entry("path", &self.path)?;
            m.serialize_entry("required", &self.required)?;
            return m.end();
        }
        if !self.path.is_empty() {
            m.serialize_entry("path", &self.path)?;
        }
        m.serialize_entry("required", &self.required)?;
        if !self.format.is_empty() {
            m.serialize_entry("format", &self.format)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Healthcheck {
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::healthcheck_test"
    )]
    pub test: Vec<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub timeout: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub interval: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_int"
    )]
    pub retries: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub start_period: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_duration"
    )]
    pub start_interval: Option<Duration>,
    #[serde(skip_serializing_if = "is_false", deserialize_with = "de::boolean")]
    pub disable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Model {
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub name: String,
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "de::string"
    )]
    pub model: String,
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "de::int")]
    pub context_size: i64,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "de::strings"
    )]
    pub runtime_flags: Vec<String>,
}

impl Service {
    /// `scale`, else `deploy.replicas`, else 1.
    pub fn scale(&self) -> i64 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }

    /// Whether a healthcheck is declared here and not disabled.
    pub fn declares_health(&self) -> bool {
        self.healthcheck.as_ref().is_some_and(|h| {
            !h.disable && h.test.first().is_none_or(|t| t != "NONE") && !h.test.is_empty()
        })
    }

    /// Whether the profiles let it run with `enabled` active.
    pub fn has_profile(&self, enabled: &[String]) -> bool {
        self.profiles.is_empty()
            || enabled
                .iter()
                .any(|p| p == "*" || self.profiles.contains(p))
    }
}

impl Project {
    /// The JSON of the project as `docker compose config --format json`
    /// prints it: `name`, `services`, then what is set, then `x-*` keys.
    pub fn to_compose_json(&self) -> serde_json::Value {
        // A Go map: the top-level keys come out sorted.
        let mut top: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let as_json = |v: &dyn erased::Ser| v.json();
        top.insert("name".into(), serde_json::Value::String(self.name.clone()));
        top.insert("services".into(), as_json(&self.services));
        if !self.networks.is_empty() {
            top.insert("networks".into(), as_json(&self.networks));
        }
        if !self.volumes.is_empty() {
            top.insert("volumes".into(), as_json(&self.volumes));
        }
        if !self.secrets.is_empty() {
            top.insert(
                "secrets".into(),
                as_json(&printable(&self.secrets, |_| true)),
            );
        }
        if !self.configs.is_empty() {
            let shown = printable(&self.configs, |c| !c.environment.is_empty());
            top.insert("configs".into(), as_json(&shown));
        }
        for (k, v) in &self.extensions {
            top.insert(k.clone(), sorted_json(v));
        }
        serde_json::Value::Object(top.into_iter().collect())
    }
}

/// Secrets or configs as Compose prints them: a secret's value never, nor a
/// config's content when it came from the environment (`hide` says which).
pub fn printable(
    objects: &BTreeMap<String, FileObject>,
    hide: impl Fn(&FileObject) -> bool,
) -> BTreeMap<String, FileObject> {
    objects
        .iter()
        .map(|(k, o)| {
            let mut o = o.clone();
            if hide(&o) {
                o.content.clear();
            }
            (k.clone(), o)
        })
        .collect()
}

/// An extension's value as Go prints a decoded YAML value: mappings sorted.
fn sorted_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Mapping(m) => {
            let sorted: BTreeMap<String, serde_json::Value> = m
                .iter()
                .map(|(k, v)| (gofmt::sprint(k), sorted_json(v)))
                .collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        Value::Sequence(items) => serde_json::Value::Array(items.iter().map(sorted_json).collect()),
        Value::Tagged(t) => sorted_json(&t.value),
        other => serde_json::to_value(other).unwrap_or_default(),
    }
}

/// Serializing a few different types through one closure.
mod erased {
    pub trait Ser {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("the model serializes")
        }
    }
}
