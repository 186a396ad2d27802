//! Every generated file passes its ecosystem's own validator, for every
//! catalog entry (each with every app language), not only the presets.
//! Opt-in with BRICKYARD_VALIDATORS=1 (`.ci/run` installs the tools); when it
//! is on, a missing tool is a failure, never a skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use brickyard::catalog::{Catalog, Theme};
use brickyard::generate::{files, write};
use brickyard::plan::{resolve, sample_answers, set_app};

use crate::support::tree;

/// One project per (entry, app language), generated through the library.
fn generate_all(root: &Path) -> Vec<PathBuf> {
    let catalog = Catalog::load(&[]).unwrap();
    // `none` too: a project without an app must be as valid as one with.
    let apps: Vec<String> = catalog
        .in_theme(Theme::App)
        .map(|e| e.id.clone())
        .chain(["none".to_string()])
        .collect();
    let mut seen = BTreeMap::new();
    // Each CI with a chat that gets its results (its notify hook), the
    // chats taking turns, with and without an app.
    let chats = ["slack", "mattermost", "google-chat"];
    let with_chat = catalog.in_theme(Theme::Ci).enumerate().map(|(i, ci)| {
        let mut answers = sample_answers(&catalog, &ci.id);
        answers.set(Theme::Chat, vec![chats[i % chats.len()].to_string()]);
        (ci, answers)
    });
    let samples = catalog
        .entries()
        .map(|e| (e, sample_answers(&catalog, &e.id)))
        .chain(with_chat);
    for (entry, sample) in samples {
        for app in &apps {
            let mut answers = sample.clone();
            // What the app rules out (a static site: services) drops.
            if entry.theme != Theme::App && !set_app(&catalog, &mut answers, &entry.id, app) {
                continue;
            }
            let key = format!("{answers:?}");
            if seen.contains_key(&key) {
                continue;
            }
            let name = format!("p{:03}-{}-{app}", seen.len(), entry.id);
            let plan = match resolve(&catalog, &name, &answers, |n| format!("test-{n}")) {
                Ok(plan) => plan,
                // An entry that needs an app (a mock, a tunnel), or one app
                // (Scout: Python), has no project without it.
                Err(brickyard::plan::PlanError::Missing {
                    theme: Theme::App, ..
                }) => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            let project = root.join(&name);
            write::write(&project, &files(&catalog, &plan, &project).unwrap(), false).unwrap();
            seen.insert(key, project);
        }
    }
    seen.into_values().collect()
}

fn run(what: &str, cmd: &mut Command) {
    crate::support::run_tool(what, cmd);
}

/// Files named `name` (a path relative to each project) across all projects.
fn each(projects: &[PathBuf], name: &str) -> Vec<PathBuf> {
    projects
        .iter()
        .map(|p| p.join(name))
        .filter(|p| p.exists())
        .collect()
}

fn schema(projects: &[PathBuf], name: &str, schema: &str) {
    let found = each(projects, name);
    assert!(!found.is_empty(), "no project has {name}");
    run(
        &format!("check-jsonschema {schema} on {name}"),
        Command::new("check-jsonschema")
            .args(["--builtin-schema", schema])
            .args(&found),
    );
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn generated_files_pass_their_validators() {
    let dir = tempfile::tempdir().unwrap();
    let projects = generate_all(dir.path());
    assert!(projects.len() > 30, "only {} projects", projects.len());

    schema(&projects, "compose.yaml", "vendor.compose-spec");
    schema(
        &projects,
        ".github/workflows/ci.yml",
        "vendor.github-workflows",
    );
    schema(&projects, ".github/dependabot.yml", "vendor.dependabot");
    schema(&projects, ".gitlab-ci.yml", "vendor.gitlab-ci");
    schema(&projects, ".travis.yml", "vendor.travis");
    schema(&projects, ".woodpecker.yml", "vendor.woodpecker-ci");
    schema(
        &projects,
        "bitbucket-pipelines.yml",
        "vendor.bitbucket-pipelines",
    );

    let workflows = each(&projects, ".github/workflows/ci.yml");
    let actionlint = std::env::var("ACTIONLINT").unwrap_or_else(|_| "actionlint".into());
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{actionlint} \"$@\""))
        .arg("actionlint")
        .args(&workflows);
    run("actionlint", &mut cmd);

    run(
        "hadolint",
        Command::new("hadolint")
            .args(["--failure-threshold", "error"])
            .args(each(&projects, "Dockerfile"))
            .args(each(&projects, "ci/buildbot/worker/Dockerfile")),
    );
    run(
        "promtool",
        Command::new("promtool")
            .args(["check", "config", "--syntax-only"])
            .args(each(&projects, "monitoring/prometheus/prometheus.yml")),
    );

    for project in &projects {
        for file in tree(project).iter().filter(|f| f.ends_with(".rb")) {
            run(
                &format!("ruby -c {file}"),
                Command::new("ruby").arg("-c").arg(project.join(file)),
            );
        }
        let manifests: Vec<String> = tree(project)
            .into_iter()
            .filter(|f| f.ends_with(".pp"))
            .collect();
        if !manifests.is_empty() {
            run(
                &format!("puppet parser validate in {}", project.display()),
                Command::new("puppet")
                    .args(["parser", "validate"])
                    .args(&manifests)
                    .current_dir(project),
            );
        }
        let policy = project.join("ops/cfengine/promises.cf");
        if policy.exists() {
            run(
                "cf-promises",
                Command::new("cf-promises")
                    .arg("--full-check")
                    .arg("-f")
                    .arg(&policy),
            );
        }
        if project.join(".hgignore").exists() {
            mercurial_keeps_secrets_out(project);
        }
        if project.join(".gitattributes").exists() {
            let out = Command::new("sh")
                .arg("-c")
                .arg("git init -q . && git check-attr eol -- Dockerfile compose.yaml")
                .current_dir(project)
                .output()
                .expect("git runs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Dockerfile: eol: lf"),
                "{}: {text}",
                project.display()
            );
        }
        // ci/notify.sh, tests/run.sh, ci/buildbot/force.sh: POSIX sh.
        for file in tree(project).iter().filter(|f| f.ends_with(".sh")) {
            run(
                &format!("shellcheck {file}"),
                Command::new("shellcheck")
                    .args(["--shell=sh", "--severity=warning"])
                    .arg(project.join(file)),
            );
        }
        if project.join("ci/buildbot/master.cfg").exists() {
            buildbot_checkconfig(project);
        }
        // The static site's server: nginx reads the file as the image does.
        if project.join("app/nginx.conf").exists() {
            let app = project.join("app");
            run(
                "nginx -t",
                Command::new("nginx")
                    .args(["-t", "-q", "-p"])
                    .arg(format!("{}/", app.display()))
                    .arg("-c")
                    .arg(app.join("nginx.conf")),
            );
        }
        if project.join("tests/e2e").exists() {
            playwright_runs_the_suite(project);
        }
        if project.join("tests/zap/rules.tsv").exists() {
            zap_rules_parse(&project.join("tests/zap/rules.tsv"));
        }
        if project.join("Jenkinsfile").exists() {
            jenkinsfile_compiles(project);
        }
        if project.join("ci/jenkins/jenkins.yaml").exists() {
            jenkins_configuration_holds_together(project);
        }
        if project.join("chat/hubot").exists() {
            hubot_loads_and_answers(project);
        }
        if project.join("Vagrantfile").exists() {
            vagrant_validates(project);
        }
        if project.join("mocks/wiremock/mappings").exists() {
            mock_serves_the_example(project, "wiremock");
        }
        if project.join("mocks/api").exists() {
            mock_serves_the_example(project, "canned");
        }
        let nagios = project.join("monitoring/nagios/app.cfg");
        if nagios.exists() {
            nagios_verifies(&nagios);
        }
        run(
            &format!("docker compose config in {}", project.display()),
            Command::new("docker")
                .args(["compose", "config", "--quiet"])
                .current_dir(project),
        );
        if project.join("ops/ansible/playbook.yml").exists() {
            run(
                &format!("ansible-playbook --syntax-check in {}", project.display()),
                Command::new("ansible-playbook")
                    .args(["--syntax-check", "playbook.yml"])
                    .current_dir(project.join("ops/ansible")),
            );
        }
        for file in tree(project).iter().filter(|f| f.ends_with(".py")) {
            run(
                &format!("python3 -m py_compile {}/{file}", project.display()),
                Command::new("python3")
                    .args(["-m", "py_compile"])
                    .arg(project.join(file)),
            );
        }
        for file in tree(project).iter().filter(|f| f.ends_with(".json")) {
            let text = std::fs::read_to_string(project.join(file)).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{}/{file}: {e}", project.display()));
        }
        for file in tree(project)
            .iter()
            .filter(|f| (f.ends_with(".yml") || f.ends_with(".yaml")) && !f.contains("salt"))
        {
            let text = std::fs::read_to_string(project.join(file)).unwrap();
            serde_yaml::from_str::<serde_yaml::Value>(&text)
                .unwrap_or_else(|e| panic!("{}/{file}: {e}", project.display()));
        }
    }
}

