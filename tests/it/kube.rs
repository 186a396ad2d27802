//! `brickyard export kubernetes` and `new --containers kubernetes`: what a
//! person gets to take the stack to a cluster.
//!
//! Plain tier: every compose file the engine reads exports, with a report
//! line for every key; secrets stay out of manifests; edits survive.
//! Validator tier: `kubectl kustomize` builds every overlay, and the
//! result passes the Kubernetes OpenAPI schemas (kubernetes-validate,
//! strict). Cluster tier (BRICKYARD_KUBE_TESTS=1 and a kubeconfig): the
//! local overlay applied to a real cluster comes up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::support::{
    brickyard, compose_fixtures, fails, new_project, run_tool as run_ok, stderr_of, stdout_of,
};

/// `brickyard ARGS` in `dir` without the Compose variables of the
/// environment that would change what a fixture means.
fn in_dir(dir: &Path) -> assert_cmd::Command {
    let mut cmd = brickyard();
    for var in ["COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir);
    cmd
}

/// Exports the project in `dir` to `out`; the report as JSON.
fn export(dir: &Path, out: &Path) -> Result<Value, String> {
    export_with(dir, out, &[])
}

fn export_with(dir: &Path, out: &Path, args: &[String]) -> Result<Value, String> {
    let o = in_dir(dir)
        .args(["export", "kubernetes", "--json", "-o"])
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    if !o.status.success() {
        return Err(stderr_of(&o));
    }
    Ok(serde_json::from_str(&stdout_of(&o)).expect("--json prints JSON"))
}

/// The fixtures `brickyard config` reads (the others are refused by the
/// loader, as by Compose, before any export).
fn readable_fixtures() -> Vec<(PathBuf, Value)> {
    compose_fixtures()
        .into_iter()
        .filter_map(|dir| {
            let o = in_dir(&dir)
                .args(["config", "--format", "json"])
                .output()
                .unwrap();
            o.status
                .success()
                .then(|| (dir, serde_json::from_str(&stdout_of(&o)).unwrap()))
        })
        .collect()
}

/// Whether the report has a line for compose key `key` of a service.
fn reported(lines: &[Value], key: &str) -> bool {
    lines.iter().any(|l| {
        let k = l["key"].as_str().unwrap();
        k == key || k.starts_with(&format!("{key}[")) || k.starts_with(&format!("{key}."))
    })
}

#[test]
fn every_compose_file_the_engine_reads_exports_with_every_key_reported() {
    let fixtures = readable_fixtures();
    assert!(
        fixtures.len() >= 100,
        "only {} fixtures load",
        fixtures.len()
    );
    let scratch = tempfile::tempdir().unwrap();
    let mut silent = Vec::new();
    let mut exported = 0;
    for (i, (dir, config)) in fixtures.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy();
        let services = config["services"].as_object().cloned().unwrap_or_default();
        let out = scratch.path().join(format!("{i}"));
        let report = match export(dir, &out) {
            Ok(r) => r,
            Err(e) if services.is_empty() => {
                assert!(e.contains("no service to export"), "{name}: {e}");
                continue;
            }
            Err(e) => panic!("{name}: export failed: {e}"),
        };
        exported += 1;
        for (service, keys) in &services {
            let lines = report["services"][service]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (key, value) in keys.as_object().unwrap() {
                if value.is_null() || key == "name" {
                    continue;
                }
                if !reported(&lines, key) {
                    silent.push(format!("{name}: {service}.{key}"));
                }
            }
        }
        let c = &report["counts"];
        let total: u64 = ["translated", "approximated", "not_translated"]
            .iter()
            .map(|k| c[k].as_u64().unwrap())
            .sum();
        let lines: usize = report["services"]
            .as_object()
            .unwrap()
            .values()
            .map(|l| l.as_array().unwrap().len())
            .sum::<usize>()
            + report["project_lines"].as_array().unwrap().len();
        assert_eq!(total as usize, lines, "{name}: counts do not add up");
        assert!(out.join("REPORT.md").is_file(), "{name}: no REPORT.md");
    }
    assert!(
        silent.is_empty(),
        "keys with no report line:\n{}",
        silent.join("\n")
    );
    assert!(exported >= 100, "only {exported} fixtures exported");
}

