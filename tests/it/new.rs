//! `brickyard new` and `brickyard catalog`, as a user runs them.

use std::fs;

use brickyard::catalog::Catalog;
use brickyard::cli::NewArgs;
use brickyard::prompt::Scripted;
use brickyard::ui::Ui;
use predicates::prelude::*;

use crate::support::{
    Pane, brickyard, catalog_fails, fixture, new_fails, scratch, stderr_of, stdout_of, tree,
};

#[test]
fn yes_takes_the_defaults_and_says_what_to_do_next() {
    let (_dir, project) = scratch();
    brickyard()
        .env("BRICKYARD_PORT_CHECK", "0")
        .arg("new")
        .arg(&project)
        .arg("--yes")
        .assert()
        .success()
        .stderr(predicate::str::contains("created"))
        .stderr(predicate::str::contains("brickyard up"))
        .stderr(predicate::str::contains("http://127.0.0.1:8000"));
    let files = tree(&project);
    for f in [
        "brickyard.yaml",
        "compose.yaml",
        "Dockerfile",
        ".dockerignore",
        ".env",
        ".gitignore",
        "README.md",
        "app/main.py",
    ] {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
}

#[test]
fn secrets_live_only_in_a_private_ignored_env_file() {
    let (_dir, project) = scratch();
    brickyard()
        .args(["new", "--preset", "full", "--yes"])
        .arg(&project)
        .assert()
        .success();
    let env = fs::read_to_string(project.join(".env")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(project.join(".env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        fs::read_to_string(project.join(".gitignore"))
            .unwrap()
            .lines()
            .any(|l| l == ".env")
    );
    let secrets: Vec<&str> = env
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v)
        .collect();
    assert!(secrets.len() >= 5, "{env}");
    for file in tree(&project).into_iter().filter(|f| f != ".env") {
        let text = fs::read_to_string(project.join(&file)).unwrap();
        for s in &secrets {
            assert!(!text.contains(s), "a secret leaked into {file}");
        }
    }
    let compose = fs::read_to_string(project.join("compose.yaml")).unwrap();
    let ports: Vec<&str> = compose
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("- 127.") || l.contains(":127."))
        .collect();
    assert!(!ports.is_empty());
    let doc: serde_yaml::Value = serde_yaml::from_str(&compose).unwrap();
    for (name, svc) in doc["services"].as_mapping().unwrap() {
        for port in svc["ports"].as_sequence().into_iter().flatten() {
            assert!(
                port.as_str().unwrap().starts_with("127.0.0.1:"),
                "{name:?} publishes {port:?} beyond loopback"
            );
        }
    }
}

#[test]
fn two_runs_make_different_secrets() {
    let (_dir, project) = scratch();
    let other = project.with_file_name("other");
    for p in [&project, &other] {
        brickyard()
            .args(["new", "--preset", "demo"])
            .arg(p)
            .assert()
            .success();
    }
    assert_ne!(
        fs::read_to_string(project.join(".env")).unwrap(),
        fs::read_to_string(other.join(".env")).unwrap()
    );
}

#[test]
fn answers_file_reproduces_every_file_but_the_secrets() {
    let (dir, project) = scratch();
    brickyard()
        .args([
            "new",
            "--ci",
            "gitlab-ci",
            "--vcs",
            "gitlab",
            "--config-mgmt",
            "salt",
            "--monitoring",
            "influxdb-grafana",
        ])
        .args([
            "--containers",
            "compose",
            "--app",
            "node",
            "--services",
            "mysql,redis",
            "--yes",
        ])
        .arg(&project)
        .assert()
        .success();
    let again = dir.path().join("again").join("myapp");
    brickyard()
        .arg("new")
        .arg(&again)
        .arg("--answers")
        .arg(project.join("brickyard.yaml"))
        .assert()
        .success();
    assert_eq!(tree(&project), tree(&again));
    for file in tree(&project).into_iter().filter(|f| f != ".env") {
        assert_eq!(
            fs::read(project.join(&file)).unwrap(),
            fs::read(again.join(&file)).unwrap(),
            "{file} differs"
        );
    }
}

#[test]
fn flags_win_over_the_preset() {
    let (_dir, project) = scratch();
    brickyard()
        .args(["new", "--preset", "demo", "--app", "go"])
        .arg(&project)
        .assert()
        .success();
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(answers.contains("app: go"), "{answers}");
    assert!(answers.contains("- postgres"), "{answers}");
    assert!(project.join("app/main.go").exists());
}

#[test]
fn unknown_tool_suggests_the_closest() {
    let (_dir, project) = scratch();
    let err = new_fails(&project, &["--yes", "--ci", "gitlab-cl"]);
    assert!(
        err.contains("unknown ci `gitlab-cl`; did you mean `gitlab-ci`?"),
        "{err}"
    );
    assert!(err.contains("brickyard catalog list --theme ci"), "{err}");
    assert!(!project.exists());
}

#[test]
fn a_tool_in_the_wrong_theme_says_where_it_belongs() {
    let (_dir, project) = scratch();
    let err = new_fails(&project, &["--yes", "--app", "postgres"]);
    assert!(
        err.contains("`postgres` is a services tool, not app; pass it as --services postgres"),
        "{err}"
    );
}

#[test]
fn two_picks_in_a_single_pick_theme_are_refused() {
    let (_dir, project) = scratch();
    let out = brickyard()
        .args(["new", "--yes", "--ci", "jenkins,travis"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("ci takes one pick, got jenkins and travis"),
        "{}",
        stderr_of(&out)
    );
    assert!(!project.exists());
}

#[test]
fn a_ci_server_without_a_forge_says_why() {
    let (_dir, project) = scratch();
    let err = new_fails(&project, &["--yes", "--ci", "woodpecker", "--vcs", "none"]);
    assert!(
        err.contains("Woodpecker CI needs one of gitea, github or gitlab"),
        "{err}"
    );
    assert!(err.contains("builds on a forge"), "{err}");
    assert!(err.contains("--vcs gitea"), "{err}");
}

#[test]
fn conflicting_picks_are_explained() {
    let (_dir, project) = scratch();
    let out = brickyard()
        .arg("--catalog")
        .arg(fixture("catalogs/team"))
        .args(["new", "--yes", "--services", "postgres,sqlite"])
        .arg(&project)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "sqlite and postgres cannot be picked together: both are the app's DATABASE_URL"
        ),
        "{err}"
    );
    assert!(!project.exists());
}

