//! Images: build the services that have a `build`, pull the ones missing.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use futures_util::StreamExt;

use super::{Engine, EngineError, LABEL_PROJECT, LABEL_SERVICE, built_image_name, describe};
use crate::compose::{Project, Service};
use crate::ui::{Bars, Ui};

/// The image a service runs: its `image`, or the name compose gives a build.
pub fn image_for(project: &Project, name: &str, svc: &Service) -> String {
    match (&svc.image, &svc.build) {
        (Some(image), _) => image.clone(),
        (None, _) => built_image_name(&project.name, name),
    }
}

/// Builds and pulls what is needed; returns each service's image id.
/// `rebuild` builds even when the image exists (`up --build`).
pub async fn ensure(
    engine: &Engine,
    ui: &Ui,
    bars: &Bars,
    project: &Project,
    rebuild: bool,
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut ids = BTreeMap::new();
    // Builds run one at a time (they compete for the same CPUs); pulls of
    // distinct images run together.
    let mut pulls = Vec::new();
    for (name, svc) in &project.services {
        let image = image_for(project, name, svc);
        let existing = engine
            .docker
            .inspect_image(&image)
            .await
            .ok()
            .and_then(|i| i.id);
        match (&svc.build, existing) {
            (Some(_), Some(id)) if !rebuild => {
                ids.insert(name.clone(), id);
            }
            (Some(build), _) => {
                let id = build_one(engine, ui, bars, project, name, build, &image).await?;
                ids.insert(name.clone(), id);
            }
            (None, Some(id)) => {
                ids.insert(name.clone(), id);
            }
            (None, None) => pulls.push((name.clone(), image)),
        }
    }
    let mut unique: Vec<String> = pulls.iter().map(|(_, i)| i.clone()).collect();
    unique.sort();
    unique.dedup();
    let results =
        futures_util::future::join_all(unique.iter().map(|image| pull(engine, ui, bars, image)))
            .await;
    for r in results {
        r?;
    }
    for (name, image) in pulls {
        let id = engine
            .docker
            .inspect_image(&image)
            .await
            .map_err(super::api(format!(
                "cannot inspect image {image} after pulling it"
            )))?
            .id
            .unwrap_or_default();
        ids.insert(name, id);
    }
    Ok(ids)
}

async fn build_one(
    engine: &Engine,
    ui: &Ui,
    bars: &Bars,
    project: &Project,
    name: &str,
    build: &crate::compose::Build,
    image: &str,
) -> Result<String, EngineError> {
    let fail = |why: String| {
        EngineError::Api(format!(
            "cannot build image {image} for service {name}: {why}"
        ))
    };
    let line = bars.spinner(name);
    line.set_message("sending the build context");
    if !bars.is_live() {
        ui.status(format!("building {name} ({image})"));
    }
    let context = build.context.clone();
    let dockerfile = build.dockerfile.clone();
    let tar =
        tokio::task::spawn_blocking(move || super::context::tar_context(&context, &dockerfile))
            .await
            .map_err(|e| fail(e.to_string()))?
            .map_err(fail)?;
    let options = BuildImageOptions {
        dockerfile: build.dockerfile.clone(),
        t: Some(image.to_string()),
        rm: true,
        forcerm: true,
        buildargs: Some(build.args.clone().into_iter().collect()),
        target: build.target.clone().unwrap_or_default(),
        labels: Some(HashMap::from([
            (LABEL_PROJECT.to_string(), project.name.clone()),
            (LABEL_SERVICE.to_string(), name.to_string()),
        ])),
        ..Default::default()
    };
    let mut stream = engine
        .docker
        .build_image(options, None, Some(bollard::body_full(tar.into())));
    let mut log: Vec<String> = Vec::new();
    let mut id = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(err) = info.error_detail.and_then(|d| d.message) {
                    line.clear();
                    return Err(fail(format!("{err}\n{}", tail(&log, 15))));
                }
                if let Some(text) = info.stream.or(info.status) {
                    for l in text.lines().filter(|l| !l.trim().is_empty()) {
                        line.set_message(l);
                        log.push(l.to_string());
                    }
                }
                if let Some(aux) = info.aux.and_then(|a| a.id) {
                    id = Some(aux);
                }
            }
            Err(e) => {
                line.clear();
                return Err(fail(format!("{}\n{}", describe(&e), tail(&log, 15))));
            }
        }
    }
    let id = match id {
        Some(id) => id,
        None => engine
            .docker
            .inspect_image(image)
            .await
            .map_err(|e| fail(describe(&e)))?
            .id
            .unwrap_or_default(),
    };
    line.finish("built");
    if !bars.is_live() {
        ui.status(format!("built {name}"));
    }
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

/// Pulls one image with a progress bar per layer.
async fn pull(engine: &Engine, ui: &Ui, bars: &Bars, image: &str) -> Result<(), EngineError> {
    let (repo, tag) = split_reference(image);
    if !bars.is_live() {
        ui.status(format!("pulling {image}"));
    }
    let header = bars.spinner(image);
    header.set_message("pulling");
    let mut layers: HashMap<String, crate::ui::Line> = HashMap::new();
    let mut stream = engine.docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(repo.to_string()),
            tag: Some(tag.to_string()),
            ..Default::default()
        }),
        None,
        None,
    );
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                header.clear();
                layers.values().for_each(crate::ui::Line::clear);
                return Err(cannot_pull(image, &describe(&e)));
            }
        };
        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
            header.clear();
            return Err(cannot_pull(image, &msg));
        }
        if let (Some(id), Some(detail)) = (info.id, info.progress_detail)
            && let (Some(cur), Some(total)) = (detail.current, detail.total)
        {
            let bar = layers.entry(id.clone()).or_insert_with(|| bars.bar(&id));
            bar.set_progress(cur.max(0) as u64, total.max(0) as u64);
            bar.set_message(info.status.unwrap_or_default());
        }
    }
    layers.values().for_each(crate::ui::Line::clear);
    header.finish("pulled");
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
    use super::split_reference;

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
}
