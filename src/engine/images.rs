//! Images: build the services that have a `build`, pull the ones missing,
//! as Compose decides it (`pull_policy`, `--build`), reporting progress as
//! events. A build or pull that makes no progress for `stall` is stopped.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::BuildInfoAux;
use bollard::query_parameters::{
    BuildImageOptions, BuilderVersion, CreateImageOptions, TagImageOptions,
};
use futures_util::{Stream, StreamExt};

use super::events::{Event, ImageStatus, Reporter};
use super::*;
use crate::compose::{Project, Service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildPolicy {
    /// Build what has no image yet.
    #[default]
    Missing,
    /// `--build`: build everything that has a `build`.
    Always,
    /// `--no-build`: never build; a missing image is an error.
    Never,
}

/// Removes terminal escape sequences (colours, cursor moves) from text a
/// build printed, so logs and messages stay clean in a pipe or a file.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters then one final byte in @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ESC \
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            }
            continue;
        }
        if c == '\r' {
            continue;
        }
        out.push(c);
    }
    out
}

/// The next item of `stream`, or an error after `stall` with nothing.
async fn next_or_stall<S: Stream + Unpin>(
    stream: &mut S,
    stall: Duration,
    what: &str,
) -> Result<Option<S::Item>, EngineError> {
    tokio::time::timeout(stall, stream.next())
        .await
        .map_err(|_| {
            EngineError::Api(format!(
                "{what} made no progress for {} s; stopped (raise the limit with --timeout)",
                stall.as_secs()
            ))
        })
}

/// Builds and pulls what is needed; returns each service's image id.
pub async fn ensure(
    engine: &Engine,
    reporter: &dyn Reporter,
    project: &Project,
    policy: BuildPolicy,
    stall: Duration,
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut ids = BTreeMap::new();
    let mut pulls: Vec<(String, String)> = Vec::new();
    // Builds one at a time (they compete for the same CPUs); pulls together.
    for (name, svc) in &project.services {
        let image = create::image_name(project, svc);
        let existing = inspect_id(engine, &image).await?;
        let must_build = svc.build.is_some()
            && (policy == BuildPolicy::Always
                || svc.pull_policy == "build"
                || (existing.is_none() && policy != BuildPolicy::Never));
        if must_build {
            let id = build_one(engine, reporter, project, name, svc, &image, stall).await?;
            ids.insert(name.clone(), id);
            continue;
        }
        match (existing, svc.pull_policy.as_str()) {
            (_, "always") => pulls.push((name.clone(), image)),
            (Some(id), _) => {
                ids.insert(name.clone(), id);
            }
            (None, "never") => {
                return Err(EngineError::Api(format!(
                    "image {image} for service {name} is not here and its pull_policy is never"
                )));
            }
            (None, _) if svc.build.is_some() => {
                return Err(EngineError::Api(format!(
                    "image {image} for service {name} is not built; run `brickyard up --build` (or without --no-build)"
                )));
            }
            (None, _) => pulls.push((name.clone(), image)),
        }
    }
    let mut unique: Vec<String> = pulls.iter().map(|(_, i)| i.clone()).collect();
    unique.sort();
    unique.dedup();
    let results = futures_util::future::join_all(
        unique
            .iter()
            .map(|image| pull(engine, reporter, project, &pulls, image, stall)),
    )
    .await;
    for r in results {
        r?;
    }
    for (name, image) in pulls {
        let id = inspect_id(engine, &image).await?.ok_or_else(|| {
            EngineError::Api(format!("image {image} is missing right after pulling it"))
        })?;
        ids.insert(name, id);
    }
    Ok(ids)
}

async fn inspect_id(engine: &Engine, image: &str) -> Result<Option<String>, EngineError> {
    match engine.docker.inspect_image(image).await {
        Ok(i) => Ok(i.id),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api(format!("cannot inspect image {image}"))(e)),
    }
}

/// The Dockerfile name used in the context for `dockerfile_inline`.
const INLINE_DOCKERFILE: &str = ".brickyard.inline.Dockerfile";