/// Buildbot 4.3 (from PyPI, with the web UI plugins master.cfg names) loads
/// the generated master.cfg: workers, builders, schedulers, www.
fn buildbot_checkconfig(project: &Path) {
    run(
        &format!("buildbot checkconfig in {}", project.display()),
        Command::new("buildbot")
            .args(["checkconfig", "ci/buildbot/master.cfg"])
            .env("BUILDBOT_WORKER_PASSWORD", "checkconfig")
            .current_dir(project),
    );
}

/// Mercurial reads the generated .hgignore (it ignores `.env`) and hgrc
/// (its hooks parse), in a repository made in the project.
fn mercurial_keeps_secrets_out(project: &Path) {
    run(
        "hg init",
        Command::new("hg").arg("init").current_dir(project),
    );
    std::fs::write(project.join(".hg/hgrc"), "%include ../ops/hg/hgrc\n").unwrap();
    let out = Command::new("hg")
        .args(["status", "--ignored", "--config", "ui.username=ci"])
        .current_dir(project)
        .output()
        .expect("hg runs (.ci/run installs mercurial)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.lines().any(|l| l == "I .env"),
        "{}: .env is not ignored:\n{text}{}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let hooks = Command::new("hg")
        .args(["config", "hooks"])
        .current_dir(project)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&hooks.stdout).contains("hooks.pretxncommit.no-secrets="),
        "{}: ops/hg/hgrc is not read: {}",
        project.display(),
        String::from_utf8_lossy(&hooks.stderr)
    );
}

