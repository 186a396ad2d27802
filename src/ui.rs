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