/// A hand-written project whose secrets reach the service every way
/// Compose allows: interpolated into env and command, a bare name, an
/// env_file, a shell healthcheck.
fn secretive_project(dir: &Path) {
    std::fs::write(
        dir.join("compose.yaml"),
        r#"services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD}
      PGUSER: app
    volumes: [data:/var/lib/postgresql/data]
    ports: ["127.0.0.1:5432:5432"]
    healthcheck:
      test: ["CMD-SHELL", "PGPASSWORD=${DB_PASSWORD} pg_isready -U app"]
      interval: 2s
  cache:
    image: redis:7
    command: [redis-server, --requirepass, "${CACHE_PASSWORD}"]
    healthcheck:
      test: [CMD, redis-cli, -a, "${CACHE_PASSWORD}", ping]
    expose: ["6379"]
  web:
    image: example/web:1
    env_file: [web.env]
    environment:
      - DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app
      - CACHE_PASSWORD
      - GREETING=$$(not a reference)
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
    ports: ["127.0.0.1:8080:80"]
    volumes: ["./site.conf:/etc/nginx/conf.d/site.conf:ro"]
    secrets: [api_key]
volumes:
  data: {}
secrets:
  api_key:
    file: ./api_key.txt
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join(".env"),
        "DB_PASSWORD=db-secret-4f9a0c7e\nCACHE_PASSWORD=cache-secret-77b1e2d9\n",
    )
    .unwrap();
    std::fs::write(dir.join("web.env"), "API_TOKEN=token-secret-19ce5a3b\n").unwrap();
    std::fs::write(dir.join("site.conf"), "server { listen 80; }\n").unwrap();
    std::fs::write(dir.join("api_key.txt"), "file-secret-5e0d17aa\n").unwrap();
}

const SECRET_VALUES: [&str; 4] = [
    "db-secret-4f9a0c7e",
    "cache-secret-77b1e2d9",
    "token-secret-19ce5a3b",
    "file-secret-5e0d17aa",
];

