use std::process::ExitCode;

use clap::Parser;

/// The loader follows what a file nests (interpolation defaults, `extends`,
/// merges) by recursion, as Compose does with Go's growable stacks. A large
/// stack, reserved but touched only as deep as a file goes, lets brickyard
/// read whatever `docker compose` reads.
const STACK: usize = 512 << 20;

fn main() -> ExitCode {
    let cli = brickyard::cli::Cli::parse();
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