/// Playwright (from npm, the version package.json pins) loads the config
/// (playwright.config.ts) and lists the specs (app.spec.ts); with a Python app it runs them for real, with
/// this machine's Chromium (Debian's), against the app started here.
fn playwright_runs_the_suite(project: &Path) {
    let npm = PathBuf::from(std::env::var("BRICKYARD_NPM_TOOLS").expect(
        "BRICKYARD_NPM_TOOLS: the node_modules with @playwright/test (.ci/run installs it)",
    ));
    let e2e = project.join("tests/e2e");
    std::os::unix::fs::symlink(&npm, e2e.join("node_modules")).unwrap();
    let playwright = || {
        let mut c = Command::new("node");
        c.arg(npm.join("@playwright/test/cli.js"))
            .arg("test")
            .current_dir(&e2e);
        c
    };
    let out = playwright().arg("--list").output().expect("node runs");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && listed.contains("Total: 3 tests in 1 file"),
        "playwright test --list in {}:\n{listed}{}",
        e2e.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let python = project.join("app/main.py").exists();
    let site = project.join("app/nginx.conf").exists();
    if python || site {
        // The generated config, with the machine's browser instead of the
        // one `npx playwright install` would download.
        std::fs::write(
            e2e.join("machine.config.ts"),
            "import base from './playwright.config';\n\
             export default { ...base, use: { ...base.use, launchOptions: { executablePath: 'CHROMIUM' } } };\n"
                .replace("CHROMIUM", &which("chromium").display().to_string()),
        )
        .unwrap();
        let [port] = crate::docker::free_ports();
        let app_dir = project.join("app");
        let mut app = if python {
            // No *_URL variables: the app checks no backing service.
            let mut c = Command::new("python3");
            c.arg("main.py").env("PORT", port.to_string());
            c
        } else {
            // The site's own configuration on the test's port, as test.sh runs it.
            let conf = std::fs::read_to_string(app_dir.join("nginx.conf"))
                .unwrap()
                .replace("listen 8000;", &format!("listen 127.0.0.1:{port};"));
            let conf_path = e2e.join("test-nginx.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let mut c = Command::new("nginx");
            c.arg("-p")
                .arg(format!("{}/", app_dir.display()))
                .arg("-c")
                .arg(&conf_path)
                .args(["-g", "daemon off;"]);
            c
        };
        let mut app = app
            .current_dir(&app_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let out = playwright()
            .args(["-c", "machine.config.ts"])
            .env("APP_URL", format!("http://127.0.0.1:{port}"))
            .output()
            .expect("node runs");
        // TERM: nginx's master stops its workers (a KILL would leave them).
        let _ = Command::new("kill")
            .args(["-TERM", &app.id().to_string()])
            .status();
        let _ = app.wait();
        let said = String::from_utf8_lossy(&out.stdout);
        let _ = std::fs::remove_file(e2e.join("machine.config.ts"));
        let _ = std::fs::remove_file(e2e.join("test-nginx.conf"));
        let _ = std::fs::remove_dir_all(e2e.join("test-results"));
        assert!(
            out.status.success() && said.contains("3 passed"),
            "playwright test in {}:\n{said}{}",
            e2e.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Only what was generated stays, for the checks that walk the project.
    std::fs::remove_file(e2e.join("node_modules")).unwrap();
}

/// ZAP's rules file as zap-baseline.py reads it: a tab-separated rule id
/// (numeric), a level it knows, and a note. ZAP itself is not on these
/// machines (no Debian or PyPI package runs a scan), so this is the format
/// its loader splits on, not a scan.
fn zap_rules_parse(rules: &Path) {
    let text = std::fs::read_to_string(rules).unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#') && l.len() > 1) {
        let fields: Vec<&str> = line.splitn(3, '\t').collect();
        assert!(
            fields.len() == 3
                && fields[0].chars().all(|c| c.is_ascii_digit())
                && ["IGNORE", "INFO", "WARN", "FAIL", "OUTOFSCOPE"].contains(&fields[1]),
            "{}: `{line}` is not `<rule id>\t<IGNORE|INFO|WARN|FAIL|OUTOFSCOPE>\t<note>`",
            rules.display()
        );
    }
}

/// Groovy's own compiler parses the Jenkinsfile (a declarative pipeline is
/// a Groovy script): a syntax error fails here, though what the Pipeline
/// plugin would say of the steps needs a Jenkins.
fn jenkinsfile_compiles(project: &Path) {
    let text = std::fs::read_to_string(project.join("Jenkinsfile")).unwrap();
    groovy_compiles(&format!("{}/Jenkinsfile", project.display()), &text);
}

fn groovy_compiles(what: &str, source: &str) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("Script.groovy");
    std::fs::write(&script, source).unwrap();
    let mut cmd = Command::new("groovyc");
    cmd.arg("-d").arg(dir.path().join("classes")).arg(&script);
    // Debian's groovyc wants JAVA_HOME; take the JDK of the `java` on PATH.
    if std::env::var_os("JAVA_HOME").is_none()
        && let Ok(java) = which("java").canonicalize()
        && let Some(home) = java.parent().and_then(Path::parent)
    {
        cmd.env("JAVA_HOME", home);
    }
    run(&format!("groovyc {what}"), &mut cmd);
}

/// The local Jenkins holds together (no Jenkins runs here): its job DSL
/// script compiles; the node and the job its agent and health check name
/// are the ones configured; every variable the configuration reads is in
/// the controller's environment; plugins.txt is in jenkins-plugin-cli's
/// format and names each plugin the configuration and the Jenkinsfile use.
fn jenkins_configuration_holds_together(project: &Path) {
    let read = |f: &str| std::fs::read_to_string(project.join(f)).unwrap();
    let name = project.file_name().unwrap().to_str().unwrap();
    let text = read("ci/jenkins/jenkins.yaml");
    let casc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let script = casc["jobs"][0]["script"]
        .as_str()
        .expect("a job DSL script");
    groovy_compiles(
        &format!("the job DSL of {name}/ci/jenkins/jenkins.yaml"),
        script,
    );
    assert!(
        script.contains(&format!("multibranchPipelineJob('{name}')"))
            && read("ci/jenkins/ready.sh").contains(&format!("/job/{name}/api/json")),
        "{name}: ready.sh asks for a job jenkins.yaml does not make"
    );
    let node = &casc["jenkins"]["nodes"][0]["permanent"];
    let node_name = node["name"].as_str().unwrap();
    assert!(
        read("ci/jenkins/agent/connect.sh").contains(&format!("node={node_name}\n"))
            && read("ci/jenkins/agent/online.sh").contains(&format!("/computer/{node_name}/")),
        "{name}: the agent connects as another node than jenkins.yaml's {node_name}"
    );
    assert_eq!(
        node["launcher"]["inbound"]["webSocket"].as_bool(),
        Some(true),
        "{name}: connect.sh uses -webSocket"
    );
    // ${VAR} and ${VAR:-default}, as configuration as code reads them.
    let compose: serde_yaml::Value = serde_yaml::from_str(&read("compose.yaml")).unwrap();
    let env = &compose["services"]["jenkins"]["environment"];
    for var in text
        .split("${")
        .skip(1)
        .filter_map(|s| s.split(['}', ':']).next())
    {
        assert!(
            env.get(var).is_some(),
            "{name}: jenkins.yaml reads {var}, which the jenkins service does not have"
        );
    }
    let plugins: Vec<String> = read("ci/jenkins/plugins.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, version) = l.split_once(':').unwrap_or((l, "latest"));
            let ok = |s: &str, extra: &[char]| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
            };
            assert!(
                ok(id, &[]) && ok(version, &['.', '_']),
                "{name}: plugins.txt line `{l}` is not `id[:version]`"
            );
            id.to_string()
        })
        .collect();
    let jenkinsfile = read("Jenkinsfile");
    let mut needed = vec![
        "configuration-as-code",
        "job-dsl",
        "git",
        "workflow-multibranch",
        "workflow-aggregator",
    ];
    if jenkinsfile.contains("withCredentials") {
        needed.push("credentials-binding");
    }
    for plugin in needed {
        assert!(
            plugins.iter().any(|p| p == plugin),
            "{name}: plugins.txt lacks {plugin}"
        );
    }
}

fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

/// Hubot (from npm, as the image installs it) loads the generated adapter
/// (adapters/http.mjs) and scripts (scripts/stack.mjs) with none failing (its --config-check says OK even when a
/// script does not load, so its log is read too), then answers `ping`.
fn hubot_loads_and_answers(project: &Path) {
    let npm = PathBuf::from(
        std::env::var("BRICKYARD_NPM_TOOLS")
            .expect("BRICKYARD_NPM_TOOLS: the node_modules with hubot (.ci/run installs it)"),
    );
    let bot = project.join("chat/hubot");
    let link = bot.join("node_modules");
    if !link.exists() {
        std::os::unix::fs::symlink(&npm, &link).unwrap();
    }
    let hubot = || {
        let mut c = Command::new("node");
        c.arg(npm.join("hubot/bin/hubot"))
            .args(["--file", "./adapters/http.mjs", "--name", "bot"])
            .current_dir(&bot);
        c
    };
    let out = hubot().arg("--config-check").output().expect("node runs");
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && log.contains("OK")
            && !log.contains("Unable to load")
            && !log.contains("Error loading"),
        "hubot --config-check in {}:\n{log}",
        bot.display()
    );
    let [port] = crate::docker::free_ports();
    let mut server = hubot()
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let get = |path: &str| -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    // Healthy means the scripts are loaded (the adapter's HTTP answers
    // before they are): then the bot answers at once.
    loop {
        if get("/hubot/health").is_some_and(|h| h.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "hubot never became healthy in {}",
            bot.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let answer = get("/hubot/ask?text=ping").unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    std::fs::remove_file(&link).unwrap();
    assert!(
        answer.ends_with("you: pong\n"),
        "hubot in {}: {answer}",
        bot.display()
    );
}

/// Vagrant reads the Vagrantfile (`ruby -c` first, for a syntax error
/// with its line), and compose.vagrant.yaml merged over compose.yaml
/// opens every published port to the VM's interfaces, as Vagrant's
/// forwarding needs.
fn vagrant_validates(project: &Path) {
    run(
        "ruby -c Vagrantfile",
        Command::new("ruby")
            .arg("-c")
            .arg(project.join("Vagrantfile")),
    );
    let home = tempfile::tempdir().unwrap();
    run(
        &format!("vagrant validate in {}", project.display()),
        Command::new("vagrant")
            .args(["validate", "--ignore-provider"])
            .env("VAGRANT_HOME", home.path())
            .current_dir(project),
    );
    let out = Command::new("docker")
        .args([
            "compose",
            "-f",
            "compose.yaml",
            "-f",
            "compose.vagrant.yaml",
        ])
        .args(["config", "--format", "json"])
        .current_dir(project)
        .output()
        .expect("docker compose runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports: Vec<&serde_json::Value> = merged["services"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|s| s["ports"].as_array().into_iter().flatten())
        .collect();
    assert!(!ports.is_empty(), "{}: no ports", project.display());
    for port in ports {
        assert!(
            port.get("host_ip")
                .is_none_or(|ip| ip == "0.0.0.0" || ip == ""),
            "{}: {port} still bound to one address in the VM",
            project.display()
        );
    }
}

/// The real mock server (WireMock's jar, Canned; both from npm) serves the
/// generated directory (WireMock's mappings/example-status.json with its
/// __files/example-status.json body; Canned's api/example/_status.get.json),
/// and answers the request the app's /health makes.
fn mock_serves_the_example(project: &Path, tool: &str) {
    let npm = PathBuf::from(std::env::var("BRICKYARD_NPM_TOOLS").expect(
        "BRICKYARD_NPM_TOOLS: the node_modules with wiremock and canned (.ci/run installs them)",
    ));
    let [port] = crate::docker::free_ports();
    let mut cmd = match tool {
        "wiremock" => {
            let jar = std::fs::read_dir(npm.join("wiremock/build"))
                .expect("npm's wiremock package")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "jar"))
                .expect("the standalone jar");
            let mut c = Command::new("java");
            c.arg("-jar")
                .arg(jar)
                .arg("--root-dir")
                .arg(project.join("mocks/wiremock"))
                .args(["--port", &port.to_string(), "--disable-banner"]);
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(npm.join("canned/bin/canned"))
                .args(["-p", &port.to_string()])
                .arg(project.join("mocks/api"));
            c
        }
    };
    let mut server = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let answer = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            write!(
                s,
                "GET /example/status HTTP/1.0\r\nAccept: application/json\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            break out;
        }
        assert!(std::time::Instant::now() < deadline, "{tool} did not start");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = server.kill();
    let _ = server.wait();
    let compact: String = answer.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        answer.starts_with("HTTP/1.1 200") && compact.contains("\"status\":\"ok\""),
        "{tool} serving {}: {answer}",
        project.display()
    );
}

