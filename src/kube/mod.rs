//! A compose project -> Kubernetes manifests: a kustomize base, a `local`
//! overlay (kind, k3d, minikube) and a `production` starting point, with a
//! report of what became of every compose key.
//!
//! Pure: reads the project (and the files it mounts), returns files.
//! `commands::export` loads the project and writes them.

pub mod names;
pub mod probes;
pub mod report;
pub mod secrets;
pub mod volumes;
pub mod workload;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::compose::model::Project;
use names::dns_label;
use report::{Outcome, Report};
use secrets::Secret;
pub use workload::Input;

/// One manifest, and the compose service it came from.
#[derive(Debug, Clone)]
pub struct Resource {
    pub value: Value,
    pub service: String,
}

impl Resource {
    pub fn new(value: Value, service: &str) -> Resource {
        Resource {
            value,
            service: service.to_string(),
        }
    }

    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
}

/// A file of the export, relative to its directory (`base/app.yaml`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    pub path: String,
    pub contents: String,
    /// Holds secret values: owner-only, git-ignored.
    pub private: bool,
}

#[derive(Debug)]
pub struct Export {
    pub files: Vec<ExportFile>,
    pub report: Report,
}

/// The Secret's values live here, beside the overlay that generates it
/// (kustomize reads no file outside a kustomization's directory).
pub const SECRETS_FILE: &str = "overlays/local/secrets.env";
/// Copies of compose's file secrets, one file each, for the same reason.
pub const SECRET_FILES: &str = "overlays/local/secret-files";

/// YAML as Go's encoder writes it: kubectl and kustomize read YAML 1.1,
/// where `1_000`, `010` or `on` are not text unless quoted, and go-yaml
/// quotes every scalar that would read back as something else.
fn yaml<T: serde::Serialize + ?Sized>(value: &T) -> String {
    crate::compose::goyaml::emit(&crate::compose::goyaml::to_node(value))
}

fn yaml_docs(values: &[&Value]) -> String {
    values.iter().map(yaml).collect::<Vec<_>>().join("---\n")
}

