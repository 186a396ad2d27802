use std::process::ExitCode;

use clap::{FromArgMatches, Parser};

/// The loader follows what a file nests (interpolation defaults, `extends`,
/// merges) by recursion, as Compose does with Go's growable stacks. A large
/// stack, reserved but touched only as deep as a file goes, lets brickyard
/// read whatever `docker compose` reads.
const STACK: usize = 512 << 20;

fn main() -> ExitCode {
    // Help lists the catalog's ids; loading it is skipped otherwise. (An
    // argument that is not UTF-8 is clap's to refuse, not a panic here.)
    let wants_help = std::env::args_os().any(|a| a == "-h" || a == "--help" || a == "help");
    let cli = match wants_help
        .then(|| brickyard::catalog::Catalog::load(&[]).ok())
        .flatten()
    {
        Some(catalog) => {
            let matches = brickyard::cli::command_listing(&catalog).get_matches();
            match brickyard::cli::Cli::from_arg_matches(&matches) {
                Ok(cli) => cli,
                Err(e) => e.exit(),
            }
        }
        None => brickyard::cli::Cli::parse(),
    };
    std::thread::Builder::new()
        .name("brickyard".into())
        .stack_size(STACK)
        .spawn(move || match brickyard::run(cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => brickyard::report(&err),
        })
        .expect("a thread to run on")
        .join()
        .unwrap_or(ExitCode::FAILURE)
}