/// `nagios4 -v` (Debian's Nagios Core) reads the generated objects with the
/// sample templates the catalog's image ships: every host, service and
/// command they name must be defined.
fn nagios_verifies(app_cfg: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    // Nagios drops to its own user: its result directory must be writable by it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&results, std::fs::Permissions::from_mode(0o777)).unwrap();
    let commands = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nagios/commands.cfg");
    let main = dir.path().join("nagios.cfg");
    std::fs::write(
        &main,
        format!(
            "log_file={log}\ncfg_file=/etc/nagios4/objects/templates.cfg\ncfg_file=/etc/nagios4/objects/timeperiods.cfg\n\
             cfg_file=/etc/nagios4/objects/contacts.cfg\ncfg_file={commands}\ncfg_file={app}\n\
             check_result_path={results}\nillegal_macro_output_chars=`~$&|'\"<>\n",
            log = dir.path().join("nagios.log").display(),
            commands = commands.display(),
            app = app_cfg.display(),
            results = results.display(),
        ),
    )
    .unwrap();
    let out = Command::new("nagios4")
        .arg("-v")
        .arg(&main)
        .output()
        .expect("nagios4 runs (.ci/run installs nagios4-core)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Total Errors:   0"),
        "nagios4 -v {}:\n{text}",
        app_cfg.display()
    );
}

