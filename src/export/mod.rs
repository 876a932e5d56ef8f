//! Writing results out. Every writer takes `impl Write`, so the same code serves files,
//! the GUI's save dialogs and tests. Output is deterministic: same input, same bytes.

pub mod code;
pub mod csv;
pub mod pdf;
