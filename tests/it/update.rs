//! `update`, `add`, `remove`: living with a project after `new`, with the
//! files a person edited by hand.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{brickyard, scratch, stderr_of, stdout_of};

fn run(project: &Path, args: &[&str]) -> std::process::Output {
    brickyard()
        .arg("-C")
        .arg(project)
        .args(args)
        .output()
        .unwrap()
}

/// `brickyard new <project> <args>`, which must succeed.
fn made(project: &Path, args: &[&str]) {
    let out = brickyard()
        .arg("new")
        .arg(project)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

fn read(project: &Path, path: &str) -> String {
    fs::read_to_string(project.join(path)).unwrap_or_default()
}

fn edit(project: &Path, path: &str, f: impl FnOnce(String) -> String) {
    let text = read(project, path);
    fs::write(project.join(path), f(text)).unwrap();
}

/// A team catalog that starts as copies of two built-in files (the README's
/// "Run it" section among them).
fn team_catalog(root: &Path) -> PathBuf {
    let team = root.join("team");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (from, to) in [
        ("catalog/services/redis.yaml", "services/redis.yaml"),
        (
            "templates/project/readme/runs_stack.md.hbs",
            "templates/project/readme/runs_stack.md.hbs",
        ),
    ] {
        let dest = team.join(to);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(repo.join(from), dest).unwrap();
    }
    team
}

#[test]
fn add_and_remove_keep_every_edit_and_undo_puts_it_back() {
    let (_dir, project) = scratch();
    made(&project, &["--yes", "--services", "postgres"]);
    // A person's edits: a service of their own, a note, a variable.
    edit(&project, "compose.yaml", |t| {
        t.replacen(
            "services:\n",
            "services:\n  worker:\n    image: busybox:1\n    command: [sleep, \"1\"]\n",
            1,
        )
    });
    edit(&project, "README.md", |t| format!("{t}\nOur own notes.\n"));
    edit(&project, ".env", |t| format!("{t}MY_OWN=kept\n"));
    let secret_before = read(&project, ".env")
        .lines()
        .find(|l| l.starts_with("POSTGRES_PASSWORD="))
        .unwrap()
        .to_string();

    let out = run(&project, &["add", "redis"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let compose = read(&project, "compose.yaml");
    assert!(compose.contains("  worker:\n"), "{compose}");
    assert!(compose.contains("  redis:\n"), "{compose}");
    assert!(compose.contains("REDIS_URL"), "the app is wired: {compose}");
    assert!(read(&project, "README.md").contains("Our own notes."));
    let env = read(&project, ".env");
    assert!(env.contains("MY_OWN=kept"), "{env}");
    assert!(env.contains(&secret_before), "{env}");
    assert!(env.contains("REDIS_PASSWORD="), "{env}");
    assert!(read(&project, "brickyard.yaml").contains("- redis"));
    // The result is a compose file Compose's model accepts.
    let config = run(&project, &["config", "--services"]);
    assert!(config.status.success(), "{}", stderr_of(&config));
    let services = stdout_of(&config);
    for s in ["app", "postgres", "redis", "worker"] {
        assert!(services.lines().any(|l| l == s), "{s} missing: {services}");
    }

    // An update with nothing to do keeps the undo of the last change.
    let out = run(&project, &["update"]);
    assert!(
        stderr_of(&out).contains("is up to date"),
        "{}",
        stderr_of(&out)
    );
    assert!(read(&project, ".brickyard/undo/files/compose.yaml").contains("  worker:\n"));
    assert!(!read(&project, ".brickyard/undo/files/compose.yaml").contains("  redis:\n"));

    let before_remove = read(&project, "compose.yaml");
    let out = run(&project, &["remove", "postgres"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stderr_of(&out);
    assert!(
        said.contains("myapp_postgres-data stay on the engine"),
        "{said}"
    );
    let compose = read(&project, "compose.yaml");
    assert!(!compose.contains("postgres:"), "{compose}");
    assert!(compose.contains("  worker:\n"));

    let out = run(&project, &["update", "--undo"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(read(&project, "compose.yaml"), before_remove);
    assert!(read(&project, "brickyard.yaml").contains("- postgres"));

    // Rules are checked as in `new`, and nothing is written.
    let out = run(&project, &["add", "redsi"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("did you mean `redis`"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(read(&project, "compose.yaml"), before_remove);
}

#[test]
fn a_catalog_change_merges_with_edits_and_conflicts_are_never_silent() {
    let (dir, project) = scratch();
    let team = team_catalog(dir.path());
    let with_team = |args: &[&str]| {
        brickyard()
            .arg("--catalog")
            .arg(&team)
            .arg("-C")
            .arg(&project)
            .args(args)
            .output()
            .unwrap()
    };
    let made = brickyard()
        .arg("--catalog")
        .arg(&team)
        .arg("new")
        .arg(&project)
        .args(["--yes", "--services", "redis"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr_of(&made));
    let up_to_date = with_team(&["update", "--check"]);
    assert!(up_to_date.status.success(), "{}", stderr_of(&up_to_date));

    // The person: an env var on redis, a line of the README rewritten.
    edit(&project, "compose.yaml", |t| {
        t.replacen(
            "    image: redis:7.4.1-bookworm\n",
            "    image: redis:7.4.1-bookworm\n    labels:\n      team: core\n",
            1,
        )
    });
    edit(&project, "README.md", |t| {
        t.replacen(
            "brickyard up          #",
            "brickyard up --timeout 300   #",
            1,
        )
    });
    // ... and a line of their own in the app.
    edit(&project, "app/main.py", |t| {
        format!("{t}\n# Our own handler goes here.\n")
    });
    // The team: a new healthcheck interval, the same README line changed.
    edit(&team, "services/redis.yaml", |t| {
        t.replace(
            "test: [CMD-SHELL, redis-cli ping | grep -q PONG]\n",
            "test: [CMD-SHELL, redis-cli ping | grep -q PONG]\n      interval: 3s\n",
        )
    });
    edit(&team, "templates/project/readme/runs_stack.md.hbs", |t| {
        t.replacen("brickyard up          #", "brickyard up --wait   #", 1)
    });

    let check = with_team(&["update", "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let listed = stdout_of(&check);
    assert!(listed.contains("changed  compose.yaml"), "{listed}");
    assert!(listed.contains("changed  README.md"), "{listed}");

    let compose_before = read(&project, "compose.yaml");
    let dry = with_team(&["update", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    assert!(
        stdout_of(&dry).contains("+      interval: 3s"),
        "{}",
        stdout_of(&dry)
    );
    assert_eq!(read(&project, "compose.yaml"), compose_before);

    let out = with_team(&["update"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("CONFLICT README.md (line"), "{err}");
    assert!(err.contains("1 file(s) have conflicts"), "{err}");
    // Both edits to compose.yaml survive.
    let compose = read(&project, "compose.yaml");
    assert!(compose.contains("team: core"), "{compose}");
    assert!(compose.contains("interval: 3s"), "{compose}");
    assert!(read(&project, "app/main.py").contains("# Our own handler goes here."));
    let readme = read(&project, "README.md");
    assert!(
        readme.contains("<<<<<<< ours\nbrickyard up --timeout 300"),
        "{readme}"
    );
    assert!(readme.contains(">>>>>>> theirs"), "{readme}");

    // Not again while markers remain.
    let again = with_team(&["update"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr_of(&again).contains("conflict markers remain in README.md"),
        "{}",
        stderr_of(&again)
    );

    // Resolved by hand: the next update has nothing left to do.
    edit(&project, "README.md", |t| {
        let mut out = String::new();
        let mut skip = false;
        for line in t.lines() {
            if line.starts_with("<<<<<<< ") {
                skip = false;
                continue;
            }
            if line.starts_with("||||||| ") || line.starts_with("=======") {
                skip = true;
                continue;
            }
            if line.starts_with(">>>>>>> ") {
                skip = false;
                continue;
            }
            if !skip {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    });
    // The project recorded its catalog: no --catalog needed any more.
    assert!(read(&project, "brickyard.yaml").contains("source: ../team"));
    let settled = run(&project, &["update"]);
    assert!(settled.status.success(), "{}", stderr_of(&settled));
    assert!(
        stderr_of(&settled).contains("is up to date"),
        "{}",
        stderr_of(&settled)
    );
    assert!(read(&project, "README.md").contains("brickyard up --timeout 300"));
}

#[test]
fn undo_with_nothing_to_undo_says_so() {
    let (_dir, project) = scratch();
    assert!(
        brickyard()
            .arg("new")
            .arg(&project)
            .arg("--yes")
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = run(&project, &["update", "--undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("nothing to undo"),
        "{}",
        stderr_of(&out)
    );
    let out = run(&project, &["update"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is up to date"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_recorded_catalog_that_moved_is_named_with_the_way_out() {
    let (dir, project) = scratch();
    let team = team_catalog(dir.path());
    let made = brickyard()
        .arg("--catalog")
        .arg(&team)
        .arg("new")
        .arg(&project)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr_of(&made));
    let moved = dir.path().join("team-moved");
    fs::rename(&team, &moved).unwrap();
    for args in [&["update"][..], &["add", "mailpit"], &["verify"]] {
        let out = run(&project, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains("made with the catalog directory ../team")
                && err.contains("--catalog DIR"),
            "{args:?}: {err}"
        );
    }
    let out = brickyard()
        .arg("--catalog")
        .arg(&moved)
        .arg("-C")
        .arg(&project)
        .arg("update")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(read(&project, "brickyard.yaml").contains("source: ../team-moved"));
}

/// Every file below `root` with its bytes (and nothing else there).
/// Ctrl-C while `add` stages its files, and again while it moves them into
/// place: the project is byte for byte as it was, with no staging
/// directory inside or beside it; then `add` still works.
#[cfg(unix)]
#[test]
fn ctrl_c_at_any_moment_of_a_write_leaves_the_project_as_it_was() {
    let (dir, project) = scratch();
    made(&project, &["--yes", "--services", "postgres"]);
    edit(&project, "README.md", |t| format!("{t}\nOur notes.\n"));
    let before = crate::support::snapshot(dir.path());
    let p = project.to_str().unwrap();
    // 12 files change (with their base copies): at 250 ms a step, staging
    // takes ~3 s, moving them into place ~3 s more.
    // SIGTERM is taken as Ctrl-C is.
    for (signal, after_ms) in [("-INT", 400), ("-INT", 4200), ("-TERM", 4200)] {
        let out = crate::support::signalled(
            signal,
            &["-C", p, "add", "redis"],
            std::time::Duration::from_millis(after_ms),
        );
        assert_eq!(
            out.status.code(),
            Some(130),
            "at {after_ms} ms: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains("interrupted; nothing was written (the project is as it was)"),
            "{}",
            stderr_of(&out)
        );
        let changed = crate::support::differences(&before, &crate::support::snapshot(dir.path()));
        assert!(
            changed.is_empty(),
            "Ctrl-C at {after_ms} ms changed {changed:?}"
        );
    }
    let out = run(&project, &["add", "redis"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(read(&project, "README.md").contains("Our notes."));

    // `new` interrupted while staging: no project, no staging directory.
    let fresh = dir.path().join("fresh");
    let out = crate::support::interrupted(
        &["new", fresh.to_str().unwrap(), "--yes"],
        std::time::Duration::from_millis(600),
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(!fresh.exists());
    let beside: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["myapp"], "left beside the project: {beside:?}");
}

/// `git` in `dir`, which must succeed; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Team", "-c", "user.email=team@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr_of(&out));
    stdout_of(&out).trim().to_string()
}

/// A team catalog in a git repository: `new` records the commit it used,
/// `add` keeps to it, `update` moves to the newest commit of the ref (or to
/// `--ref`), a cache that was cleared is fetched again, and a repository
/// that went away is named with the way out.
#[test]
fn a_git_catalog_is_recorded_by_commit_and_update_follows_its_ref() {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("team-catalog");
    fs::create_dir_all(repo.join("services")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let redis = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/services/redis.yaml");
    let entry = fs::read_to_string(redis).unwrap();
    fs::write(repo.join("services/redis.yaml"), &entry).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "team redis"]);
    git(&repo, &["tag", "v1"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);

    let cache = root.path().join("cache");
    let by = |args: &[&str]| {
        brickyard()
            .env("BRICKYARD_CACHE_DIR", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    let project = root.path().join("shop");
    let spec = format!("git+file://{}@main", repo.display());
    let p = project.to_str().unwrap();
    let out = by(&["new", p, "--catalog", &spec, "--yes", "--services", "redis"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let recorded = read(&project, "brickyard.yaml");
    assert!(
        recorded.contains(&format!("- source: {spec}\n"))
            && recorded.contains(&format!("commit: {first}")),
        "{recorded}"
    );

    // The team changes its Redis; the project is behind, but add keeps to
    // the commit it records.
    fs::write(
        repo.join("services/redis.yaml"),
        entry.replace("[redis-server", "[redis-server, --maxmemory, 64mb"),
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "cap memory"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    let out = by(&["-C", p, "update", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("changed  compose.yaml"),
        "{}",
        stdout_of(&out)
    );
    let out = by(&["-C", p, "add", "postgres"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!read(&project, "compose.yaml").contains("--maxmemory"));
    assert!(read(&project, "brickyard.yaml").contains(&format!("commit: {first}")));

    let out = by(&["-C", p, "update"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(read(&project, "compose.yaml").contains("--maxmemory"));
    assert!(read(&project, "brickyard.yaml").contains(&format!("commit: {second}")));

    // A cleared cache is fetched again, at the recorded commit.
    fs::remove_dir_all(&cache).unwrap();
    let out = by(&["-C", p, "add", "memcached"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(read(&project, "compose.yaml").contains("--maxmemory"));

    // --ref moves to a tag, and the project follows that ref from then on.
    let out = by(&["-C", p, "update", "--ref", "v1"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!read(&project, "compose.yaml").contains("--maxmemory"));
    let recorded = read(&project, "brickyard.yaml");
    assert!(
        recorded.contains("@v1\n") && recorded.contains(&format!("commit: {first}")),
        "{recorded}"
    );

    // The repository went away and nothing is cached: named, with the way out.
    fs::rename(&repo, root.path().join("moved")).unwrap();
    fs::remove_dir_all(&cache).unwrap();
    let out = by(&["-C", p, "add", "mysql"]);
    let err = crate::support::failed(out);
    assert!(
        err.contains("cannot get the catalog git+file://") && err.contains("--catalog DIR"),
        "{err}"
    );
    assert!(!read(&project, "compose.yaml").contains("mysql"));
}

/// While `new` writes, nothing but the project's own directory ever
/// appears beside it: the files (the secrets in `.env` among them) are
/// staged inside the project, never next to it.
#[test]
fn new_stages_inside_the_project_never_beside_it() {
    let (dir, project) = scratch();
    let mut child = std::process::Command::new(crate::support::bin())
        .env("CI", "true")
        .env("BRICKYARD_TEST_WRITE_DELAY_MS", "40")
        .arg("new")
        .arg(&project)
        .args(["--yes", "-q"])
        .spawn()
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    while child.try_wait().unwrap().is_none() {
        for e in fs::read_dir(dir.path()).unwrap() {
            seen.insert(e.unwrap().file_name().to_string_lossy().into_owned());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["myapp"],
        "something was written beside the project"
    );
    assert!(fs::read_dir(&project).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".brickyard-")
    }));
}

/// Two `add`s in the same project at the same moment: the second waits for
/// the first and merges against what it wrote, so both tools are there and
/// nothing conflicts (before, the second saw a conflict in its own README
/// and the project's picks and files disagreed).
#[test]
fn two_adds_at_once_both_land() {
    let (_dir, project) = scratch();
    made(&project, &["--yes", "--services", "postgres"]);
    let add = |tool: &str| {
        std::process::Command::new(crate::support::bin())
            .env("CI", "true")
            .env("BRICKYARD_TEST_WRITE_DELAY_MS", "30")
            .arg("-C")
            .arg(&project)
            .args(["add", tool])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (add("redis"), add("memcached"));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    let picks = read(&project, "brickyard.yaml");
    assert!(
        picks.contains("- redis") && picks.contains("- memcached"),
        "{picks}"
    );
    let compose = read(&project, "compose.yaml");
    assert!(
        compose.contains("\n  redis:\n") && compose.contains("\n  memcached:\n"),
        "{compose}"
    );
    for file in crate::support::tree(&project) {
        let text = read(&project, &file);
        assert!(
            !text.contains("<<<<<<< ours"),
            "{file} has conflict markers"
        );
    }
}

/// Dropping the local stack from a project: the files it needed go with
/// their emptied folders (a folder holding a person's file stays), the
/// result says there is no stack to `up`, and a rule the change breaks
/// names the way out in `add`'s terms.
#[test]
fn dropping_the_stack_leaves_no_empty_folders_and_says_so() {
    let (_dir, project) = scratch();
    made(&project, &["--yes", "--services", "none"]);
    fs::create_dir_all(project.join("ops/mine")).unwrap();
    fs::write(project.join("ops/mine/notes.txt"), "mine\n").unwrap();

    let out = run(&project, &["add", "containers=none"]);
    let err = crate::support::failed(out);
    assert!(
        err.contains("Ansible needs one of compose, kubernetes or podman")
            && err.contains("`brickyard add containers=compose`")
            && err.contains("`brickyard add THEME=none ...`"),
        "{err}"
    );

    let out = run(
        &project,
        &[
            "add",
            "containers=none",
            "config-mgmt=none",
            "monitoring=none",
        ],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("no local stack now"),
        "{}",
        stderr_of(&out)
    );
    assert!(!project.join("compose.yaml").exists());
    assert!(
        !project.join("monitoring").exists(),
        "an empty monitoring/ stayed"
    );
    assert!(
        !project.join("ops/ansible").exists(),
        "an empty ops/ansible/ stayed"
    );
    assert_eq!(read(&project, "ops/mine/notes.txt"), "mine\n");
}

/// The case: `add redis` once turned a person's `MY_FLAG: 'on'`
/// into `MY_FLAG: on` (a boolean to PyYAML, Ansible and yamllint) and
/// dropped an inline comment. Every line the person wrote survives as they
/// wrote it.
#[test]
fn add_keeps_the_persons_quotes_and_inline_comments_as_written() {
    let (_dir, project) = scratch();
    made(&project, &["--yes", "--services", "postgres"]);
    edit(&project, "compose.yaml", |t| {
        t.replacen(
            "      PORT: '8000'\n",
            "      PORT: '8000'\n      MY_FLAG: 'on'\n      MY_NAME: \"brick\" # our own\n",
            1,
        )
        .replacen("    init: true\n", "    init: true # tini reaps\n", 1)
    });
    let mine = read(&project, "compose.yaml");
    let out = run(&project, &["add", "redis"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let compose = read(&project, "compose.yaml");
    for line in [
        "      MY_FLAG: 'on'",
        "      MY_NAME: \"brick\" # our own",
        "    init: true # tini reaps",
    ] {
        assert!(
            compose.lines().any(|l| l == line),
            "{line:?} lost:\n{compose}"
        );
    }
    assert!(compose.contains("REDIS_URL"), "{compose}");
    assert!(compose.contains("\n  redis:\n"), "{compose}");
    // And every other line of the person's file is still there.
    for line in mine.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            compose.lines().any(|l| l == line),
            "{line:?} lost:\n{compose}"
        );
    }
}
