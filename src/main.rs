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
            eprintln!("error: {}", message(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause once: a cause that the message
/// already quotes (an I/O error named with its file) is not repeated.
fn message(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "gui")]
        None => headroom::gui::run(cli.files),
        #[cfg(feature = "gui")]
        Some(Command::Gui { inputs }) => headroom::gui::run(inputs),
        #[cfg(feature = "gui")]
        Some(Command::Screenshots { dir }) => {
            for p in headroom::gui::screenshots::run(&dir)? {
                println!("{}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(not(feature = "gui"))]
        None => anyhow::bail!("this build has no window (built without the \"gui\" feature); see `headroom --help`"),
        Some(command) => headroom::cli::run(command),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
