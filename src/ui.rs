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
            eprintln!("{} {}", style("✔").green().bold(), msg.as_ref());
        }
    }

    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("{} {}", style("warning:").yellow().bold(), msg.as_ref());
    }

    /// Data for people and scripts, on stdout; printed even when quiet.
    pub fn data(&self, msg: impl AsRef<str>) {
        println!("{}", msg.as_ref());
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
/// callers print plain milestone lines through `Ui::status` instead).
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
                    "{spinner:.cyan} {prefix:<14.bold} {wide_msg:.dim}",
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

impl Line {
    pub fn set_message(&self, msg: impl Into<String>) {
        if let Some(pb) = &self.0 {
            // One line only: the last line of output is what a person wants to see.
            let msg: String = msg.into();
            pb.set_message(msg.lines().last().unwrap_or("").to_string());
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
