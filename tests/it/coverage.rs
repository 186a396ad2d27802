//! The README's coverage table, generated from the catalog: every tool, its
//! theme, whether it runs in the stack, and how it is proven. The test fails
//! when the README drifts; `BRICKYARD_BLESS=1 cargo test --test it coverage`
//! rewrites the table.

use brickyard::catalog::{Catalog, Check, Entry, Theme};

const START: &str = "<!-- coverage: generated from the catalog by tests/it/coverage.rs -->";
const END: &str = "<!-- /coverage -->";

/// What the validator tier (tests/it/validators.rs) runs on each kind of
/// generated file, by the end of its path; the first match wins.
const VALIDATORS: &[(&str, &str)] = &[
    (".github/workflows/ci.yml", "workflow schema, actionlint"),
    (".github/dependabot.yml", "dependabot schema"),
    (".gitlab-ci.yml", "gitlab-ci schema"),
    (".travis.yml", "travis schema"),
    (".woodpecker.yml", "woodpecker schema"),
    ("bitbucket-pipelines.yml", "bitbucket-pipelines schema"),
    ("Dockerfile", "hadolint"),
    ("prometheus.yml", "promtool"),
    ("playbook.yml", "ansible-playbook --syntax-check"),
    // Read by the playbook's syntax check, run where they are.
    ("inventory.ini", "ansible-playbook --syntax-check"),
    ("ansible.cfg", "ansible-playbook --syntax-check"),
    ("monitoring/nagios/app.cfg", "nagios4 -v"),
    ("promises.cf", "cf-promises --full-check"),
    (".hgignore", "hg status --ignored (.env ignored)"),
    ("ops/hg/hgrc", "hg config hooks"),
    (".gitattributes", "git check-attr"),
    ("Vagrantfile", "ruby -c, vagrant validate"),
    (
        "ci/notify.sh",
        "shellcheck; posts to a fake webhook (chat.rs)",
    ),
    ("Jenkinsfile", "groovyc (syntax)"),
    (
        "ci/jenkins/jenkins.yaml",
        "groovyc (its job DSL); node, job and variables match the agent, health check and compose.yaml",
    ),
    (
        "ci/jenkins/plugins.txt",
        "jenkins-plugin-cli's format; names each plugin used",
    ),
    (
        "pagerduty/watch.py",
        "pages and resolves on a fake Events API (hosted.rs)",
    ),
    ("master.cfg", "buildbot checkconfig (Buildbot 4.3)"),
    ("app/nginx.conf", "nginx -t"),
    (".sh", "shellcheck"),
    (
        "app.spec.ts",
        "Playwright 1.65 runs it in Chromium against the Python app and the static site",
    ),
    (
        "playwright.config.ts",
        "Playwright 1.65 runs it in Chromium against the Python app and the static site",
    ),
    (
        "rules.tsv",
        "the rule format zap-baseline.py reads (no ZAP here)",
    ),
    ("adapters/http.mjs", "hubot --config-check, answers ping"),
    ("scripts/stack.mjs", "hubot --config-check, answers ping"),
    (
        "compose.vagrant.yaml",
        "docker compose config over compose.yaml",
    ),
    ("example-status.json", "served by WireMock 3.13"),
    ("_status.get.json", "served by Canned 0.3.13"),
    (".rb", "ruby -c"),
    (".pp", "puppet parser validate"),
    (".py", "py_compile"),
    (".json", "JSON parse"),
    (".yml", "YAML parse"),
    (".yaml", "YAML parse"),
];

/// What an entry changes in the app, proven by a test of its own (not a
/// file of its own): the entry, the claim, the test in hosted.rs.
const APP_WIRING: &[(&str, &str, &str)] = &[
    (
        "scout",
        "the Python app reports each request to a fake core agent",
        "the_python_app_reports_each_request_to_scout_once_its_key_is_set",
    ),
    (
        "elasticsearch-kibana",
        "its setup gives Kibana its password and makes the logs' data view, against fakes of both APIs",
        "the_logs_setup_lets_kibana_log_in_and_makes_the_logs_data_view",
    ),
];

/// The app's own tests, which the validator tier runs with every service.
const APP_TESTS: &[(&str, &str)] = &[
    ("python", "unittest"),
    ("node", "node --test"),
    ("go", "gofmt, go vet, go test"),
    ("rust", "cargo test --locked"),
    ("ruby", "ruby -wc, minitest"),
    ("java", "javac -Xlint:all -Werror, its JDK-only tests"),
    ("static", "nginx -t, test.sh (nginx serves it)"),
];

