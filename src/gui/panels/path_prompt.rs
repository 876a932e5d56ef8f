//! The in-window file picker, for sessions without a desktop portal (X11 without D-Bus,
//! remote desktops): the native dialogs go through the portal, and without one they
//! would silently do nothing. Type a path or pick an entry of its directory.

use crate::gui::action::{Action, ExportKind};
use eframe::egui;
use std::path::{Path, PathBuf};

/// What the path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// CSV files or a directory of them to load.
    OpenCsv,
    /// A plan file to open.
    OpenPlan,
    /// Where an export goes.
    Export(ExportKind),
}

/// An open prompt.
#[derive(Debug, Clone)]
pub struct PathPrompt {
    /// What it is for.
    pub purpose: Purpose,
    /// The path as typed.
    pub text: String,
    /// Why the last OK was refused.
    pub error: Option<String>,
    /// The directory last listed and its entries (path, is a directory): read again only
    /// when the typed path moves to another directory, not at every frame.
    listing: Option<(PathBuf, Vec<(PathBuf, bool)>)>,
}

/// True when no native dialog can appear: no D-Bus session, so no portal.
pub fn native_dialogs_unavailable() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty())
}

impl PathPrompt {
    /// A prompt starting in the current directory (with the export's file name).
    pub fn new(purpose: Purpose) -> Self {
        let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let text = match purpose {
            Purpose::Export(kind) => dir.join(kind.default_name()),
            _ => dir,
        };
        PathPrompt { purpose, text: text.display().to_string(), error: None, listing: None }
    }

    /// The action the typed path stands for, or why it cannot be used.
    pub fn action(&self) -> Result<Action, String> {
        let path = PathBuf::from(self.text.trim());
        if self.text.trim().is_empty() {
            return Err("type a path".into());
        }
        match self.purpose {
            Purpose::OpenCsv if path.exists() => Ok(Action::Load(vec![path])),
            Purpose::OpenPlan if path.is_file() => Ok(Action::OpenPlanFrom(path)),
            Purpose::OpenCsv | Purpose::OpenPlan => Err(format!("{} does not exist", path.display())),
            Purpose::Export(kind) => {
                let dir = if kind == ExportKind::Csv { Some(path.as_path()) } else { path.parent() };
                match dir {
                    Some(d) if d.as_os_str().is_empty() || d.is_dir() || kind == ExportKind::Csv => Ok(Action::ExportTo(kind, path)),
                    _ => Err(format!("the directory of {} does not exist", path.display())),
                }
            }
        }
    }

    /// The entries of the typed path's directory, listed once per directory.
    fn entries(&mut self) -> &[(PathBuf, bool)] {
        let p = Path::new(self.text.trim());
        let dir = if p.is_dir() { p } else { p.parent().filter(|d| d.is_dir()).unwrap_or(Path::new(".")) }.to_path_buf();
        if self.listing.as_ref().is_none_or(|(listed, _)| *listed != dir) {
            let entries = read_entries(&dir, self.purpose);
            self.listing = Some((dir, entries));
        }
        self.listing.as_ref().map_or(&[], |(_, e)| e.as_slice())
    }
}

/// The entries of `dir` worth offering for `purpose`, directories first.
fn read_entries(dir: &Path, purpose: Purpose) -> Vec<(PathBuf, bool)> {
    let wanted: &[&str] = match purpose {
        Purpose::OpenCsv => &["csv", "tsv", "txt", "json"],
        Purpose::OpenPlan => &["ron"],
        Purpose::Export(_) => &[],
    };
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, bool)> = read
        .flatten()
        .map(|e| {
            let p = e.path();
            let is_dir = p.is_dir();
            (p, is_dir)
        })
        .filter(|(p, _)| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .filter(|(p, is_dir)| *is_dir || p.extension().is_some_and(|e| wanted.iter().any(|w| e.eq_ignore_ascii_case(w))))
        .collect();
    out.sort_by_key(|(p, is_dir)| (!*is_dir, p.clone()));
    out.truncate(200);
    out
}

/// Draws the prompt; returns the chosen action (and closes the prompt) on OK.
pub fn ui(ctx: &egui::Context, prompt: &mut Option<PathPrompt>) -> Option<Action> {
    let p = prompt.as_mut()?;
    let mut chosen = None;
    let mut close = false;
    let title = match p.purpose {
        Purpose::OpenCsv => "Open CSV".to_string(),
        Purpose::OpenPlan => "Open plan".to_string(),
        Purpose::Export(kind) => kind.label().trim_end_matches('…').to_string(),
    };
    egui::Window::new(title).collapsible(false).resizable(true).default_width(520.0).show(ctx, |ui| {
        ui.label("No file dialog is available in this session (no desktop portal): type a path, or pick from the list.");
        let edit = ui.add(egui::TextEdit::singleline(&mut p.text).desired_width(f32::INFINITY));
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
            let typed = PathBuf::from(p.text.trim());
            if let Some(parent) = typed.parent().filter(|_| typed.is_dir())
                && ui.selectable_label(false, "../ (up)").clicked()
            {
                p.text = parent.display().to_string();
            }
            let purpose = p.purpose;
            let mut picked = None;
            for (e, is_dir) in p.entries() {
                let name = e.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let label = if *is_dir { format!("{name}/") } else { name };
                if ui.selectable_label(false, label).clicked() {
                    picked = Some(match purpose {
                        Purpose::Export(kind) if *is_dir && kind != ExportKind::Csv => e.join(kind.default_name()),
                        _ => e.clone(),
                    });
                }
            }
            if let Some(path) = picked {
                p.text = path.display().to_string();
            }
        });
        if let Some(err) = &p.error {
            ui.colored_label(crate::gui::theme::error(ui), err);
        }
        ui.horizontal(|ui| {
            if ui.button("OK").clicked() || enter {
                match p.action() {
                    Ok(a) => chosen = Some(a),
                    Err(e) => p.error = Some(e),
                }
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if chosen.is_some() || close {
        *prompt = None;
    }
    chosen
}