#[test]
fn a_team_catalog_adds_and_overrides_entries() {
    let out = brickyard()
        .arg("--catalog")
        .arg(fixture("catalogs/team"))
        .args(["catalog", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
    };
    assert_eq!(find("sqlite").unwrap()["theme"], "services");
    assert_eq!(
        find("redis").unwrap()["description"],
        "Our team's Redis, with our settings"
    );
}

#[test]
fn a_team_entry_can_bring_another_along() {
    let (_dir, project) = scratch();
    brickyard()
        .arg("--catalog")
        .arg(fixture("catalogs/team"))
        .args(["new", "--yes", "--services", "worker-queue"])
        .arg(&project)
        .assert()
        .success()
        .stderr(predicate::str::contains("Worker queue brings Redis along"));
    let answers = fs::read_to_string(project.join("compose.yaml")).unwrap();
    assert!(answers.contains("redis:"), "{answers}");
}

#[test]
fn a_malformed_answers_file_names_line_and_column() {
    let (dir, project) = scratch();
    let answers = dir.path().join("answers.yaml");
    fs::write(
        &answers,
        "ci: github-actions\nservices: [postgres\napp: python\n",
    )
    .unwrap();
    let out = brickyard()
        .arg("new")
        .arg(&project)
        .arg("--answers")
        .arg(&answers)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(
        err.contains("answers file") && err.contains("is malformed"),
        "{err}"
    );
    assert!(err.contains("line 3 column"), "{err}");
    fs::write(
        &answers,
        "ci: github-actions\nmonitor: prometheus-grafana\n",
    )
    .unwrap();
    let err = stderr_of(
        &brickyard()
            .arg("new")
            .arg(&project)
            .arg("--answers")
            .arg(&answers)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("unknown field `monitor`") && err.contains("line 2 column 1"),
        "{err}"
    );
}

#[test]
fn a_malformed_catalog_entry_names_file_and_field() {
    let err = catalog_fails(&fixture("catalogs/malformed"));
    assert!(err.contains("malformed/services/broken.yaml"), "{err}");
    assert!(err.contains("unknown field `imag`"), "{err}");
}

#[test]
fn a_catalog_entry_that_writes_outside_the_project_is_rejected() {
    let err = catalog_fails(&fixture("catalogs/escape"));
    assert!(err.contains("escape/ci/evil.yaml"), "{err}");
    assert!(
        err.contains("field `files.path`: `../../outside.txt` climbs out of the project"),
        "{err}"
    );
}

#[test]
fn an_unpinned_image_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("services")).unwrap();
    fs::write(
        dir.path().join("services/latest.yaml"),
        "id: latest\ntheme: services\nname: L\ndescription: d\nservices:\n  latest:\n    image: nginx:latest\n",
    )
    .unwrap();
    let err = catalog_fails(dir.path());
    assert!(
        err.contains("services/latest.yaml") && err.contains("must be pinned"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_symlinked_catalog_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("ci")).unwrap();
    std::os::unix::fs::symlink(
        fixture("catalogs/team/services/sqlite.yaml"),
        dir.path().join("ci/link.yaml"),
    )
    .unwrap();
    let err = catalog_fails(dir.path());
    assert!(
        err.contains("ci/link.yaml") && err.contains("symbolic link"),
        "{err}"
    );
}

#[test]
fn a_target_that_is_a_file_is_refused() {
    let (_dir, project) = scratch();
    fs::write(&project, "mine").unwrap();
    let err = stderr_of(
        &brickyard()
            .args(["new", "--yes"])
            .arg(&project)
            .output()
            .unwrap(),
    );
    assert!(err.contains("is a file, not a directory"), "{err}");
    assert_eq!(fs::read_to_string(&project).unwrap(), "mine");
}