/// Entries a Docker-tier test (tests/it/docker.rs) boots from a generated
/// project and proves with `verify`, that test, and what played the tool
/// where it is not the real one.
const BOOTED: &[(&str, &str, &str)] = &[
    (
        "python",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "node",
        "the_node_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "go",
        "the_go_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "rust",
        "the_rust_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "ruby",
        "the_ruby_app_feeds_its_monitoring_and_uses_each_service",
        "Debian's Ruby 3.1",
    ),
    (
        "java",
        "the_java_app_feeds_its_monitoring_and_uses_each_service",
        "Debian's OpenJDK 17",
    ),
    (
        "static",
        "a_static_site_boots_as_nginx_and_prometheus_scrapes_it",
        "Debian's nginx 1.22",
    ),
    ("ganglia", "ganglia_graphs_the_apps_metrics", ""),
    (
        "postgres",
        "a_generated_python_project_boots_and_its_app_uses_its_services",
        "",
    ),
    (
        "redis",
        "a_generated_python_project_boots_and_its_app_uses_its_services",
        "",
    ),
    (
        "mysql",
        "mysql_is_proven_by_a_query_as_the_apps_user",
        "MariaDB",
    ),
    (
        "memcached",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "rabbitmq",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "beanstalkd",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "Debian's beanstalkd 1.12",
    ),
    (
        "mailpit",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "a fake: .ci/fakes/mailpit.py",
    ),
    (
        "minio",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "a fake checking signatures with botocore",
    ),
    (
        "graphite-statsd",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "Grafana faked",
    ),
    (
        "influxdb-grafana",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "InfluxDB 1.x; Grafana faked",
    ),
    (
        "prometheus-grafana",
        "demo_boots_proves_itself_and_fails_when_the_database_stops",
        "Grafana faked",
    ),
    (
        "compose",
        "four_services_come_up_in_dependency_order_all_healthy",
        "",
    ),
    (
        "wiremock",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "WireMock's jar from npm on Java 17",
    ),
    (
        "canned",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "couchdb",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "a fake: .ci/fakes/couchdb.py",
    ),
    (
        "pagerduty",
        "a_generated_python_project_boots_and_its_app_uses_its_services",
        "no routing key: it logs only",
    ),
    (
        "nagios",
        "a_generated_node_project_boots_and_its_app_uses_its_services",
        "Debian's Nagios Core 4.4; it checks the app and each port, and a stopped Redis turns CRITICAL",
    ),
    (
        "hubot",
        "the_python_app_feeds_its_monitoring_and_uses_each_service",
        "",
    ),
    (
        "buildbot",
        "a_generated_python_project_boots_and_its_app_uses_its_services",
        "Buildbot 3.7 master; a forced build passes",
    ),
    (
        "jenkins",
        "the_local_jenkins_agent_connects_and_runs_the_jenkinsfile_as_its_own_user",
        "the controller faked (Jenkins ships no Debian package); the generated agent connects to it and runs the Jenkinsfile's steps",
    ),
];

/// Why an entry that runs in the stack is not booted.
const NOT_BOOTED: &[(&str, &str)] = &[
    ("gitea", "no stand-in (no Debian package)"),
    ("woodpecker", "no stand-in; needs a Gitea OAuth app"),
    (
        "gitlab-self-hosted",
        "no stand-in (GitLab ships no Debian package)",
    ),
    (
        "new-relic",
        "no stand-in; needs a license key (profile `new-relic`)",
    ),
    (
        "ngrok",
        "needs the internet and an authtoken; profile `share`",
    ),
    ("podman", "the engine tests run on Podman"),
    (
        "kubernetes",
        "no cluster can start on the build machines; with one, BRICKYARD_KUBE_TESTS=1 applies the local overlay (`the_local_overlay_comes_up_on_a_cluster`)",
    ),
    (
        "cloudflared",
        "needs the internet (Cloudflare's edge); profile `share`",
    ),
    (
        "elasticsearch-kibana",
        "no stand-in (Elastic ships no Debian package; Fluent Bit neither); every service's logs reach a fake Fluent Bit through the generated logging wiring (`every_service_ships_its_logs_to_fluent_bit`)",
    ),
];

fn validated(entry: &Entry) -> String {
    let mut by: Vec<String> = Vec::new();
    // An app's own sources are proven by its build and its own tests.
    let own = |path: &str| {
        entry.theme == Theme::App && (path.starts_with("app/") || path == ".dockerignore")
    };
    for file in entry.files.iter().filter(|f| !own(&f.path)) {
        let what = match VALIDATORS.iter().find(|(end, _)| file.path.ends_with(end)) {
            Some((_, v)) => v.to_string(),
            None => format!(
                "{}: not checked",
                file.path.rsplit('/').next().unwrap_or(&file.path)
            ),
        };
        if !by.contains(&what) {
            by.push(what);
        }
    }
    if let Some((_, claim, test)) = APP_WIRING.iter().find(|(id, ..)| *id == entry.id) {
        by.push(format!("{claim} (`{test}`)"));
    }
    if let Some((_, tests)) = APP_TESTS.iter().find(|(id, _)| *id == entry.id) {
        by.push(tests.to_string());
    }
    if !entry.services.is_empty() {
        by.push("docker compose config".into());
    }
    if !entry.services.is_empty() || entry.exports_kubernetes {
        by.push("its Kubernetes manifests: kubectl kustomize, kubernetes-validate --strict".into());
    }
    if by.is_empty() {
        "nothing to check".into()
    } else {
        by.join("; ")
    }
}

