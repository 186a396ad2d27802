//! The one place that prints. Status goes to stderr, data (lists, JSON,
//! tables a script reads) to stdout, so `brickyard ... | jq` works.

use std::io::IsTerminal;

use console::style;

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    /// Progress bars and colour only on a terminal, never in CI logs.
    pub fancy: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        Ui {
            quiet,
            fancy: std::io::stderr().is_terminal() && !ci,
        }
    }

    /// A line of progress or a result, on stderr.
    pub fn status(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A headline: what just finished.
    pub fn done(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!(
                "{} {}",
                style("✔").for_stderr().green().bold(),
                msg.as_ref()
            );
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!(
            "{} {}",
            style("warning:").for_stderr().yellow().bold(),
            msg.as_ref()
        );
    }

    /// Data for people and scripts, on stdout; printed even when quiet.
    /// When the reader has gone (`brickyard config | head`), there is no
    /// one left to tell: stop quietly, as `cat` or ripgrep do.
    pub fn data(&self, msg: impl AsRef<str>) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{}", msg.as_ref()).and_then(|()| out.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }

    pub fn dim(&self, s: &str) -> String {
        style(s).dim().to_string()
    }

    pub fn bold(&self, s: &str) -> String {
        style(s).bold().to_string()
    }
}

/// The width of a table column: its longest value, and at least its header.
pub fn column_width(values: impl Iterator<Item = usize>, header: &str) -> usize {
    values.max().unwrap_or(0).max(header.len())
}

/// Progress lines: indicatif on a terminal, nothing at all otherwise (the
/// plain renderer prints milestone lines instead).
pub struct Bars {
    multi: Option<indicatif::MultiProgress>,
}

/// One spinner or bar; every method is a no-op when not on a terminal.
#[derive(Clone)]
pub struct Line(Option<indicatif::ProgressBar>);

impl Ui {
    pub fn bars(&self) -> Bars {
        Bars {
            multi: (self.fancy && !self.quiet).then(indicatif::MultiProgress::new),
        }
    }
}

impl Bars {
    pub fn is_live(&self) -> bool {
        self.multi.is_some()
    }

    pub fn spinner(&self, prefix: &str) -> Line {
        Line(self.multi.as_ref().map(|m| {
            let pb = m.add(indicatif::ProgressBar::new_spinner());
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner:.cyan} {prefix:<14.bold} {msg:.dim}",
                )
                .expect("static template"),
            );
            pb.set_prefix(prefix.to_string());
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        }))
    }

    pub fn bar(&self, prefix: &str) -> Line {
        Line(self.multi.as_ref().map(|m| {
            let pb = m.add(indicatif::ProgressBar::new(0));
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "  {prefix:<14} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {msg}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            pb.set_prefix(prefix.to_string());
            pb
        }))
    }

    /// Prints a line above the bars without tearing them.
    pub fn println(&self, ui: &Ui, msg: impl AsRef<str>) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(msg.as_ref());
            }
            None => ui.status(msg),
        }
    }
}

/// The room a message has on a progress line: the terminal's width less the
/// spinner and name, less a margin, so that a line never fills the width (the
/// `^C` a terminal echoes would wrap it, and the live area could not be
/// erased cleanly on Ctrl-C).
fn message_room() -> usize {
    let (_, cols) = console::Term::stderr().size();
    (cols as usize).saturating_sub(2 + 14 + 1 + 6).max(10)
}

impl Line {
    pub fn set_message(&self, msg: impl Into<String>) {
        if let Some(pb) = &self.0 {
            // One line only: the last line of output is what a person wants to see.
            let msg: String = msg.into();
            let last = msg.lines().last().unwrap_or("");
            let room = message_room();
            let shown: String = if last.chars().count() > room {
                last.chars()
                    .take(room.saturating_sub(1))
                    .chain(['…'])
                    .collect()
            } else {
                last.to_string()
            };
            pb.set_message(shown);
        }
    }

    pub fn set_progress(&self, current: u64, total: u64) {
        if let Some(pb) = &self.0 {
            pb.set_length(total);
            pb.set_position(current);
        }
    }

    pub fn finish(&self, msg: impl Into<String>) {
        if let Some(pb) = &self.0 {
            pb.set_style(
                indicatif::ProgressStyle::with_template("{prefix:<16.bold} {msg}")
                    .expect("static template"),
            );
            pb.finish_with_message(msg.into());
        }
    }

    pub fn clear(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

use std::collections::HashMap;
use std::sync::Mutex;

use crate::engine::events::{Event, ImageStatus, Reporter, ResourceStatus, ServiceStatus};

/// While live progress is drawn, the terminal does not echo `^C`: indicatif
/// leaves the cursor in the last column, where the echo would wrap to a new
/// line, and the live area could no longer be erased cleanly on Ctrl-C (a
/// stale progress line stayed on screen). Restored when dropped.
struct NoControlEcho {
    saved: Option<rustix::termios::Termios>,
}

impl NoControlEcho {
    fn new() -> NoControlEcho {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin)
            .ok()
            .filter(|t| t.local_modes.contains(LocalModes::ECHOCTL));
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            quiet.local_modes.remove(LocalModes::ECHOCTL);
            let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
        }
        NoControlEcho { saved }
    }
}

impl Drop for NoControlEcho {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                t,
            );
        }
    }
}

/// Renders the engine's events: a live line per service and image on a
/// terminal, one plain line per milestone otherwise (CI logs, pipes), and
/// only warnings when quiet.
pub struct Progress {
    ui: Ui,
    bars: Bars,
    _echo: Option<NoControlEcho>,
    lines: Mutex<HashMap<String, Line>>,
    /// Images already announced (plain mode says "building" once).
    announced: Mutex<Vec<String>>,
}