#[test]
fn a_target_that_cannot_be_written_is_refused() {
    let (dir, _) = scratch();
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, "x").unwrap();
    let err = stderr_of(
        &brickyard()
            .args(["new", "--yes"])
            .arg(blocker.join("myapp"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("cannot write"), "{err}");
    #[cfg(target_os = "linux")]
    {
        // Not even root may create directories in /proc.
        let err = stderr_of(
            &brickyard()
                .args(["new", "--yes", "/proc/brickyard-test/myapp"])
                .output()
                .unwrap(),
        );
        assert!(err.contains("cannot write /proc/brickyard-test"), "{err}");
    }
}

#[test]
fn a_non_empty_target_is_refused_and_force_keeps_the_users_files() {
    let (_dir, project) = scratch();
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("notes.txt"), "mine").unwrap();
    fs::write(project.join("README.md"), "old readme").unwrap();
    let err = new_fails(&project, &["--yes"]);
    assert!(
        err.contains("is not empty") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(project.join("README.md")).unwrap(),
        "old readme"
    );
    assert_eq!(tree(&project).len(), 2);

    brickyard()
        .args(["new", "--yes", "--force"])
        .arg(&project)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(project.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(
        fs::read_to_string(project.join("README.md"))
            .unwrap()
            .starts_with("# myapp")
    );
}

#[test]
fn force_keeps_the_secrets_the_volumes_were_made_with() {
    let (_dir, project) = scratch();
    brickyard()
        .args(["new", "--preset", "demo"])
        .arg(&project)
        .assert()
        .success();
    let before = fs::read_to_string(project.join(".env")).unwrap();
    brickyard()
        .args(["new", "--preset", "demo", "--force"])
        .arg(&project)
        .assert()
        .success();
    assert_eq!(before, fs::read_to_string(project.join(".env")).unwrap());
}

#[test]
fn yes_chooses_defaults_that_fit_the_explicit_picks() {
    for (vcs, ci) in [("gitlab", "gitlab-ci"), ("github", "github-actions")] {
        let (_dir, project) = scratch();
        let out = brickyard()
            .arg("new")
            .arg(&project)
            .args(["--vcs", vcs, "--yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{vcs}: {}", stderr_of(&out));
        let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
        assert!(
            answers.contains(&format!("\nci: {ci}\n")),
            "{vcs}: {answers}"
        );
    }
}

/// A static site rules out the default services: `--yes` leaves them out
/// and keeps the default monitoring, never a hosted tool that needs a key
/// (New Relic needs "any app", which is made for no app in particular).
#[test]
fn yes_with_a_static_site_drops_the_services_and_keeps_the_default_monitoring() {
    let (_dir, project) = scratch();
    let out = brickyard()
        .arg("new")
        .arg(&project)
        .args(["--app", "static", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(
        answers.contains("\nmonitoring: prometheus-grafana\n"),
        "{answers}"
    );
    assert!(answers.contains("\nservices: []\n"), "{answers}");
    assert!(
        !stderr_of(&out).contains("NEW_RELIC"),
        "{}",
        stderr_of(&out)
    );
    // Its README says what a static site does, not what the apps with code do.
    let readme = fs::read_to_string(project.join("README.md")).unwrap();
    assert!(
        readme.contains("`app/site/` is the site, served by nginx"),
        "{readme}"
    );
    assert!(!readme.contains("round-trip"), "{readme}");
    assert!(readme.contains("Tests: `cd app && sh test.sh`"), "{readme}");
}

#[test]
fn a_port_in_use_on_the_machine_is_skipped() {
    let (_dir, project) = scratch();
    // Hold the app's port, as another stack would.
    let held = std::net::TcpListener::bind("127.0.0.1:8000");
    let out = brickyard()
        .arg("new")
        .arg(&project)
        .args(["--yes", "--services", "none", "--monitoring", "none"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    // Held by this test or by something else: either way not given out.
    let _held = held;
    assert!(answers.contains("app:8000: 80"), "{answers}");
    assert!(!answers.contains("app:8000: 8000\n"), "{answers}");
}

#[test]
fn force_names_what_it_replaces_removes_stale_files_and_keeps_the_persons() {
    let (_dir, project) = scratch();
    let new = |app: &str| {
        brickyard()
            .arg("new")
            .arg(&project)
            .args(["--yes", "--app", app, "--force"])
            .output()
            .unwrap()
    };
    assert!(new("python").status.success());
    fs::write(project.join("notes.txt"), "mine\n").unwrap();
    let env = fs::read_to_string(project.join(".env")).unwrap();
    fs::write(project.join(".env"), format!("{env}MY_OWN=kept\n")).unwrap();
    fs::write(project.join("app/test_main.py"), "# edited\n").unwrap();

    let out = new("node");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    // Named, not counted.
    assert!(
        err.contains("replaced") && err.contains("compose.yaml"),
        "{err}"
    );
    assert!(
        err.contains("removed") && err.contains("app/main.py"),
        "{err}"
    );
    assert!(
        err.contains("kept") && err.contains("app/test_main.py"),
        "{err}"
    );
    assert!(!project.join("app/main.py").exists());
    assert!(project.join("app/test_main.py").exists());
    assert_eq!(
        fs::read_to_string(project.join("notes.txt")).unwrap(),
        "mine\n"
    );
    let after = fs::read_to_string(project.join(".env")).unwrap();
    assert!(after.starts_with(&env), "{after}");
    assert!(after.contains("MY_OWN=kept"), "{after}");
}

#[test]
fn without_a_terminal_the_missing_flags_are_named() {
    let (_dir, project) = scratch();
    let err = new_fails(&project, &["--ci", "jenkins"]);
    assert!(
        err.contains("--vcs, --config-mgmt, --monitoring, --containers, --app, --services"),
        "{err}"
    );
    assert!(err.contains("--yes"), "{err}");
    assert!(!project.exists());
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let (_dir, project) = scratch();
    let out = brickyard()
        .args(["new", "--preset", "demo", "--dry-run"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("monitoring   prometheus-grafana"),
        "{stdout}"
    );
    assert!(stdout.contains("  compose.yaml"), "{stdout}");
    assert!(
        stdout.contains("  monitoring/prometheus/prometheus.yml"),
        "{stdout}"
    );
    assert!(!project.exists());
}

#[test]
fn a_bad_project_name_gets_a_suggestion() {
    let (dir, _) = scratch();
    let err = stderr_of(
        &brickyard()
            .args(["new", "--yes"])
            .arg(dir.path().join("My App"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("`my-app`"), "{err}");
}

fn library_args(project: &std::path::Path) -> NewArgs {
    NewArgs {
        path: project.to_path_buf(),
        ..NewArgs::default()
    }
}

#[test]
fn the_picker_asks_only_what_is_unsettled_and_writes_the_answers() {
    let (_dir, project) = scratch();
    let catalog = Catalog::load(&[]).unwrap();
    let mut args = library_args(&project);
    args.ci = Some("jenkins".into());
    args.vcs = Some("github".into());
    args.config_mgmt = Some("none".into());
    args.monitoring = Some("none".into());
    args.containers = Some("compose".into());
    // Left to ask: app (a Select), services (a MultiSelect), mocks (a
    // Select), tests, chat and machine (MultiSelects).
    let mut script = Scripted::new(&[&["rust"], &["redis"], &["none"], &[], &[], &[]]);
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    brickyard::commands::new::run(ui, &catalog, &args, Some(&mut script)).unwrap();
    assert!(
        script.answers.is_empty(),
        "asked fewer questions than expected"
    );
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(
        answers.contains("app: rust")
            && answers.contains("- redis")
            && answers.contains("ci: jenkins"),
        "{answers}"
    );
}

/// Each question offers only what fits the answers before it, names what
/// it leaves out and why, and preselects a default that fits.
#[test]
fn the_picker_offers_only_what_fits_the_answers_so_far() {
    let (_dir, project) = scratch();
    let catalog = Catalog::load(&[]).unwrap();
    let args = library_args(&project);
    // CI first: GitLab CI; then VCS, config management, monitoring,
    // containers, app, services, mocks, tests, chat, machine.
    let mut script = Scripted::new(&[
        &["gitlab-ci"],
        &["gitlab"],
        &["none"],
        &["none"],
        &["compose"],
        &["python"],
        &[],
        &["none"],
        &[],
        &[],
        &[],
    ]);
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    brickyard::commands::new::run(ui, &catalog, &args, Some(&mut script)).unwrap();
    // The VCS question offered only GitLab's (GitLab.com or self-hosted):
    // everything else (none too) would leave GitLab CI without its host.
    assert_eq!(script.offered[1], ["gitlab", "gitlab-self-hosted"]);
    let hidden: Vec<&str> = script.hidden[1].iter().map(|(id, _)| id.as_str()).collect();
    assert!(
        hidden.contains(&"github") && hidden.contains(&"none"),
        "{hidden:?}"
    );
    assert!(
        script.hidden[1]
            .iter()
            .all(|(_, why)| why.contains("GitLab CI needs one of gitlab")),
        "{:?}",
        script.hidden[1]
    );
    // Nothing was left out of the first question.
    assert!(script.hidden[0].is_empty(), "{:?}", script.hidden[0]);
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(answers.contains("ci: gitlab-ci") && answers.contains("vcs: gitlab"));
}

/// Flags that break a rule fail before any question is asked.
#[test]
fn picks_given_as_flags_are_checked_before_any_question() {
    let (_dir, project) = scratch();
    let catalog = Catalog::load(&[]).unwrap();
    let mut args = library_args(&project);
    args.ci = Some("travis".into());
    args.vcs = Some("gitlab".into());
    let mut script = Scripted::new(&[&["none"]]);
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    let err = brickyard::commands::new::run(ui, &catalog, &args, Some(&mut script)).unwrap_err();
    assert!(
        err.to_string()
            .contains("Travis CI needs one of github or bitbucket"),
        "{err}"
    );
    assert!(script.offered.is_empty(), "asked {:?}", script.offered);
    assert!(!project.exists());
}

/// Services that clash with each other (a team's rule): the combination is
/// refused as it is given, and the question is asked again.
#[test]
fn a_combination_of_services_that_breaks_a_rule_is_asked_again() {
    let team = tempfile::tempdir().unwrap();
    fs::create_dir_all(team.path().join("services")).unwrap();
    fs::write(
        team.path().join("services/keydb.yaml"),
        "id: keydb\ntheme: services\nname: KeyDB\ndescription: Redis-compatible cache\nconflicts:\n  - id: redis\n    reason: both answer as the cache on the same URL\n",
    )
    .unwrap();
    let catalog = Catalog::load(&[team.path().to_path_buf()]).unwrap();
    let (_dir, project) = scratch();
    let mut args = library_args(&project);
    args.ci = Some("none".into());
    args.vcs = Some("none".into());
    args.config_mgmt = Some("none".into());
    args.monitoring = Some("none".into());
    args.containers = Some("compose".into());
    args.app = Some("python".into());
    args.mocks = Some("none".into());
    args.tests = Some(Vec::new());
    args.chat = Some(Vec::new());
    args.machine = Some(Vec::new());
    let mut script = Scripted::new(&[&["keydb", "redis"], &["redis"]]);
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    brickyard::commands::new::run(ui, &catalog, &args, Some(&mut script)).unwrap();
    assert_eq!(script.problems.len(), 1, "{:?}", script.problems);
    assert!(
        script.problems[0].contains("keydb and redis cannot be picked together"),
        "{:?}",
        script.problems
    );
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    assert!(
        answers.contains("- redis") && !answers.contains("keydb"),
        "{answers}"
    );
}

/// The picker in a real terminal: the VCS question after GitLab CI offers
/// only GitLab's (GitLab.com or self-hosted) and says why; Ctrl-C then shows the cursor again, says
/// nothing was written, exits 130 and leaves no directory.
#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "tools tier: set BRICKYARD_VALIDATORS=1 (.ci/run installs tmux)"
)]
fn the_picker_in_a_terminal_hides_what_does_not_fit_and_ctrl_c_restores_it() {
    let (dir, project) = scratch();
    let pane = Pane::start(
        "picker",
        &format!(
            "cd {} && env -u CI TERM=xterm {} new {}",
            dir.path().display(),
            crate::support::bin().display(),
            project.display()
        ),
    );
    pane.wait_for("? CI");
    // The cursor starts on the default, github-actions; gitlab-ci is next.
    pane.keys(&["Down", "Enter"]);
    let screen = pane.wait_for("? VCS host");
    assert!(screen.contains("✔ CI · gitlab-ci"), "{screen}");
    assert!(
        screen
            .contains("not offered: bitbucket, git, gitea, github, mercurial, none (GitLab CI needs one of gitlab"),
        "{screen}"
    );
    let question = &screen[screen.find("? VCS host").unwrap()..];
    assert!(
        question.contains("gitlab") && !question.contains("github "),
        "{screen}"
    );
    assert!(
        !pane.cursor_visible(),
        "the picker hides the cursor while it asks"
    );
    pane.keys(&["C-c"]);
    let screen = pane.wait_for("EXIT=");
    assert!(
        screen.contains("cancelled; nothing was written"),
        "{screen}"
    );
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert!(pane.cursor_visible(), "the cursor stays hidden:\n{screen}");
    assert!(!project.exists());
}

#[test]
fn an_interrupted_prompt_writes_nothing() {
    let (_dir, project) = scratch();
    let catalog = Catalog::load(&[]).unwrap();
    // One answer, then the person presses Esc / Ctrl-C.
    let mut script = Scripted::new(&[&["jenkins"]]);
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    let err =
        brickyard::commands::new::run(ui, &catalog, &library_args(&project), Some(&mut script))
            .unwrap_err();
    assert!(
        err.to_string().contains("cancelled; nothing was written"),
        "{err}"
    );
    assert!(!project.exists());
    assert_eq!(tree(project.parent().unwrap()), Vec::<String>::new());
}

#[test]
fn declining_the_summary_writes_nothing() {
    let (_dir, project) = scratch();
    let catalog = Catalog::load(&[]).unwrap();
    let mut args = library_args(&project);
    args.preset = Some("demo".into());
    args.services = None;
    let mut demo_without_services = catalog.preset("demo").unwrap().picks.clone();
    demo_without_services.services = None;
    args.ci = demo_without_services.ci.clone();
    args.vcs = demo_without_services.vcs.clone();
    args.config_mgmt = demo_without_services.config_mgmt.clone();
    args.monitoring = demo_without_services.monitoring.clone();
    args.containers = demo_without_services.containers.clone();
    args.app = demo_without_services.app.clone();
    args.preset = None;
    let mut script = Scripted {
        confirm: false,
        ..Scripted::new(&[&[]])
    };
    let ui = Ui {
        quiet: true,
        fancy: false,
    };
    let err = brickyard::commands::new::run(ui, &catalog, &args, Some(&mut script)).unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(!project.exists());
}

#[test]
fn catalog_list_json_has_the_contract_fields() {
    let out = brickyard()
        .args(["catalog", "list", "--json", "--theme", "ci"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 5);
    for row in rows {
        for key in ["id", "theme", "name", "description"] {
            assert!(row[key].is_string(), "{row} lacks {key}");
        }
        assert_eq!(row["theme"], "ci");
    }
}

#[test]
fn catalog_show_tells_what_a_tool_adds() {
    brickyard()
        .args(["catalog", "show", "prometheus-grafana"])
        .assert()
        .success()
        .stdout(predicate::str::contains("image: prom/prometheus:"))
        .stdout(predicate::str::contains("scrape:"));
    brickyard()
        .args(["catalog", "show", "promethus"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "did you mean `prometheus-grafana`?",
        ));
}

/// The generated skeletons of the presets, secrets masked. Refresh with
/// INSTA_UPDATE=always cargo test --test it snapshot.
#[test]
fn snapshot_of_each_preset() {
    for preset in ["minimal", "demo", "full"] {
        let (_dir, project) = scratch();
        brickyard()
            .env("BRICKYARD_PORT_CHECK", "0")
            .args(["new", "--preset", preset])
            .arg(&project)
            .assert()
            .success();
        let mut listing = String::new();
        for file in tree(&project) {
            let text = fs::read_to_string(project.join(&file)).unwrap();
            // The base copies are the files as written, byte for byte.
            if let Some(original) = file.strip_prefix(".brickyard/base/") {
                assert_eq!(text, fs::read_to_string(project.join(original)).unwrap());
                continue;
            }
            // Digests change with every catalog edit; what they cover is tested apart.
            let text = if file == "brickyard.yaml" {
                text.lines()
                    .map(|l| match l.split_once("digest: ") {
                        Some((indent, _)) => format!("{indent}digest: <digest>\n"),
                        None => format!("{l}\n"),
                    })
                    .collect()
            } else {
                text
            };
            let text = if file == ".env" {
                text.lines()
                    .map(|l| {
                        l.split_once('=')
                            .map_or(l.to_string(), |(k, _)| format!("{k}=<secret>"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            listing.push_str(&format!("===== {file}\n{text}\n"));
        }
        insta::assert_snapshot!(format!("preset_{preset}"), listing);
    }
}

#[test]
fn new_help_describes_every_theme_flag_and_lists_its_ids() {
    let out = brickyard().args(["new", "--help"]).output().unwrap();
    let help = stdout_of(&out);
    for (flag, id) in [
        ("--ci", "gitlab-ci"),
        ("--vcs", "gitlab"),
        ("--config-mgmt", "ansible"),
        ("--monitoring", "prometheus-grafana"),
        ("--containers", "compose"),
        ("--app", "python"),
        ("--services", "postgres"),
    ] {
        let at = help
            .find(&format!("{flag} <"))
            .unwrap_or_else(|| panic!("{flag}:\n{help}"));
        let block: String = help[at..].lines().take(2).collect::<Vec<_>>().join("\n");
        assert!(block.contains("[ids: ") && block.contains(id), "{block}");
    }
}

/// `-C DIR` applies to every path argument, as `git -C` does: the project
/// path, `--answers` and `--catalog` are read from DIR.
#[test]
fn dash_c_applies_to_every_path_argument() {
    let dir = tempfile::tempdir().unwrap();
    let team = dir.path().join("team/services");
    fs::create_dir_all(&team).unwrap();
    fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/services/redis.yaml"),
        team.join("redis.yaml"),
    )
    .unwrap();
    fs::write(
        dir.path().join("picks.yaml"),
        "ci: none\nvcs: none\nconfig-mgmt: none\nmonitoring: none\ncontainers: compose\napp: python\nservices: [redis]\nmocks: none\ntests: []\nchat: []\nmachine: []\n",
    )
    .unwrap();
    // Started elsewhere: every relative path is taken from -C.
    let out = brickyard()
        .current_dir(std::env::temp_dir())
        .arg("-C")
        .arg(dir.path())
        .args([
            "new",
            "myapp",
            "--answers",
            "picks.yaml",
            "--catalog",
            "team",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let recorded = fs::read_to_string(dir.path().join("myapp/brickyard.yaml")).unwrap();
    assert!(recorded.contains("- redis"), "{recorded}");
    assert!(recorded.contains("source: ../team"), "{recorded}");
}

/// A relative `-C DIR` too: a path argument is read from DIR once, not
/// from DIR/DIR (`-f`, `--env-file`, `-o` were joined twice).
#[test]
fn a_relative_dash_c_takes_paths_from_dir_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    fs::create_dir(&p).unwrap();
    fs::write(
        p.join("stack.yaml"),
        "services:\n  a:\n    image: x\n    environment:\n      V: ${V}\n",
    )
    .unwrap();
    fs::write(p.join("x.env"), "V=from-x\n").unwrap();
    let out = brickyard()
        .current_dir(dir.path())
        .args([
            "-C",
            "p",
            "config",
            "-f",
            "stack.yaml",
            "--env-file",
            "x.env",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("V: from-x"));
    let out = brickyard()
        .current_dir(dir.path())
        .args([
            "-C",
            "p",
            "export",
            "kubernetes",
            "-f",
            "stack.yaml",
            "-o",
            "out",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(p.join("out/base/a.yaml").is_file());
}

/// Whatever the VCS host, a project has exactly the CI configuration of
/// its CI pick (none for `none`): Jenkins on Bitbucket no longer also gets
/// bitbucket-pipelines.yml.
#[test]
fn every_ci_and_vcs_pair_gives_one_ci_configuration() {
    const CI_FILES: [&str; 9] = [
        "Jenkinsfile",
        ".gitlab-ci.yml",
        ".travis.yml",
        ".drone.yml",
        ".woodpecker.yml",
        "bamboo-specs/bamboo.yml",
        ".github/workflows/ci.yml",
        "bitbucket-pipelines.yml",
        "ci/buildbot/master.cfg",
    ];
    let catalog = Catalog::load(&[]).unwrap();
    let ids = |theme| -> Vec<String> {
        catalog
            .in_theme(theme)
            .map(|e| e.id.clone())
            .chain(["none".to_string()])
            .collect()
    };
    let (_dir, project) = scratch();
    let mut pairs = 0;
    for ci in ids(brickyard::catalog::Theme::Ci) {
        for vcs in ids(brickyard::catalog::Theme::Vcs) {
            let out = brickyard()
                .arg("new")
                .arg(&project)
                .args(["--ci", &ci, "--vcs", &vcs, "--yes", "--dry-run"])
                .output()
                .unwrap();
            if !out.status.success() {
                continue; // a pair the rules refuse
            }
            pairs += 1;
            let listed = stdout_of(&out);
            let found: Vec<&str> = CI_FILES
                .iter()
                .copied()
                .filter(|f| listed.lines().any(|l| l.trim() == *f))
                .collect();
            let want = if ci == "none" { 0 } else { 1 };
            assert_eq!(found.len(), want, "--ci {ci} --vcs {vcs}: {found:?}");
        }
    }
    assert!(pairs >= 20, "only {pairs} pairs were accepted");
}

/// `--containers none` makes a coherent project: no tool that needs the
/// local stack (asked for one, it is refused with the way out), and
/// nothing that tells the person to `brickyard up`.
#[test]
fn a_project_without_a_local_stack_says_so_everywhere() {
    let (_dir, project) = scratch();
    let err = new_fails(
        &project,
        &["--containers", "none", "--services", "postgres", "--yes"],
    );
    assert!(
        err.contains("PostgreSQL needs one of compose, kubernetes or podman")
            && err.contains("runs as a container of the local stack")
            && err.contains("--containers compose"),
        "{err}"
    );
    assert!(!project.exists());

    let out = brickyard()
        .arg("new")
        .arg(&project)
        .args(["--containers", "none", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // `brickyard up` as a command (`brickyard update` is fine).
    let says_up = |text: &str| {
        text.match_indices("brickyard up")
            .any(|(i, m)| !text[i + m.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
            || text.contains("docker compose up")
    };
    let said = stderr_of(&out);
    assert!(!says_up(&said), "{said}");
    assert!(said.contains("no local stack"), "{said}");
    let answers = fs::read_to_string(project.join("brickyard.yaml")).unwrap();
    for pick in [
        "config-mgmt: none",
        "monitoring: none",
        "containers: none",
        "services: []",
    ] {
        assert!(answers.contains(pick), "{pick}: {answers}");
    }
    assert!(!project.join("compose.yaml").exists());
    let readme = fs::read_to_string(project.join("README.md")).unwrap();
    assert!(!says_up(&readme), "{readme}");
    assert!(readme.contains("python main.py"), "{readme}");
    for file in tree(&project) {
        let text = fs::read_to_string(project.join(&file)).unwrap_or_default();
        assert!(!says_up(&text), "{file} says to boot a stack there is not");
    }
}

/// The Go and Rust apps carry PostgreSQL's client code (and, for Rust, its
/// crates) only with PostgreSQL; the Rust app always has its Cargo.lock.
#[test]
fn app_code_for_postgres_comes_only_with_postgres() {
    let (_dir, root) = scratch();
    let make = |name: &str, app: &str, services: &str| {
        let project = root.join(name);
        let out = brickyard()
            .arg("new")
            .arg(&project)
            .args(["--app", app, "--services", services, "--yes", "-q"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        project
    };
    let go = make("go-cache", "go", "redis");
    assert!(!go.join("app/postgres.go").exists());
    assert!(
        !fs::read_to_string(go.join("app/main.go"))
            .unwrap()
            .contains("postgres")
    );
    let rust = make("rust-cache", "rust", "redis");
    assert!(!rust.join("app/src/postgres.rs").exists());
    let manifest = fs::read_to_string(rust.join("app/Cargo.toml")).unwrap();
    assert!(!manifest.contains("sha2"), "{manifest}");
    let lock = fs::read_to_string(rust.join("app/Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"app\"") && !lock.contains("sha2"),
        "{lock}"
    );
    let with_db = make("rust-db", "rust", "postgres");
    assert!(with_db.join("app/src/postgres.rs").exists());
    let lock = fs::read_to_string(with_db.join("app/Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"sha2\""), "{lock}");
}

/// Every query a generated Grafana dashboard runs is one `verify` proves
/// has data: the series check of the monitoring entry names each
/// dashboard series (Graphite) or measurement (InfluxDB).
#[test]
fn every_dashboard_series_is_one_verify_proves() {
    use brickyard::catalog::Check;
    let catalog = Catalog::load(&[]).unwrap();
    for monitoring in ["graphite-statsd", "influxdb-grafana"] {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("dash");
        let out = brickyard()
            .args(["new", "--yes", "-q", "--monitoring", monitoring])
            .arg(&project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dashboard: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(project.join("monitoring/grafana/dashboards/app.json"))
                .unwrap(),
        )
        .unwrap();
        let entry = catalog.get(monitoring).unwrap();
        let proven: Vec<String> = entry
            .checks
            .iter()
            .chain(&entry.wires.app_checks)
            .flat_map(|c| match c {
                Check::GraphiteSeries { targets, .. } => targets.clone(),
                Check::InfluxqlSeries { queries, .. } => queries.clone(),
                _ => vec![],
            })
            .collect();
        let panels = dashboard["panels"].as_array().unwrap();
        assert!(!panels.is_empty());
        for target in panels.iter().flat_map(|p| p["targets"].as_array().unwrap()) {
            // The series a Graphite function wraps; the measurement an InfluxQL query reads.
            let series = match target["target"].as_str() {
                Some(t) => t
                    .rsplit('(')
                    .next()
                    .unwrap()
                    .split([',', ')'])
                    .next()
                    .unwrap()
                    .to_string(),
                None => {
                    let q = target["query"].as_str().unwrap();
                    let from = q.split(" FROM ").nth(1).unwrap();
                    from.split_whitespace().next().unwrap().to_string()
                }
            };
            assert!(
                proven
                    .iter()
                    .any(|p| p == &series || p.contains(&format!("FROM {series} "))),
                "{monitoring}: the dashboard queries {series}, which verify never proves ({proven:?})"
            );
        }
    }
}

/// Woodpecker's agent mounts the Docker socket: the one mount of the
/// person's machine the catalog declares, said before anything is written
/// and in the summary, and in compose.yaml exactly as declared.
#[test]
fn a_declared_host_mount_is_told_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("wp");
    let out = brickyard()
        .args(["new", "--yes", "--ci", "woodpecker", "--vcs", "gitea"])
        .arg(&project)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("note: woodpecker-agent mounts /var/run/docker.sock from your machine: the agent runs each pipeline step"),
        "{err}"
    );
    let compose = std::fs::read_to_string(project.join("compose.yaml")).unwrap();
    let agent = compose.split("\n  woodpecker-agent:\n").nth(1).unwrap();
    assert!(
        agent.contains("- /var/run/docker.sock:/var/run/docker.sock\n"),
        "{compose}"
    );
    assert!(
        agent.contains("WOODPECKER_SERVER: woodpecker:9000"),
        "{compose}"
    );
}

/// A service that joins the group owning what it mounts (a Docker socket,
/// so it need not run as root): `.env` carries this machine's group, said
/// what it is; a machine without the source yet is told how to set it.
#[test]
fn a_host_mounts_group_is_this_machines_and_kept_in_env() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("engine.sock");
    fs::write(&socket, "").unwrap();
    let gid = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&socket).unwrap().gid()
    };
    let team = dir.path().join("team");
    fs::create_dir_all(team.join("services")).unwrap();
    fs::write(
        team.join("services/builder.yaml"),
        format!(
            "id: builder\ntheme: services\nname: Builder\ndescription: builds images\nservices:\n  builder:\n    image: busybox:1.36\n    host_mounts:\n      - source: {}\n        target: /run/engine.sock\n        reason: it builds images with your engine\n        group_var: BUILDER_GID\n",
            socket.display()
        ),
    )
    .unwrap();
    let new = |name: &str| {
        let out = brickyard()
            .arg("--catalog")
            .arg(&team)
            .args(["new", "--yes", "--services", "builder"])
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stderr_of(&out)
    };
    let group_add = |name: &str| {
        let out = brickyard()
            .arg("-C")
            .arg(dir.path().join(name))
            .args(["config", "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        config["services"]["builder"]["group_add"].clone()
    };

    new("here");
    let env = fs::read_to_string(dir.path().join("here/.env")).unwrap();
    assert!(
        env.contains(&format!(
            "# The group that owns {} on this machine; builder joins it.\nBUILDER_GID={gid}\n",
            socket.display()
        )),
        "{env}"
    );
    let compose = fs::read_to_string(dir.path().join("here/compose.yaml")).unwrap();
    assert!(
        compose.contains("    group_add:\n    - ${BUILDER_GID:-0}\n"),
        "{compose}"
    );
    assert_eq!(group_add("here"), serde_json::json!([gid.to_string()]));

    fs::remove_file(&socket).unwrap();
    let err = new("later");
    assert!(
        err.contains(&format!(
            "builder joins the group that owns {0}, which this machine does not have yet: once it does, set BUILDER_GID in .env to its group (stat -c %g {0})",
            socket.display()
        )),
        "{err}"
    );
    let env = fs::read_to_string(dir.path().join("later/.env")).unwrap();
    assert!(env.contains("\nBUILDER_GID=\n"), "{env}");
    // Empty, the root group: what a daemon without a `docker` group uses.
    assert_eq!(group_add("later"), serde_json::json!(["0"]));
}

/// A local Jenkins declares the chat's webhook as the credential the
/// Jenkinsfile binds: the controller reads it from `.env`; the agent, which
/// runs the builds' code, is never given it.
#[test]
fn a_local_jenkins_gets_the_chats_webhook_and_its_agent_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("jk");
    let out = brickyard()
        .args(["new", "--yes", "--ci", "jenkins", "--chat", "slack"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(project.join("compose.yaml")).unwrap()).unwrap();
    let env = |service: &str| compose["services"][service]["environment"].clone();
    assert_eq!(
        env("jenkins")["SLACK_WEBHOOK_URL"].as_str(),
        Some("${SLACK_WEBHOOK_URL:-}"),
        "{compose:?}"
    );
    assert!(
        env("jenkins-agent").get("SLACK_WEBHOOK_URL").is_none(),
        "{compose:?}"
    );
    let casc = fs::read_to_string(project.join("ci/jenkins/jenkins.yaml")).unwrap();
    assert!(casc.contains("id: slack-webhook-url"), "{casc}");
    let jenkinsfile = fs::read_to_string(project.join("Jenkinsfile")).unwrap();
    assert!(
        jenkinsfile.contains("credentialsId: 'slack-webhook-url', variable: 'SLACK_WEBHOOK_URL'"),
        "{jenkinsfile}"
    );
}