pub fn export(input: &Input) -> Result<Export, String> {
    let project = input.project;
    if project.services.is_empty() {
        return Err("the project has no service to export (are its services all in profiles? pass --profile NAME)".into());
    }
    let mut report = Report {
        project: project.name.clone(),
        ..Default::default()
    };
    let mut secret = Secret {
        name: format!("{}-env", dns_label(&project.name)),
        ..Default::default()
    };
    let reachable: BTreeMap<String, Vec<(u32, String)>> = project
        .services
        .iter()
        .map(|(n, s)| (n.clone(), workload::reachable_ports(s)))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let mut volume_users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, s) in &project.services {
        for v in s
            .volumes
            .iter()
            .filter(|v| v.kind == "volume" && !v.source.is_empty())
        {
            volume_users
                .entry(v.source.clone())
                .or_default()
                .push(n.clone());
        }
    }
    let mut resources: Vec<Resource> = Vec::new();
    for (name, svc) in &project.services {
        let mut ctx = workload::Context {
            input,
            secret: &mut secret,
            report: &mut report,
            reachable: &reachable,
            volume_users: &volume_users,
        };
        resources.extend(workload::translate(&mut ctx, name, svc));
    }
    // A value of `.env` that reached a resource where no Secret reference
    // fits (a label, a hostname) is taken out, and said.
    for r in &mut resources {
        for (path, var) in secrets::scrub(&mut r.value, input.env_values) {
            report.add(
                &r.service,
                &path,
                Outcome::NotTranslated,
                format!("holds the value of {var} from .env, which no manifest may carry: left out (set it in an overlay)"),
            );
        }
    }
    project_lines(project, &mut report, &volume_users);
    for key in secret.unrepresentable() {
        report.add_project(
            &format!("secret {key}"),
            Outcome::NotTranslated,
            "its value spans lines, which a kustomize env file cannot hold: create the Secret key by hand",
        );
    }

    let ns = dns_label(&project.name);
    let mut files = Vec::new();
    let mut base_resources = Vec::new();
    let mut by_service: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
    for r in &resources {
        by_service.entry(r.service.as_str()).or_default().push(r);
    }
    for (service, rs) in &by_service {
        let file = format!("{}.yaml", dns_label(service));
        files.push(ExportFile {
            path: format!("base/{file}"),
            contents: yaml_docs(&rs.iter().map(|r| &r.value).collect::<Vec<_>>()),
            private: false,
        });
        base_resources.push(file);
    }
    for r in &resources {
        *report.resources.entry(r.kind().to_string()).or_default() += 1;
    }
    *report.resources.entry("Namespace".into()).or_default() += 1;
    let has_secret = !secret.values.is_empty();
    let secret_count = usize::from(has_secret) + secret.files.len();
    if secret_count > 0 {
        *report.resources.entry("Secret".into()).or_default() += secret_count;
    }
    let header = |what: &str| {
        format!(
            "# {what}\n# Written by `brickyard export kubernetes`; REPORT.md says what each compose key became.\n"
        )
    };
    files.push(ExportFile {
        path: "base/kustomization.yaml".into(),
        contents: header("The stack's manifests, from compose.yaml.")
            + &yaml(&json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": base_resources,
            })),
        private: false,
    });
    let namespace = yaml(&json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns, "labels": {"app.kubernetes.io/part-of": ns, "app.kubernetes.io/managed-by": "brickyard"}},
    }));
    let mut local = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": ns,
        "resources": ["../../base", "namespace.yaml"],
    });
    let mut generators = Vec::new();
    if has_secret {
        generators.push(json!({"name": secret.name, "envs": ["secrets.env"]}));
        files.push(ExportFile {
            path: SECRETS_FILE.into(),
            contents: secret.env_file(),
            private: true,
        });
    }
    for (name, content) in &secret.files {
        let path = format!("{SECRET_FILES}/{name}");
        generators.push(json!({"name": name, "files": [format!("content={}", &path["overlays/local/".len()..])]}));
        files.push(ExportFile {
            path,
            contents: content.clone(),
            private: true,
        });
    }
    if !generators.is_empty() {
        local["secretGenerator"] = Value::Array(generators);
    }
    files.push(ExportFile {
        path: "overlays/local/kustomization.yaml".into(),
        contents: header("For kind, k3d or minikube: kubectl apply -k k8s/overlays/local")
            + "# To reach services on node ports instead of `kubectl port-forward`, add:\n#   components: [../../components/nodeport]\n"
            + &yaml(&local),
        private: false,
    });
    files.push(ExportFile {
        path: "overlays/local/namespace.yaml".into(),
        contents: namespace.clone(),
        private: false,
    });
    let (nodeport, node_ports) = nodeport_component(project, &reachable);
    files.push(ExportFile {
        path: "overlays/local/README.md".into(),
        contents: local_readme(project, &ns, &node_ports, &secret, &resources),
        private: false,
    });
    files.push(ExportFile {
        path: "components/nodeport/kustomization.yaml".into(),
        contents: header("Services on node ports (30000-32767), for a local cluster.") + &nodeport,
        private: false,
    });
    files.push(ExportFile {
        path: "overlays/production/kustomization.yaml".into(),
        contents: header("A starting point for a real cluster: read README.md beside it first.")
            + &production_kustomization(&ns, &resources),
        private: false,
    });
    files.push(ExportFile {
        path: "overlays/production/namespace.yaml".into(),
        contents: namespace,
        private: false,
    });
    files.push(ExportFile {
        path: "overlays/production/README.md".into(),
        contents: production_readme(&ns, &secret),
        private: false,
    });
    files.push(ExportFile {
        path: ".gitignore".into(),
        contents: format!(
            "# Secret values, copied from .env and the compose file's secrets.\n/{SECRETS_FILE}\n/{SECRET_FILES}/\n"
        ),
        private: false,
    });
    files.push(ExportFile {
        path: "REPORT.md".into(),
        contents: secrets::redact(&report.to_markdown(), input.env_values),
        private: false,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    // The last guard: no value of `.env` in any file but the private ones.
    for f in files.iter().filter(|f| !f.private) {
        if let [var, ..] = secrets::values_in(&f.contents, input.env_values).as_slice() {
            return Err(format!(
                "the export would write the value of {var} from .env into {}; nothing was written (report this: a secret reached a manifest)",
                f.path
            ));
        }
    }
    Ok(Export { files, report })
}

fn project_lines(
    project: &Project,
    report: &mut Report,
    volume_users: &BTreeMap<String, Vec<String>>,
) {
    for (name, v) in &project.volumes {
        let users = volume_users.get(name).cloned().unwrap_or_default();
        if v.external {
            report.add_project(
                &format!("volumes.{name}"),
                Outcome::Approximated,
                "external: a claim is written all the same; bind it to your volume in the overlay",
            );
        } else if users.is_empty() {
            report.add_project(
                &format!("volumes.{name}"),
                Outcome::NotTranslated,
                "no service mounts it",
            );
        } else {
            report.add_project(
                &format!("volumes.{name}"),
                Outcome::Translated,
                format!("PersistentVolumeClaim of {}", users.join(", ")),
            );
        }
    }
    for name in project.networks.keys() {
        let outcome = if name == "default" {
            Outcome::Translated
        } else {
            Outcome::Approximated
        };
        report.add_project(
            &format!("networks.{name}"),
            outcome,
            "the cluster network (use NetworkPolicies to separate services)",
        );
    }
    for (name, s) in &project.disabled_services {
        report.add_project(
            &format!("services.{name}"),
            Outcome::NotTranslated,
            format!(
                "in profile {}, not active: export with --profile {}",
                s.profiles.join(", "),
                s.profiles.first().cloned().unwrap_or_default()
            ),
        );
    }
    for name in project.secrets.keys() {
        report.add_project(
            &format!("secrets.{name}"),
            Outcome::Translated,
            "a Secret of its own (see the services that mount it)",
        );
    }
}

fn local_readme(
    project: &Project,
    ns: &str,
    node_ports: &[(String, u32, u32)],
    secret: &Secret,
    resources: &[Resource],
) -> String {
    let mut s = format!(
        "# {ns} on a local cluster\n\n\
         ```sh\nkind create cluster --name {ns}        # or k3d / minikube\n"
    );
    let built: Vec<(&String, String)> = project
        .services
        .iter()
        .filter(|(_, svc)| svc.build.is_some())
        .map(|(n, svc)| {
            (
                n,
                if svc.image.is_empty() {
                    format!("{}-{n}", project.name)
                } else {
                    svc.image.clone()
                },
            )
        })
        .collect();
    if !built.is_empty() {
        s.push_str(
            "docker compose build                     # or `brickyard up`, which builds them too\n",
        );
        for (_, image) in &built {
            s.push_str(&format!("kind load docker-image {image} --name {ns}\n"));
        }
    }
    s.push_str(&format!(
        "kubectl apply -k k8s/overlays/local\nkubectl -n {ns} get pods --watch\n```\n\n"
    ));
    if !secret.values.is_empty() {
        s.push_str(&format!(
            "Secret `{}` is generated from `secrets.env` beside this file, a copy of the keys of the project's `.env` the manifests use \
             ({}). It is git-ignored; `brickyard export kubernetes` writes it again from `.env`.\n\n",
            secret.name,
            secret.values.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    s.push_str("## Reaching the services\n\nEach answers on 127.0.0.1 while its port-forward runs:\n\n```sh\n");
    for (name, svc) in &project.services {
        for p in &svc.ports {
            let local = if p.published.is_empty() {
                p.target.to_string()
            } else {
                p.published.clone()
            };
            s.push_str(&format!(
                "kubectl -n {ns} port-forward svc/{} {local}:{}\n",
                dns_label(name),
                p.target
            ));
        }
    }
    s.push_str("```\n\nOr put every Service on a node port: add `components: [../../components/nodeport]` to `kustomization.yaml` here \
                (on kind, a node port reaches this machine only through the cluster's `extraPortMappings`):\n\n\
                | service | port | node port |\n|---|---|---|\n");
    for (service, port, node) in node_ports {
        s.push_str(&format!("| {service} | {port} | {node} |\n"));
    }
    let stateful: Vec<&str> = resources
        .iter()
        .filter(|r| r.kind() == "StatefulSet")
        .map(|r| r.service.as_str())
        .collect();
    if !stateful.is_empty() {
        s.push_str(&format!(
            "\n## Data\n\n{} keep their data in PersistentVolumeClaims. `kubectl delete -k k8s/overlays/local` deletes the namespace, \
             and the claims with it: their data is gone. To stop the stack and keep the data: \
             `kubectl -n {ns} delete deployment,statefulset,service -l app.kubernetes.io/part-of={ns}`.\n",
            stateful.join(", ")
        ));
    }
    s
}

/// A Component that makes every Service a NodePort, each on a port of the
/// node range picked from its compose port (so it is easy to guess).
fn nodeport_component(
    project: &Project,
    reachable: &BTreeMap<String, Vec<(u32, String)>>,
) -> (String, Vec<(String, u32, u32)>) {
    let mut used = std::collections::BTreeSet::new();
    let mut patches = Vec::new();
    let mut listed = Vec::new();
    for (name, ports) in reachable {
        let svc = &project.services[name];
        let ports: Vec<Value> = ports
            .iter()
            .map(|(p, proto)| {
                let published = svc
                    .ports
                    .iter()
                    .find(|x| x.target == *p)
                    .and_then(|x| x.published.parse::<u32>().ok())
                    .unwrap_or(*p);
                let mut node = 30000 + published % 2768;
                while !used.insert(node) {
                    node = 30000 + (node - 30000 + 1) % 2768;
                }
                listed.push((dns_label(name), *p, node));
                json!({"name": names::port_name(*p, proto), "port": p, "nodePort": node})
            })
            .collect();
        let patch = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": dns_label(name)},
            "spec": {"type": "NodePort", "ports": ports},
        });
        patches.push(json!({"patch": yaml(&patch)}));
    }
    let component = json!({
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "patches": patches,
    });
    (yaml(&component), listed)
}

fn production_kustomization(ns: &str, resources: &[Resource]) -> String {
    let mut patches = Vec::new();
    for r in resources.iter().filter(|r| r.kind() == "StatefulSet") {
        let claims = r.value["spec"]["volumeClaimTemplates"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        let ops: Vec<Value> = (0..claims)
            .map(|i| json!({"op": "replace", "path": format!("/spec/volumeClaimTemplates/{i}/spec/resources/requests/storage"), "value": "10Gi"}))
            .collect();
        patches.push(json!({
            "target": {"kind": "StatefulSet", "name": r.value["metadata"]["name"]},
            "patch": yaml(&ops),
        }));
    }
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": ns,
        "resources": ["../../base", "namespace.yaml"],
        "labels": [{"pairs": {"app.kubernetes.io/environment": "production"}, "includeSelectors": false}],
    });
    if !patches.is_empty() {
        k["patches"] = Value::Array(patches);
    }
    yaml(&k)
}

fn production_readme(ns: &str, secret: &Secret) -> String {
    let mut s = format!(
        "# {ns} in production: a starting point\n\n\
         This overlay is where the local stack's shortcuts end. Before `kubectl apply -k k8s/overlays/production`:\n\n\
         - **Images.** Push the images the base names to your registry and set them here (`images:` in kustomization.yaml).\n\
         - **Storage.** Each StatefulSet's claims ask for 10Gi (the patches here); set the size and `storageClassName` your cluster has.\n\
         - **Resources.** The base's requests and limits are defaults for a laptop; measure, then set them here.\n"
    );
    if !secret.values.is_empty() {
        s.push_str(&format!(
            "- **Secrets.** Nothing here generates Secret `{}`: create it from your secret store with the keys {} \
             (for example `kubectl -n {ns} create secret generic {} --from-env-file=FILE`). Never commit the values.\n",
            secret.name,
            secret.values.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            secret.name
        ));
    }
    for name in secret.files.keys() {
        s.push_str(&format!(
            "- **Secret `{name}`**, a file secret of the compose file: create it with the key `content` \
             (`kubectl -n {ns} create secret generic {name} --from-file=content=FILE`).\n"
        ));
    }
    s.push_str("- **Exposure.** Services are ClusterIP: add an Ingress (and TLS) for what the world should reach.\n");
    s
}