impl Progress {
    pub fn new(ui: Ui) -> Progress {
        let bars = ui.bars();
        Progress {
            ui,
            _echo: bars.is_live().then(NoControlEcho::new),
            bars,
            lines: Mutex::default(),
            announced: Mutex::default(),
        }
    }

    fn line(&self, key: &str, bar: bool) -> Line {
        let mut lines = self.lines.lock().expect("not poisoned");
        lines
            .entry(key.to_string())
            .or_insert_with(|| {
                if bar {
                    self.bars.bar(key)
                } else {
                    self.bars.spinner(key)
                }
            })
            .clone()
    }

    fn first_time(&self, key: &str) -> bool {
        let mut seen = self.announced.lock().expect("not poisoned");
        if seen.iter().any(|k| k == key) {
            false
        } else {
            seen.push(key.to_string());
            true
        }
    }

    /// Ends what is drawn before a table or an error is printed: the live
    /// area is erased and each service's last state printed as a plain line
    /// (unfinished ones say `unfinished`), so nothing keeps spinning and no
    /// partly redrawn frame is left on the screen.
    pub fn finish(&self, unfinished: &str) {
        let Some(multi) = &self.bars.multi else {
            return;
        };
        let lines = self.lines.lock().expect("not poisoned");
        let mut finals: Vec<(String, String)> = Vec::new();
        for (key, line) in lines.iter() {
            if let Some(pb) = &line.0 {
                pb.disable_steady_tick();
                if !key.contains(' ') {
                    let msg = if pb.is_finished() {
                        pb.message()
                    } else {
                        unfinished.to_string()
                    };
                    finals.push((key.clone(), msg));
                }
            }
        }
        // Erase the live area while its bookkeeping is whole, then draw no more.
        let _ = multi.clear();
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        for line in lines.values() {
            if let Some(pb) = &line.0 {
                pb.finish_and_clear();
            }
        }
        finals.sort();
        for (key, msg) in finals {
            self.ui
                .status(format!("{} {msg}", self.ui.bold(&format!("{key:<16}"))));
        }
    }
}

impl Reporter for Progress {
    fn wants_output(&self) -> bool {
        self.bars.is_live()
    }

    fn event(&self, event: Event) {
        let live = self.bars.is_live();
        match event {
            Event::Warning(w) => {
                if live {
                    self.bars.println(
                        &self.ui,
                        format!(
                            "{} {w}",
                            console::style("warning:").for_stderr().yellow().bold()
                        ),
                    );
                } else {
                    self.ui.warn(w);
                }
            }
            Event::Resource { kind, name, status } => {
                let text = match status {
                    ResourceStatus::Created => format!("created {} {name}", kind.noun()),
                    ResourceStatus::Removed => format!("removed {} {name}", kind.noun()),
                    ResourceStatus::Orphaned { service } => {
                        format!("removing {name} (service {service} is no longer in the file)")
                    }
                    ResourceStatus::Kept => format!("kept {} {name}", kind.noun()),
                };
                self.bars.println(&self.ui, text);
            }
            Event::Image {
                service,
                image,
                status,
            } => match status {
                ImageStatus::Building(line) => {
                    if live {
                        self.line(&service, false).set_message(line);
                    } else if self.first_time(&format!("build {image}")) {
                        self.ui.status(format!("building {service} ({image})"));
                    }
                }
                ImageStatus::Built => {
                    if live {
                        self.line(&service, false).set_message("built");
                    } else {
                        self.ui.status(format!("built {service}"));
                    }
                }
                ImageStatus::Pulling {
                    layer,
                    current,
                    total,
                } => {
                    if live {
                        let bar = self.line(&format!("{image} {layer}"), true);
                        bar.set_progress(current, total);
                    } else if self.first_time(&format!("pull {image}")) {
                        self.ui.status(format!("pulling {image}"));
                    }
                }
                ImageStatus::Pulled => {
                    if live {
                        let keys: Vec<String> = self
                            .lines
                            .lock()
                            .expect("not poisoned")
                            .keys()
                            .filter(|k| k.starts_with(&format!("{image} ")))
                            .cloned()
                            .collect();
                        for k in keys {
                            self.line(&k, true).clear();
                        }
                    } else {
                        self.ui.status(format!("pulled {image}"));
                    }
                }
            },
            Event::Service {
                service, status, ..
            } => {
                let text = match &status {
                    ServiceStatus::Waiting {
                        dependency,
                        condition,
                    } => {
                        format!("waiting for {dependency} ({condition})")
                    }
                    ServiceStatus::Creating => "creating".into(),
                    ServiceStatus::Recreating(why) => format!("recreating ({why})"),
                    ServiceStatus::Starting => "starting".into(),
                    ServiceStatus::Started => "started".into(),
                    ServiceStatus::Unchanged => "unchanged".into(),
                    ServiceStatus::Output(line) => {
                        if live {
                            self.line(&service, false).set_message(line.clone());
                        }
                        return;
                    }
                    ServiceStatus::Ready { how, after_secs } => {
                        let text = format!("{how} ({after_secs:.1}s)");
                        if live {
                            self.line(&service, false).finish(text);
                        } else {
                            self.ui
                                .status(format!("{service}: {how} after {after_secs:.1}s"));
                        }
                        return;
                    }
                    ServiceStatus::Failed(why) => {
                        if live {
                            self.line(&service, false).finish(format!("failed: {why}"));
                        }
                        return;
                    }
                    ServiceStatus::Removed => "removed".into(),
                };
                if live {
                    self.line(&service, false).set_message(text);
                } else {
                    self.ui.status(format!("{service}: {text}"));
                }
            }
        }
    }
}