fn booted(entry: &Entry) -> String {
    if let Some((_, test, played)) = BOOTED.iter().find(|(id, ..)| *id == entry.id) {
        let by = if played.is_empty() {
            String::new()
        } else {
            format!(", {played}")
        };
        return format!("yes (`{test}`{by})");
    }
    if let Some((_, why)) = NOT_BOOTED.iter().find(|(id, _)| *id == entry.id) {
        return format!("no: {why}");
    }
    if entry.services.is_empty() {
        "—".into()
    } else {
        "no".into()
    }
}

fn smoke_checks(entry: &Entry) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for check in entry.checks.iter().chain(&entry.wires.app_checks) {
        kinds.push(match check {
            Check::Http { path, .. } => format!("GET {}", path.split('?').next().unwrap_or(path)),
            Check::Tcp { port, .. } => format!("tcp {port}"),
            Check::Exec { command, name, .. } => name.clone().unwrap_or_else(|| command[0].clone()),
            Check::AppHealth { .. } => "GET /health (each service it reports)".into(),
            Check::PrometheusTargets { .. } => "targets up".into(),
            Check::GrafanaDatasource { .. } => "datasource".into(),
            Check::GraphiteSeries { .. } | Check::InfluxqlSeries { .. } => {
                "dashboard series have data".into()
            }
        });
    }
    if kinds.is_empty() {
        "—".into()
    } else {
        kinds.join(", ")
    }
}

fn table(catalog: &Catalog) -> String {
    let mut out = String::from(
        "| tool | theme | runs | validated by | booted in the Docker tier | smoke checks (`verify`) |\n|---|---|---|---|---|---|\n",
    );
    for theme in Theme::ALL {
        for e in catalog.in_theme(theme) {
            let runs = if e.services.is_empty() {
                "files"
            } else {
                "local"
            };
            out.push_str(&format!(
                "| {} (`{}`) | {} | {runs} | {} | {} | {} |\n",
                e.name,
                e.id,
                theme.id(),
                validated(e),
                booted(e),
                smoke_checks(e)
            ));
        }
    }
    out
}

#[test]
fn the_readme_coverage_table_is_the_catalogs() {
    let catalog = Catalog::load(&[]).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = readme
        .split_once(START)
        .expect("README has the coverage markers");
    let (_, tail) = rest.split_once(END).expect("README has the end marker");
    let fresh = format!("{head}{START}\n{}{END}{tail}", table(&catalog));
    if crate::support::switch("BRICKYARD_BLESS") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        readme == fresh,
        "README's coverage table is not the catalog's; run BRICKYARD_BLESS=1 cargo test --test it coverage"
    );
}

/// The table's claims name real tests and real validator runs.
#[test]
fn the_coverage_claims_name_real_tests() {
    let docker = include_str!("docker.rs");
    for (id, test, _) in BOOTED {
        assert!(
            docker.contains(&format!("fn {test}()")),
            "{id}: no test `{test}` in docker.rs"
        );
    }
    // Validator runs, and the tests that run a generated file against fakes.
    let validators = [
        include_str!("validators.rs"),
        include_str!("chat.rs"),
        include_str!("hosted.rs"),
    ]
    .concat();
    for (end, _) in VALIDATORS {
        // Read by name or by extension; the Ansible files by the playbook's check.
        let by_playbook = ["inventory.ini", "ansible.cfg"].contains(end);
        let named = if by_playbook {
            "playbook.yml"
        } else {
            end.rsplit('/').next().unwrap()
        };
        assert!(
            validators.contains(named),
            "validators.rs never checks {end}"
        );
    }
    let hosted = include_str!("hosted.rs");
    for (id, _, test) in APP_WIRING {
        assert!(
            hosted.contains(&format!("fn {test}()")),
            "{id}: no test `{test}` in hosted.rs"
        );
    }
    let catalog = Catalog::load(&[]).unwrap();
    let ids = BOOTED.iter().map(|(id, ..)| id);
    for id in ids.chain(NOT_BOOTED.iter().map(|(id, _)| id)) {
        assert!(catalog.get(id).is_some(), "`{id}` is not in the catalog");
    }
}