async fn build_one(
    engine: &Engine,
    reporter: &dyn Reporter,
    project: &Project,
    name: &str,
    svc: &Service,
    image: &str,
    stall: Duration,
) -> Result<String, EngineError> {
    let build = svc.build.as_ref().expect("only called with a build");
    let fail = |why: String| {
        EngineError::Api(format!(
            "cannot build image {image} for service {name}: {why}"
        ))
    };
    let say = |line: String| {
        reporter.event(Event::Image {
            service: name.to_string(),
            image: image.to_string(),
            status: ImageStatus::Building(line),
        })
    };
    say("sending the build context".into());
    let context = std::path::PathBuf::from(&build.context);
    if build.context.contains("://") || build.context.starts_with("git@") {
        return Err(fail(format!(
            "the context {} is remote; brickyard builds local directories (clone it, or `docker build` it first)",
            build.context
        )));
    }
    let (dockerfile, inline) = if build.dockerfile_inline.is_empty() {
        (build.dockerfile.clone(), None)
    } else {
        (
            INLINE_DOCKERFILE.to_string(),
            Some(build.dockerfile_inline.clone()),
        )
    };
    let df = dockerfile.clone();
    let tar = tokio::task::spawn_blocking(move || {
        super::context::tar_context(&context, &df, inline.as_deref())
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(fail)?;
    let mut labels: HashMap<String, String> = build.labels.clone().into_iter().collect();
    labels.insert(LABEL_PROJECT.to_string(), project.name.clone());
    labels.insert(LABEL_SERVICE.to_string(), name.to_string());
    let platform = build
        .platforms
        .first()
        .cloned()
        .or_else(|| (!svc.platform.is_empty()).then(|| svc.platform.clone()));
    let what = format!("building {image} for service {name}");
    let mut id = None;
    if engine.buildkit && (!build.secrets.is_empty() || !build.ssh.is_empty()) {
        // Secrets and SSH need the Solve call; it streams no steps.
        say("building with BuildKit (build secrets or SSH: no step log until it ends)".into());
        let mut held = Vec::new();
        let secrets = super::buildkit::secrets(project, build, &mut held).map_err(&fail)?;
        let solve = super::buildkit::solve(
            &engine.docker,
            image,
            super::buildkit::SolveRequest {
                build,
                dockerfile: &dockerfile,
                labels: &labels,
                secrets,
                platform: platform.as_deref(),
            },
            tar,
        );
        tokio::time::timeout(stall, solve)
            .await
            .map_err(|_| {
                EngineError::Api(format!(
                    "{what} did not finish in {} s; stopped (raise the limit with --timeout)",
                    stall.as_secs()
                ))
            })?
            .map_err(|e| fail(strip_ansi(&e)))?;
    } else {
        let options = BuildImageOptions {
            dockerfile,
            t: Some(image.to_string()),
            rm: true,
            forcerm: true,
            nocache: build.no_cache,
            pull: build.pull.then(|| "1".into()),
            buildargs: Some(
                build
                    .args
                    .iter()
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                    .collect(),
            ),
            target: build.target.clone(),
            labels: Some(labels),
            networkmode: (!build.network.is_empty()).then(|| build.network.clone()),
            extrahosts: (!build.extra_hosts.0.is_empty()).then(|| {
                build
                    .extra_hosts
                    .0
                    .iter()
                    .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}:{ip}")))
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            shmsize: (build.shm_size.0 != 0)
                .then(|| i32::try_from(build.shm_size.0).unwrap_or(i32::MAX)),
            cachefrom: (!build.cache_from.is_empty()).then(|| build.cache_from.clone()),
            platform: platform.unwrap_or_default(),
            version: if engine.buildkit {
                BuilderVersion::BuilderBuildKit
            } else {
                BuilderVersion::BuilderV1
            },
            session: engine.buildkit.then(super::buildkit::session_id),
            ..Default::default()
        };
        let mut stream = Box::pin(engine.docker.build_image(
            options,
            None,
            Some(bollard::body_full(tar.into())),
        ));
        let mut log: Vec<String> = Vec::new();
        let mut progress = super::buildkit::Progress::default();
        while let Some(item) = next_or_stall(&mut stream, stall, &what).await? {
            match item {
                Ok(info) => {
                    if let Some(err) = info.error_detail.and_then(|d| d.message) {
                        return Err(fail(format!("{}\n{}", strip_ansi(&err), tail(&log, 15))));
                    }
                    let mut lines: Vec<String> = Vec::new();
                    if let Some(text) = info.stream.or(info.status) {
                        lines.extend(
                            strip_ansi(&text)
                                .lines()
                                .filter(|l| !l.trim().is_empty())
                                .map(String::from),
                        );
                    }
                    match info.aux {
                        Some(BuildInfoAux::BuildKit(status)) => {
                            lines.extend(progress.lines(&status))
                        }
                        Some(BuildInfoAux::Default(image_id)) => id = image_id.id.or(id),
                        None => {}
                    }
                    for l in lines {
                        say(l.clone());
                        log.push(l);
                    }
                }
                Err(e) if is_connection_error(&e) => return Err(api(&what)(e)),
                Err(e) => {
                    return Err(fail(format!(
                        "{}\n{}",
                        strip_ansi(&describe(&e)),
                        tail(&log, 15)
                    )));
                }
            }
        }
    }
    let id = match id {
        Some(id) => id,
        None => inspect_id(engine, image)
            .await?
            .ok_or_else(|| fail("the engine reported no image".into()))?,
    };
    for tag in &build.tags {
        let (repo, t) = split_reference(tag);
        engine
            .docker
            .tag_image(
                image,
                Some(TagImageOptions {
                    repo: Some(repo.to_string()),
                    tag: Some(t.to_string()),
                }),
            )
            .await
            .map_err(api(format!("cannot tag {image} as {tag}")))?;
    }
    reporter.event(Event::Image {
        service: name.to_string(),
        image: image.to_string(),
        status: ImageStatus::Built,
    });
    Ok(id)
}

fn tail(log: &[String], n: usize) -> String {
    let start = log.len().saturating_sub(n);
    log[start..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pulls one image with a progress event per layer.
async fn pull(
    engine: &Engine,
    reporter: &dyn Reporter,
    _project: &Project,
    pulls: &[(String, String)],
    image: &str,
    stall: Duration,
) -> Result<(), EngineError> {
    let (repo, tag) = split_reference(image);
    let service = pulls
        .iter()
        .find(|(_, i)| i == image)
        .map(|(s, _)| s.clone())
        .unwrap_or_default();
    let mut stream = Box::pin(engine.docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(repo.to_string()),
            tag: Some(tag.to_string()),
            ..Default::default()
        }),
        None,
        None,
    ));
    let what = format!("pulling {image}");
    while let Some(item) = next_or_stall(&mut stream, stall, &what).await? {
        let info = match item {
            Ok(info) => info,
            Err(e) if is_connection_error(&e) => return Err(api(&what)(e)),
            Err(e) => return Err(cannot_pull(image, &describe(&e))),
        };
        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
            return Err(cannot_pull(image, &msg));
        }
        if let (Some(id), Some(detail)) = (info.id, info.progress_detail)
            && let (Some(cur), Some(total)) = (detail.current, detail.total)
        {
            reporter.event(Event::Image {
                service: service.clone(),
                image: image.to_string(),
                status: ImageStatus::Pulling {
                    layer: id,
                    current: cur.max(0) as u64,
                    total: total.max(0) as u64,
                },
            });
        }
    }
    reporter.event(Event::Image {
        service,
        image: image.to_string(),
        status: ImageStatus::Pulled,
    });
    Ok(())
}

fn cannot_pull(image: &str, why: &str) -> EngineError {
    EngineError::Api(format!(
        "cannot pull image {image}: {why}\n  provide it another way: `docker load -i image.tar`, \
         a local image tagged with that name (`docker tag <local-image> {image}`), \
         or a registry mirror in the daemon's `registry-mirrors`"
    ))
}

/// `repo[:tag][@digest]` -> (repo, tag); a registry port is not a tag.
pub fn split_reference(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(split_reference("postgres:16.4"), ("postgres", "16.4"));
        assert_eq!(
            split_reference("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/app:2"),
            ("localhost:5000/app", "2")
        );
        assert_eq!(split_reference("redis"), ("redis", "latest"));
    }

    #[test]
    fn colours_are_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[1m\u{1b}[32mok\u{1b}[0m done\r"),
            "ok done"
        );
        assert_eq!(strip_ansi("\u{1b}]0;title\u{7}text"), "text");
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
