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
            .interact_opt()
            .ok()
            .flatten()
            .ok_or(Cancelled)?;
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
                .interact_opt()
                .ok()
                .flatten()
                .ok_or(Cancelled)?;
        let ids: Vec<&str> = picked.iter().map(|i| choices[*i].id.as_str()).collect();
        answered(theme, &ids);
        Ok(picked)
    }

    fn confirm(&mut self, summary: &str) -> Result<bool, Cancelled> {
        eprintln!("{summary}");
        dialoguer::Confirm::with_theme(&dialoguer::theme::ColorfulTheme::default())
            .with_prompt("Create the project?")
            .default(true)
            .interact_opt()
            .ok()
            .flatten()
            .ok_or(Cancelled)
    }
}

/// Answers given in advance, for tests. Runs out -> Cancelled, like an interrupt.
#[derive(Default)]
pub struct Scripted {
    pub answers: std::collections::VecDeque<Vec<usize>>,
    pub confirm: bool,
}

impl Prompter for Scripted {
    fn available(&self) -> bool {
        true
    }
    fn select(&mut self, _: Theme, _: &[Choice], _: usize) -> Result<usize, Cancelled> {
        self.answers
            .pop_front()
            .and_then(|a| a.first().copied())
            .ok_or(Cancelled)
    }
    fn multi_select(
        &mut self,
        _: Theme,
        _: &[Choice],
        _: &[bool],
    ) -> Result<Vec<usize>, Cancelled> {
        self.answers.pop_front().ok_or(Cancelled)
    }
    fn confirm(&mut self, _: &str) -> Result<bool, Cancelled> {
        Ok(self.confirm)
    }
}
