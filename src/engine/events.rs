//! What the engine reports as it works. The engine never prints; the
//! command layer passes a `Reporter` (the `ui` module renders events as
//! progress bars on a terminal, plain lines in CI, nothing when quiet).

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Something the person should know but that does not stop the work.
    Warning(String),
    /// A resource of the project: network, volume, or a container that is
    /// not (or no longer) a service's.
    Resource {
        kind: ResourceKind,
        name: String,
        status: ResourceStatus,
    },
    /// An image being built or pulled for a service.
    Image {
        service: String,
        image: String,
        status: ImageStatus,
    },
    /// A service's container moving through `up`.
    Service {
        service: String,
        container: String,
        status: ServiceStatus,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Network,
    Volume,
    Container,
}

impl ResourceKind {
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::Network => "network",
            ResourceKind::Volume => "volume",
            ResourceKind::Container => "container",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceStatus {
    Created,
    Removed,
    /// Removed because its service is gone from the file.
    Orphaned {
        service: String,
    },
    Kept,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageStatus {
    /// A line of build output.
    Building(String),
    Built,
    /// `current`/`total` bytes of one layer.
    Pulling {
        layer: String,
        current: u64,
        total: u64,
    },
    Pulled,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceStatus {
    /// Waiting for a dependency's condition.
    Waiting {
        dependency: String,
        condition: String,
    },
    Creating,
    /// Being replaced, and why ("its configuration changed", ...).
    Recreating(String),
    Starting,
    Started,
    /// Running and unchanged: nothing was done.
    Unchanged,
    /// The last line it wrote, while it starts.
    Output(String),
    /// Ready: `healthy`, `running` (no healthcheck), `completed` (exit 0).
    Ready {
        how: &'static str,
        after_secs: f64,
    },
    Failed(String),
    Removed,
}

/// Where events go. Implementations must be cheap and must not block.
pub trait Reporter: Send + Sync {
    fn event(&self, event: Event);
    /// Whether `Output` events (a starting container's last line) are shown;
    /// following output costs a stream per container, so only if so.
    fn wants_output(&self) -> bool {
        false
    }
}

/// Discards everything (tests, `--quiet` for the parts that print nothing).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: Event) {}
}

/// Keeps every event, for tests and for summaries after the fact.
#[derive(Default)]
pub struct Recorder(pub std::sync::Mutex<Vec<Event>>);

impl Reporter for Recorder {
    fn event(&self, event: Event) {
        self.0.lock().expect("not poisoned").push(event);
    }
}