/// The generated apps pass their own unit tests with the machine's toolchains:
/// Python and Node.js (no dependency needed for the tests), Go (standard
/// library only, so Debian's Go serves), Rust, Ruby and Java (standard library only),
/// the static site (nginx serves it).
#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn generated_apps_pass_their_own_tests() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::load(&[]).unwrap();
    let every = [
        "postgres",
        "mysql",
        "redis",
        "rabbitmq",
        "memcached",
        "beanstalkd",
        "mailpit",
        "minio",
        "couchdb",
    ];
    // With every service (and a mock API) and each monitoring store the app writes to, and
    // without PostgreSQL (whose client code and, for Rust, dependencies are
    // left out then).
    let cases = ["python", "node", "go", "rust", "ruby", "java"]
        .iter()
        .flat_map(|app| ["graphite-statsd", "influxdb-grafana"].map(|m| (*app, &every[..], m)))
        .chain([
            ("go", &every[2..], "prometheus-grafana"),
            ("rust", &every[2..], "prometheus-grafana"),
            ("ruby", &every[2..], "prometheus-grafana"),
            ("java", &every[2..], "prometheus-grafana"),
            // A static site takes no services and no store it would write to.
            ("static", &[], "prometheus-grafana"),
        ]);
    for (app, services, monitoring) in cases {
        let mut answers = sample_answers(&catalog, app);
        answers.set(
            Theme::Services,
            services.iter().map(|s| s.to_string()).collect(),
        );
        answers.set(Theme::Monitoring, vec![monitoring.to_string()]);
        let mocks = if app == "static" { "none" } else { "wiremock" };
        answers.set(Theme::Mocks, vec![mocks.to_string()]);
        let name = format!("app-{app}-{}-{monitoring}", services.len());
        let plan = resolve(&catalog, &name, &answers, |n| format!("test-{n}")).unwrap();
        let project = dir.path().join(&name);
        write::write(&project, &files(&catalog, &plan, &project).unwrap(), false).unwrap();
        let app_dir = project.join("app");
        match app {
            "python" => run(
                "python unittest",
                Command::new("python3")
                    .args(["-m", "unittest", "-v"])
                    .current_dir(&app_dir),
            ),
            "node" => run(
                "node --test",
                Command::new("node").arg("--test").current_dir(&app_dir),
            ),
            "go" => {
                let unformatted = Command::new("gofmt")
                    .arg("-l")
                    .arg(&app_dir)
                    .output()
                    .expect("gofmt runs");
                assert!(
                    unformatted.status.success() && unformatted.stdout.is_empty(),
                    "{name}: gofmt would change {}",
                    String::from_utf8_lossy(&unformatted.stdout)
                );
                run(
                    "go vet",
                    Command::new("go")
                        .args(["vet", "./..."])
                        .env("GOCACHE", dir.path().join("gocache"))
                        .current_dir(&app_dir),
                );
                run(
                    "go test",
                    Command::new("go")
                        .args(["test", "./..."])
                        .env("GOFLAGS", "-mod=mod")
                        .env("GOCACHE", dir.path().join("gocache"))
                        .current_dir(&app_dir),
                )
            }
            // --locked: the generated Cargo.lock is the one cargo would write.
            "rust" => run(
                "cargo test",
                Command::new("cargo")
                    .args(["test", "--quiet", "--locked"])
                    .env("CARGO_TARGET_DIR", dir.path().join("rust-target"))
                    .current_dir(&app_dir),
            ),
            "ruby" => {
                for file in std::fs::read_dir(&app_dir).unwrap() {
                    let file = file.unwrap().path();
                    if file.extension().is_some_and(|e| e == "rb") {
                        let out = Command::new("ruby").arg("-wc").arg(&file).output().unwrap();
                        assert!(
                            out.status.success() && out.stderr.is_empty(),
                            "{name}: ruby -wc {}: {}",
                            file.display(),
                            String::from_utf8_lossy(&out.stderr)
                        );
                    }
                }
                run(
                    "minitest",
                    Command::new("ruby")
                        .args(["-w", "test_app.rb"])
                        .current_dir(&app_dir),
                )
            }
            // The Dockerfile's own compile: every lint an error.
            "java" => run(
                "javac and AppTest",
                Command::new("sh")
                    .arg("-c")
                    .arg("javac --release 17 -Xlint:all -Werror -d build src/*.java test/*.java && java -cp build AppTest")
                    .current_dir(&app_dir),
            ),
            // nginx serves the site on a port of the test's own.
            "static" => run(
                "test.sh",
                Command::new("sh")
                    .arg("test.sh")
                    .env("TEST_PORT", crate::docker::free_port().to_string())
                    .current_dir(&app_dir),
            ),
            _ => unreachable!(),
        }
    }
}
