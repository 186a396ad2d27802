use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = brickyard::cli::Cli::parse();
    match brickyard::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => brickyard::report(&err),
    }
}
