//! Compose fidelity, measured: every project in `tests/fixtures/compose/`
//! is read by `docker compose config` and by `brickyard config`, and the
//! two must agree: the same JSON and the same YAML, byte for byte (or both
//! refuse the file), and the same config hash per service. Where they may not agree, the
//! difference is one of the README's documented normalizations, listed here
//! with the fixture that shows it.
//!
//! In the validator tier (`docker compose` is one of the validators that
//! `.ci/run` installs).

use std::path::Path;
use std::process::{Command, Output};

/// Fixtures whose difference is documented in the README ("Documented
/// normalizations"), by the fixture that shows it.
const NORMALIZATIONS: &[(&str, &str)] = &[
    (
        "edge-octal-env",
        "plain scalars read as YAML 1.2: `010` and `1_000` are text, where Compose's YAML 1.1 reads 8 and 1000",
    ),
    (
        "edge-x-in-env",
        "an `x-` key inside a plain mapping (environment) is an extension and is dropped; Compose turns it into a `#extensions` entry",
    ),
];

/// Both tools see the same environment: the test's, without Compose
/// variables that would change what a fixture means.
fn clean(cmd: &mut Command) -> &mut Command {
    for var in [
        "COMPOSE_FILE",
        "COMPOSE_PROJECT_NAME",
        "COMPOSE_PROFILES",
        "COMPOSE_PATH_SEPARATOR",
        "COMPOSE_DISABLE_ENV_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn compose(dir: &Path, args: &[&str]) -> Output {
    clean(
        Command::new("docker")
            .arg("compose")
            .args(args)
            .current_dir(dir),
    )
    .output()
    .expect("docker compose runs (.ci/run installs it)")
}

fn ours(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(crate::support::bin());
    clean(cmd.env("CI", "true").args(args).current_dir(dir))
        .output()
        .unwrap()
}

fn first_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(160)
        .collect()
}

#[test]
#[cfg_attr(
    not(validator_tests),
    ignore = "validator tier: set BRICKYARD_VALIDATORS=1 (.ci/run does)"
)]
fn brickyard_reads_every_compose_file_as_docker_compose_does() {
    let fixtures = crate::support::compose_fixtures();
    assert!(fixtures.len() >= 150, "only {} fixtures", fixtures.len());
    let (mut identical, mut both_refuse, mut documented) = (0, 0, 0);
    let mut problems = Vec::new();
    for dir in &fixtures {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let theirs = compose(dir, &["config", "--format", "json"]);
        let mine = ours(dir, &["config", "--format", "json"]);
        let normalization = NORMALIZATIONS.iter().find(|(n, _)| *n == name);
        match (theirs.status.success(), mine.status.success()) {
            (false, false) => {
                both_refuse += 1;
                continue;
            }
            (true, false) => {
                problems.push(format!(
                    "{name}: brickyard refuses what Compose accepts: {}",
                    first_line(&mine)
                ));
                continue;
            }
            (false, true) => {
                problems.push(format!(
                    "{name}: brickyard accepts what Compose refuses: {}",
                    first_line(&theirs)
                ));
                continue;
            }
            (true, true) => {}
        }
        let (a, b) = (
            String::from_utf8_lossy(&theirs.stdout).trim().to_string(),
            String::from_utf8_lossy(&mine.stdout).trim().to_string(),
        );
        if a != b {
            if normalization.is_some() {
                documented += 1;
                continue;
            }
            let (ja, jb): (serde_json::Value, serde_json::Value) = (
                serde_json::from_str(&a).unwrap(),
                serde_json::from_str(&b).unwrap(),
            );
            let (pa, pb) = (
                serde_json::to_string_pretty(&ja).unwrap(),
                serde_json::to_string_pretty(&jb).unwrap(),
            );
            let first_diff = pa
                .lines()
                .zip(pb.lines())
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("compose `{}` / brickyard `{}`", x.trim(), y.trim()))
                .unwrap_or_else(|| "the same JSON, printed differently".into());
            problems.push(format!("{name}: config differs: {first_diff}"));
            continue;
        }
        if let Some((_, why)) = normalization {
            problems.push(format!(
                "{name} is listed as a normalization ({why}) but the outputs are identical now; drop it from the list and the README"
            ));
            continue;
        }
        let (ha, hb) = (
            compose(dir, &["config", "--hash", "*"]),
            ours(dir, &["config", "--hash", "*"]),
        );
        if ha.stdout != hb.stdout {
            problems.push(format!(
                "{name}: config hashes differ:\n  compose   {}\n  brickyard {}",
                String::from_utf8_lossy(&ha.stdout)
                    .trim()
                    .replace('\n', "\n            "),
                String::from_utf8_lossy(&hb.stdout)
                    .trim()
                    .replace('\n', "\n            ")
            ));
            continue;
        }
        let (ya, yb) = (compose(dir, &["config"]), ours(dir, &["config"]));
        if ya.stdout != yb.stdout {
            let (ya, yb) = (
                String::from_utf8_lossy(&ya.stdout).into_owned(),
                String::from_utf8_lossy(&yb.stdout).into_owned(),
            );
            let first_diff = ya
                .lines()
                .zip(yb.lines())
                .enumerate()
                .find(|(_, (x, y))| x != y)
                .map(|(i, (x, y))| format!("line {}: compose `{x}` / brickyard `{y}`", i + 1))
                .unwrap_or_else(|| "one YAML ends before the other".into());
            problems.push(format!("{name}: YAML differs: {first_diff}"));
            continue;
        }
        identical += 1;
    }
    eprintln!(
        "compose fidelity: {} files; {identical} identical (JSON, YAML and hashes), {both_refuse} refused by both, {documented} documented normalizations, {} problems",
        fixtures.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
