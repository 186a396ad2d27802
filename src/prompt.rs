//! Questions to a person, behind a trait so tests can script the answers.

use crate::catalog::Theme;

/// One choice in a question: the id and the line shown beside it.
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// The person said stop (Esc or Ctrl-C): nothing is written.
#[derive(Debug, thiserror::Error)]
#[error("cancelled; nothing was written")]
pub struct Cancelled;

pub trait Prompter {
    /// Whether questions can be asked at all (a terminal on both ends).
    fn available(&self) -> bool;
    /// One pick; returns the index of the choice.
    fn select(
        &mut self,
        theme: Theme,
        choices: &[Choice],
        default: usize,
    ) -> Result<usize, Cancelled>;
    /// Any number of picks; returns the indexes.
    fn multi_select(
        &mut self,
        theme: Theme,
        choices: &[Choice],
        defaults: &[bool],
    ) -> Result<Vec<usize>, Cancelled>;
    /// Shows the summary and asks to go on.
    fn confirm(&mut self, summary: &str) -> Result<bool, Cancelled>;
    /// Before a question: the choices left out, each with its reason.
    fn not_offered(&mut self, _theme: Theme, _hidden: &[crate::picks::Hidden]) {}
    /// An answer that breaks a rule; the question is asked again.
    fn problem(&mut self, _message: &str) {}
}

/// One line per answered question: the ids, not the whole labels.
fn answered(theme: Theme, ids: &[&str]) {
    let ids = if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    };
    eprintln!(
        "{} {} {} {ids}",
        console::style("✔").green(),
        console::style(theme.question()).bold(),
        console::style("·").dim(),
    );
}

/// A question's outcome: Esc, Ctrl-C (see `interrupt`) and a terminal that
/// went away all cancel, with the cursor shown again (dialoguer hides it
/// while it asks and does not show it on those paths).
fn asked<T>(outcome: dialoguer::Result<Option<T>>) -> Result<T, Cancelled> {
    match outcome {
        Ok(Some(v)) if !crate::interrupt::requested() => Ok(v),
        _ => {
            let _ = console::Term::stderr().show_cursor();
            Err(Cancelled)
        }
    }
}

/// The real terminal, through dialoguer.
pub struct Terminal;

impl Prompter for Terminal {
    fn available(&self) -> bool {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }

    fn select(
        &mut self,
        theme: Theme,
        choices: &[Choice],
        default: usize,
    ) -> Result<usize, Cancelled> {
        let items: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
        let picked = dialoguer::Select::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt(theme.question())
            .items(&items)
            .default(default)
            .report(false)
            .interact_opt();
        let picked = asked(picked)?;
        answered(theme, &[choices[picked].id.as_str()]);
        Ok(picked)
    }

    fn multi_select(
        &mut self,
        theme: Theme,
        choices: &[Choice],
        defaults: &[bool],
    ) -> Result<Vec<usize>, Cancelled> {
        let items: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
        let picked =
            dialoguer::MultiSelect::with_theme(&dialoguer::theme::ColorfulTheme::default())
                .with_prompt(format!(
                    "{} (space to toggle, enter to accept)",
                    theme.question()
                ))
                .items(&items)
                .defaults(defaults)
                .report(false)
                .interact_opt();
        let picked = asked(picked)?;
        let ids: Vec<&str> = picked.iter().map(|i| choices[*i].id.as_str()).collect();
        answered(theme, &ids);
        Ok(picked)
    }

    fn not_offered(&mut self, _theme: Theme, hidden: &[crate::picks::Hidden]) {
        // One line per reason: the ids it leaves out, then why.
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for h in hidden {
            match reasons.iter_mut().find(|(r, _)| *r == h.reason) {
                Some((_, ids)) => ids.push(&h.id),
                None => reasons.push((&h.reason, vec![&h.id])),
            }
        }
        for (reason, ids) in reasons {
            eprintln!(
                "{}",
                console::style(format!("  not offered: {} ({reason})", ids.join(", "))).dim()
            );
        }
    }

    fn problem(&mut self, message: &str) {
        eprintln!("{} {message}", console::style("✘").red());
    }

    fn confirm(&mut self, summary: &str) -> Result<bool, Cancelled> {
        eprintln!("{summary}");
        asked(
            dialoguer::Confirm::with_theme(&dialoguer::theme::ColorfulTheme::default())
                .with_prompt("Create the project?")
                .default(true)
                .interact_opt(),
        )
    }
}

/// Answers given in advance, by id, for tests; what each question offered
/// and left out is recorded. Runs out, or names an id the question does not
/// offer -> Cancelled, like an interrupt.
#[derive(Default)]
pub struct Scripted {
    pub answers: std::collections::VecDeque<Vec<String>>,
    pub confirm: bool,
    /// Per question: the ids offered.
    pub offered: Vec<Vec<String>>,
    /// Per question: the ids left out, with their reasons.
    pub hidden: Vec<Vec<(String, String)>>,
    pub problems: Vec<String>,
}

impl Scripted {
    pub fn new(answers: &[&[&str]]) -> Scripted {
        Scripted {
            answers: answers
                .iter()
                .map(|a| a.iter().map(|s| s.to_string()).collect())
                .collect(),
            confirm: true,
            ..Default::default()
        }
    }

    fn next(&mut self, choices: &[Choice]) -> Result<Vec<usize>, Cancelled> {
        self.offered
            .push(choices.iter().map(|c| c.id.clone()).collect());
        let ids = self.answers.pop_front().ok_or(Cancelled)?;
        ids.iter()
            .map(|id| choices.iter().position(|c| &c.id == id).ok_or(Cancelled))
            .collect()
    }
}

impl Prompter for Scripted {
    fn available(&self) -> bool {
        true
    }
    fn select(&mut self, _: Theme, choices: &[Choice], _: usize) -> Result<usize, Cancelled> {
        self.next(choices)?.first().copied().ok_or(Cancelled)
    }
    fn multi_select(
        &mut self,
        _: Theme,
        choices: &[Choice],
        _: &[bool],
    ) -> Result<Vec<usize>, Cancelled> {
        self.next(choices)
    }
    fn confirm(&mut self, _: &str) -> Result<bool, Cancelled> {
        Ok(self.confirm)
    }
    fn not_offered(&mut self, _: Theme, hidden: &[crate::picks::Hidden]) {
        self.hidden.push(
            hidden
                .iter()
                .map(|h| (h.id.clone(), h.reason.clone()))
                .collect(),
        );
    }
    fn problem(&mut self, message: &str) {
        self.problems.push(message.to_string());
    }
}
