//! The `headroom` binary: parse arguments, then the window or a command.

use clap::Parser;
use headroom::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "gui")]
        None => headroom::gui::run(Vec::new()),
        #[cfg(feature = "gui")]
        Some(Command::Gui { inputs }) => headroom::gui::run(inputs),
        #[cfg(not(feature = "gui"))]
        None => anyhow::bail!("this build has no window (built without the \"gui\" feature); see `headroom --help`"),
        Some(command) => headroom::cli::run(command),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