/// No secret value in any exported file but the git-ignored ones the
/// local overlay's Secret is generated from.
fn no_secret_outside_the_local_overlay(k8s: &Path) {
    for file in crate::support::tree(k8s) {
        if file == "overlays/local/secrets.env" || file.starts_with("overlays/local/secret-files/")
        {
            continue;
        }
        let text = read(&k8s.join(&file));
        for v in SECRET_VALUES {
            assert!(!text.contains(v), "{file} holds the secret {v}:\n{text}");
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn secrets_reach_the_pods_through_the_secret_and_never_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    secretive_project(dir.path());
    in_dir(dir.path())
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();
    let k8s = dir.path().join("k8s");
    no_secret_outside_the_local_overlay(&k8s);
    let secrets = read(&k8s.join("overlays/local/secrets.env"));
    assert!(
        secrets.contains("DB_PASSWORD=db-secret-4f9a0c7e\n"),
        "{secrets}"
    );
    assert!(
        secrets.contains("CACHE_PASSWORD=cache-secret-77b1e2d9\n"),
        "{secrets}"
    );
    assert!(
        secrets.contains("API_TOKEN=token-secret-19ce5a3b\n"),
        "{secrets}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(k8s.join("overlays/local/secrets.env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "secrets.env is readable by others");
    assert!(read(&k8s.join(".gitignore")).contains("/overlays/local/secrets.env"));
    // A compose file secret: its own Secret, from a git-ignored copy, mounted
    // where Compose mounts it.
    let copies = k8s.join("overlays/local/secret-files");
    let copy = std::fs::read_dir(&copies)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        copy.to_string_lossy().ends_with("-secret-api-key"),
        "{copy:?}"
    );
    assert_eq!(read(&copy), "file-secret-5e0d17aa\n");
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(read(&k8s.join(".gitignore")).contains("/overlays/local/secret-files/"));
    let web = read(&k8s.join("base/web.yaml"));
    assert!(web_mounts_secret(&web), "{web}");
    let local: serde_yaml::Value =
        serde_yaml::from_str(&read(&k8s.join("overlays/local/kustomization.yaml"))).unwrap();
    assert_eq!(
        local["secretGenerator"][0]["envs"][0].as_str(),
        Some("secrets.env"),
        "{local:?}"
    );

    // How each secret is referenced: env from the Secret, `$(NAME)` in
    // values and args, `${NAME}` in a shell probe.
    let web = read(&k8s.join("base/web.yaml"));
    assert!(
        web.contains("value: postgres://app:$(DB_PASSWORD)@db:5432/app"),
        "{web}"
    );
    assert!(web.contains("value: $$(not a reference)"), "{web}");
    assert!(web.contains("key: API_TOKEN"), "{web}");
    assert!(web.contains("name: wait-for-db"), "{web}");
    assert!(web.contains("subPath: site.conf"), "{web}");
    let db = read(&k8s.join("base/db.yaml"));
    assert!(
        db.contains("PGPASSWORD=${POSTGRES_PASSWORD} pg_isready -U app"),
        "{db}"
    );
    assert!(db.contains("kind: StatefulSet"), "{db}");
    let cache = read(&k8s.join("base/cache.yaml"));
    assert!(cache.contains("- $(CACHE_PASSWORD)"), "{cache}");
    assert!(
        cache.contains(r#"redis-cli -a "${CACHE_PASSWORD}" ping"#),
        "{cache}"
    );
}

/// A bind mount of a directory that holds the project's secrets (the
/// project itself, as a CI server's checkout mounts it) or of a secret file
/// is no ConfigMap: a ConfigMap is readable by anyone who reads the
/// namespace's configuration, and is committed with the manifests.
#[test]
fn a_mount_holding_the_projects_secrets_is_not_made_a_config_map() {
    let dir = tempfile::tempdir().unwrap();
    secretive_project(dir.path());
    std::fs::write(
        dir.path().join("compose.override.yaml"),
        "services:\n  ci:\n    image: example/ci:1\n    volumes:\n      - ./:/project:ro\n      - ./web.env:/etc/web.env:ro\n      - ./api_key.txt:/etc/api_key:ro\n      - ./site.conf:/etc/site.conf:ro\n",
    )
    .unwrap();
    let out = dir.path().join("k8s");
    let report = export(dir.path(), &out).unwrap();
    no_secret_outside_the_local_overlay(&out);
    let lines = report["services"]["ci"].as_array().unwrap();
    let line = |key: &str| {
        lines
            .iter()
            .find(|l| l["key"] == key)
            .unwrap_or_else(|| panic!("no line for {key}: {lines:?}"))
    };
    for (key, holds) in [
        ("volumes[0] /project", ".env"),
        ("volumes[1] /etc/web.env", "web.env"),
        ("volumes[2] /etc/api_key", "api_key.txt"),
    ] {
        let l = line(key);
        assert_eq!(l["outcome"], "not_translated", "{l}");
        let why = l["note"].as_str().unwrap();
        assert!(why.contains(holds) && why.contains("secret"), "{key}: {l}");
    }
    assert_eq!(line("volumes[3] /etc/site.conf")["outcome"], "translated");
}

fn web_mounts_secret(web: &str) -> bool {
    web.contains("mountPath: /run/secrets/api_key") && web.contains("-secret-api-key")
}

#[test]
fn a_second_export_keeps_what_a_person_edited() {
    let dir = tempfile::tempdir().unwrap();
    secretive_project(dir.path());
    let k8s = dir.path().join("k8s");
    in_dir(dir.path())
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();

    // An overlay of production is the person's from the first export on.
    let prod = k8s.join("overlays/production/kustomization.yaml");
    let mut mine = read(&prod);
    mine.push_str("images:\n- name: example/web\n  newTag: \"2\"\n");
    std::fs::write(&prod, &mine).unwrap();
    // A generated base file edited by hand: the next export stops.
    let web = k8s.join("base/web.yaml");
    let edited = read(&web).replace("replicas: 1", "replicas: 3");
    std::fs::write(&web, &edited).unwrap();
    // and compose.yaml changed, so the base would change too.
    let compose = read(&dir.path().join("compose.yaml")).replace("redis:7", "redis:7.4");
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let cache_before = read(&k8s.join("base/cache.yaml"));

    let err = fails(in_dir(dir.path()).args(["export", "kubernetes"]));
    assert!(err.contains("base/web.yaml"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(read(&web), edited, "the edit is gone");
    assert_eq!(
        read(&k8s.join("base/cache.yaml")),
        cache_before,
        "a refused export wrote"
    );

    in_dir(dir.path())
        .args(["export", "kubernetes", "-q", "--force"])
        .assert()
        .success();
    assert!(read(&k8s.join("base/cache.yaml")).contains("image: redis:7.4"));
    assert!(read(&web).contains("replicas: 1"));
    assert_eq!(read(&prod), mine, "production's overlay was replaced");

    // A service removed from compose.yaml: its manifest goes.
    let compose = read(&dir.path().join("compose.yaml"));
    let without_cache = compose
        .replace("      cache: {condition: service_started}\n", "")
        .replace("      - CACHE_PASSWORD\n", "");
    let start = without_cache.find("  cache:\n").unwrap();
    let end = without_cache.find("  web:\n").unwrap();
    let without_cache = format!("{}{}", &without_cache[..start], &without_cache[end..]);
    std::fs::write(dir.path().join("compose.yaml"), without_cache).unwrap();
    in_dir(dir.path())
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();
    assert!(!k8s.join("base/cache.yaml").exists());
    assert!(!read(&k8s.join("base/kustomization.yaml")).contains("cache.yaml"));
}

/// Two exports at once (a person's and an `add`'s, or two terminals): the
/// second waits for the first, and both succeed.
#[test]
fn two_exports_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    secretive_project(dir.path());
    // Each round is a fresh start, where both see no k8s/ yet.
    for round in 0..25 {
        let _ = std::fs::remove_dir_all(dir.path().join("k8s"));
        let start = || {
            Command::new(crate::support::bin())
                .args(["export", "kubernetes", "-q"])
                .current_dir(dir.path())
                .env("CI", "true")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (start(), start());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr_of(&out));
        }
    }
}

/// Ctrl-C while an export writes: k8s/ is as it was (absent, or the last
/// export's), with no staging directory left in it.
#[cfg(unix)]
#[test]
fn ctrl_c_during_an_export_leaves_k8s_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    secretive_project(dir.path());
    let p = dir.path().to_str().unwrap();
    let out = crate::support::interrupted(
        &["-C", p, "export", "kubernetes"],
        std::time::Duration::from_millis(700),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(
        !dir.path().join("k8s").exists(),
        "a first export left k8s/ behind"
    );

    in_dir(dir.path())
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();
    let k8s = dir.path().join("k8s");
    let before: Vec<(String, String)> = crate::support::tree(&k8s)
        .into_iter()
        .map(|f| (read(&k8s.join(&f)), f))
        .map(|(c, f)| (f, c))
        .collect();
    let compose = read(&dir.path().join("compose.yaml")).replace("redis:7", "redis:7.4");
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let out = crate::support::interrupted(
        &["-C", p, "export", "kubernetes", "--force"],
        // Two files change (cache.yaml and the record): 250 ms each.
        std::time::Duration::from_millis(350),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    let after: Vec<(String, String)> = crate::support::tree(&k8s)
        .into_iter()
        .map(|f| (f.clone(), read(&k8s.join(&f))))
        .collect();
    assert_eq!(before, after, "an interrupted export changed k8s/");
}

#[test]
fn an_export_of_a_generated_project_names_what_it_wrote() {
    let (_dir, project) = new_project(&["--preset", "minimal"]);
    let out = in_dir(&project)
        .args(["export", "kubernetes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stderr_of(&out) + &stdout_of(&out);
    assert!(said.contains("Deployment"), "{said}");
    assert!(said.contains("translated"), "{said}");
    assert!(said.contains("kubectl apply -k"), "{said}");
    let report = read(&project.join("k8s/REPORT.md"));
    assert!(report.contains("## app"), "{report}");
}

#[test]
fn new_with_kubernetes_writes_k8s_and_add_and_remove_keep_it_in_step() {
    let (_dir, project) = new_project(&[
        "--containers",
        "kubernetes",
        "--services",
        "postgres",
        "--monitoring",
        "none",
    ]);
    let k8s = project.join("k8s");
    let base = read(&k8s.join("base/kustomization.yaml"));
    assert!(
        base.contains("postgres.yaml") && base.contains("app.yaml"),
        "{base}"
    );
    assert!(read(&project.join("README.md")).contains("kubectl apply -k k8s/overlays/local"));
    let env = read(&project.join(".env"));
    let password = env
        .lines()
        .find_map(|l| l.strip_prefix("POSTGRES_PASSWORD="))
        .unwrap()
        .to_string();
    assert!(read(&k8s.join("overlays/local/secrets.env")).contains(&password));
    assert!(!read(&k8s.join("base/app.yaml")).contains(&password));

    let out = in_dir(&project).args(["add", "redis"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("k8s/"), "{}", stderr_of(&out));
    assert!(read(&k8s.join("base/app.yaml")).contains("key: REDIS_PASSWORD"));
    assert!(k8s.join("base/redis.yaml").is_file());

    in_dir(&project)
        .args(["remove", "redis", "-q"])
        .assert()
        .success();
    assert!(!k8s.join("base/redis.yaml").exists());
    assert!(!read(&k8s.join("base/app.yaml")).contains("REDIS_PASSWORD"));

    in_dir(&project)
        .args(["update", "--undo", "-q"])
        .assert()
        .success();
    assert!(
        k8s.join("base/redis.yaml").is_file(),
        "undo left k8s/ behind compose.yaml"
    );
}

// ---- validator tier -------------------------------------------------------

/// Every way the export is meant to be applied, built by `kubectl
/// kustomize` into `into/NAME-*.yaml`: the base, both overlays, and local
/// with the nodeport component.
fn build_overlays(name: &str, k8s: &Path, into: &Path) -> Vec<PathBuf> {
    build_some(
        name,
        k8s,
        into,
        &[
            "base",
            "overlays/local",
            "overlays/production",
            "overlays/local-nodeport",
        ],
    )
}

fn build_some(name: &str, k8s: &Path, into: &Path, which: &[&str]) -> Vec<PathBuf> {
    let with_nodeport = k8s.join("overlays/local-nodeport");
    std::fs::create_dir_all(&with_nodeport).unwrap();
    std::fs::write(
        with_nodeport.join("kustomization.yaml"),
        "resources: [../local]\ncomponents: [../../components/nodeport]\n",
    )
    .unwrap();
    which
        .iter()
        .map(|which| {
            let yaml = run_ok(
                &format!("kubectl kustomize {name}/k8s/{which}"),
                Command::new("kubectl")
                    .arg("kustomize")
                    .arg(k8s.join(which)),
            );
            // As JSON documents: PyYAML (under kubernetes-validate) takes a
            // plain `<<`, which Go's YAML writes unquoted, for a merge key.
            let docs: Vec<String> = serde_yaml::Deserializer::from_str(&yaml)
                .map(|d| {
                    let v = serde_json::Value::deserialize(d).unwrap();
                    serde_json::to_string(&v).unwrap()
                })
                .collect();
            let file = into.join(format!("{name}-{}.yaml", which.replace('/', "-")));
            std::fs::write(&file, docs.join("\n---\n")).unwrap();
            file
        })
        .collect()
}

/// kubernetes-validate, strict: every resource against the OpenAPI
/// schema of its kind, no field it does not know.
fn validate(files: &[PathBuf]) {
    for chunk in files.chunks(200) {
        run_ok(
            "kubernetes-validate --strict",
            Command::new("kubernetes-validate")
                .args(["--strict", "--quiet"])
                .args(chunk),
        );
    }
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn every_preset_and_catalog_service_exports_valid_manifests() {
    use brickyard::catalog::{Catalog, Theme};
    let scratch = tempfile::tempdir().unwrap();
    let built = scratch.path().join("built");
    std::fs::create_dir(&built).unwrap();
    let catalog = Catalog::load(&[]).unwrap();
    let mut projects: Vec<(String, Vec<String>)> = catalog
        .presets()
        .map(|p| {
            (
                format!("preset-{}", p.id),
                vec!["--preset".into(), p.id.clone()],
            )
        })
        .collect();
    for e in catalog
        .entries()
        .filter(|e| !e.services.is_empty() || e.theme == Theme::App)
    {
        let flag = format!("--{}", e.theme.id());
        projects.push((e.id.clone(), vec![flag, e.id.clone()]));
    }
    let mut files = Vec::new();
    let mut figures = BTreeMap::new();
    for (name, args) in &projects {
        let project = scratch.path().join(name);
        let out = crate::support::new_at(&project, args);
        if !out.status.success() {
            // An entry that needs a pick `--yes` cannot make (an app for a
            // tunnel): the generate tests cover those combinations.
            let err = stderr_of(&out);
            assert!(err.contains("needs"), "{name}: {err}");
            continue;
        }
        // Every service, those of profiles (tools run now and then) too.
        let profiles = stdout_of(
            &in_dir(&project)
                .args(["config", "--profiles"])
                .output()
                .unwrap(),
        );
        let every_profile: Vec<String> = profiles
            .lines()
            .flat_map(|p| ["--profile".to_string(), p.to_string()])
            .collect();
        let report = export_with(&project, &project.join("k8s"), &every_profile)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        files.extend(build_overlays(name, &project.join("k8s"), &built));
        figures.insert(
            name.clone(),
            (report["resources"].clone(), report["counts"].clone()),
        );
    }
    assert!(figures.len() >= 20, "only {} projects", figures.len());
    validate(&files);
    for (name, (resources, counts)) in figures.iter().filter(|(n, _)| n.starts_with("preset-")) {
        eprintln!("{name}: resources {resources}, report {counts}");
    }
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn every_compose_file_the_engine_reads_exports_valid_manifests() {
    let scratch = tempfile::tempdir().unwrap();
    let built = scratch.path().join("built");
    std::fs::create_dir(&built).unwrap();
    let mut files = Vec::new();
    for (i, (dir, config)) in readable_fixtures().iter().enumerate() {
        if config["services"].as_object().is_none_or(|s| s.is_empty()) {
            continue;
        }
        let name = format!("{i:03}-{}", dir.file_name().unwrap().to_string_lossy());
        let k8s = scratch.path().join(&name);
        export(dir, &k8s).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The overlays add the same to every project (the presets and
        // entries build them all): here, what each file makes of the base.
        files.extend(build_some(&name, &k8s, &built, &["base", "overlays/local"]));
    }
    assert!(files.len() >= 200, "only {} builds", files.len());
    validate(&files);
}

// ---- Docker tier ------------------------------------------------------------

/// The init container that keeps start order, run for real: on a network
/// where the dependency is not there yet, it waits; once the dependency
/// answers on its port, it ends, and says so.
#[test]
#[cfg_attr(
    not(docker_tests),
    ignore = "Docker tier: set BRICKYARD_DOCKER_TESTS=1 (.ci/run does)"
)]
fn the_wait_for_a_dependency_waits_until_it_answers() {
    use crate::docker::{IMAGE, docker, docker_tier, free_ports, stdout, web};
    docker_tier();
    let dir = tempfile::tempdir().unwrap();
    let [port] = free_ports();
    let compose = format!(
        "services:\n  db:\n{}  api:\n    image: {IMAGE}\n    command: [sleep, \"3600\"]\n    depends_on:\n      db: {{condition: service_healthy}}\n",
        web(port, "")
    );
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    in_dir(dir.path())
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();
    let api: serde_yaml::Value =
        serde_yaml::Deserializer::from_str(&read(&dir.path().join("k8s/base/api.yaml")))
            .map(|d| serde_yaml::Value::deserialize(d).unwrap())
            .find(|d| d["kind"] == "Deployment")
            .unwrap();
    let wait = &api["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(wait["name"].as_str(), Some("wait-for-db"));
    let script: Vec<String> = wait["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();

    let tag = format!("by-kube-wait-{}", std::process::id());
    let cleanup = scopeguard(|| {
        let _ = docker(&["rm", "-f", &format!("{tag}-waiter"), &format!("{tag}-db")]);
        let _ = docker(&["network", "rm", &tag]);
    });
    assert!(docker(&["network", "create", &tag]).status.success());
    let mut run = vec!["run", "-d", "--name"];
    let waiter = format!("{tag}-waiter");
    run.extend([waiter.as_str(), "--network", &tag, IMAGE]);
    run.extend(script.iter().map(String::as_str));
    let started = docker(&run);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    let state = |c: &str| {
        stdout(&docker(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            c,
        ]))
    };
    assert_eq!(
        state(&waiter),
        "running 0",
        "it stopped waiting with nothing there"
    );
    let db = format!("{tag}-db");
    let served = docker(&[
        "run",
        "-d",
        "--name",
        &db,
        "--network",
        &tag,
        "--network-alias",
        "db",
        IMAGE,
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/",
    ]);
    assert!(
        served.status.success(),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while state(&waiter).starts_with("running") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    assert_eq!(state(&waiter), "exited 0", "it did not see db answer");
    let logs = docker(&["logs", &waiter]);
    assert!(
        stdout(&logs).contains("waiting for db:80"),
        "{}",
        stdout(&logs)
    );
    assert!(stdout(&logs).contains("db:80 answers"), "{}", stdout(&logs));
    drop(cleanup);
}

// ---- cluster tier -----------------------------------------------------------

#[test]
#[cfg_attr(
    not(kube_tests),
    ignore = "cluster tier: set BRICKYARD_KUBE_TESTS=1 with a kubeconfig (README: on kind)"
)]
fn the_local_overlay_comes_up_on_a_cluster() {
    let kubectl = |args: &[&str]| -> String {
        run_ok(
            &format!("kubectl {}", args.join(" ")),
            Command::new("kubectl").args(args),
        )
    };
    kubectl(&["version"]);
    let (_dir, project) = new_project(&["--preset", "minimal"]);
    // The app's image: built here, then handed to the cluster.
    in_dir(&project)
        .args(["up", "--no-wait", "-q"])
        .assert()
        .success();
    in_dir(&project).args(["down", "-q"]).assert().success();
    in_dir(&project)
        .args(["export", "kubernetes", "-q"])
        .assert()
        .success();
    let ns = project.file_name().unwrap().to_string_lossy().to_string();
    if let Ok(cluster) = std::env::var("KIND_CLUSTER") {
        run_ok(
            "kind load",
            Command::new("kind").args([
                "load",
                "docker-image",
                &format!("{ns}-app"),
                "--name",
                &cluster,
            ]),
        );
    }
    let overlay = project.join("k8s/overlays/local");
    kubectl(&["apply", "-k", overlay.to_str().unwrap()]);
    let cleanup = scopeguard(|| {
        let _ = Command::new("kubectl")
            .args(["delete", "namespace", &ns, "--wait=false"])
            .output();
    });
    kubectl(&[
        "-n",
        &ns,
        "rollout",
        "status",
        "deployment/app",
        "--timeout=300s",
    ]);
    kubectl(&[
        "-n",
        &ns,
        "wait",
        "--for=condition=Ready",
        "pod",
        "--all",
        "--timeout=300s",
    ]);
    let health = kubectl(&[
        "-n",
        &ns,
        "exec",
        "deployment/app",
        "--",
        "python3",
        "-c",
        "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8000/health').read().decode())",
    ]);
    assert!(health.contains("ok"), "{health}");
    drop(cleanup);
}

/// Runs `f` when dropped, so a failed assertion still cleans the cluster.
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
