//! Colours and spacing, in one place.

use eframe::egui::{self, Color32};

/// History line.
pub const HISTORY: Color32 = Color32::from_rgb(90, 160, 230);
/// Median forecast line.
pub const FORECAST: Color32 = Color32::from_rgb(245, 160, 60);
/// The 80 % band fill.
pub const BAND_80: Color32 = Color32::from_rgba_unmultiplied_const(245, 160, 60, 90);
/// The 95 % band fill.
pub const BAND_95: Color32 = Color32::from_rgba_unmultiplied_const(245, 160, 60, 45);
/// The "now" marker (end of history).
pub const NOW: Color32 = Color32::from_rgb(150, 150, 150);
/// Masked outlier markers.
pub const OUTLIER: Color32 = Color32::from_rgb(235, 90, 80);
/// The level-shift marker.
pub const SHIFT: Color32 = Color32::from_rgb(180, 130, 230);
/// Error text on the dark theme.
const ERROR_DARK: Color32 = Color32::from_rgb(235, 90, 80);
/// Warning text on the dark theme.
const WARNING_DARK: Color32 = Color32::from_rgb(230, 180, 60);
/// Secondary text on the dark theme.
const MUTED_DARK: Color32 = Color32::from_rgb(150, 150, 150);
/// The same three on the light theme, darker: the dark theme's amber reads at 1.9:1 on
/// white and its grey at 3:1; these reach 5:1 or more (WCAG AA asks 4.5:1 for text).
const ERROR_LIGHT: Color32 = Color32::from_rgb(190, 30, 30);
const WARNING_LIGHT: Color32 = Color32::from_rgb(155, 95, 0);
const MUTED_LIGHT: Color32 = Color32::from_rgb(105, 105, 105);

/// `dark` or `light`, for the theme `ui` shows.
fn by_theme(ui: &egui::Ui, dark: Color32, light: Color32) -> Color32 {
    if ui.visuals().dark_mode { dark } else { light }
}

/// Error text, in the colour of the theme `ui` shows.
pub fn error(ui: &egui::Ui) -> Color32 {
    by_theme(ui, ERROR_DARK, ERROR_LIGHT)
}

/// Warning text, in the colour of the theme `ui` shows.
pub fn warning(ui: &egui::Ui) -> Color32 {
    by_theme(ui, WARNING_DARK, WARNING_LIGHT)
}

/// Secondary text, in the colour of the theme `ui` shows.
pub fn muted(ui: &egui::Ui) -> Color32 {
    by_theme(ui, MUTED_DARK, MUTED_LIGHT)
}

/// The fill for a band at `level` (wider bands are lighter).
pub fn band_fill(level: f64) -> Color32 {
    if level >= 90.0 { BAND_95 } else { BAND_80 }
}

/// Applies Headroom's look to the context, in the theme the user chose.
pub fn apply(ctx: &egui::Context, preference: &str) {
    set_preference(ctx, preference);
    // Both themes: the system's can change while the window is open.
    ctx.all_styles_mut(|s| {
        s.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
}

/// Follows the system's light or dark theme, or keeps the one chosen.
pub fn set_preference(ctx: &egui::Context, preference: &str) {
    ctx.set_theme(match preference {
        "light" => egui::ThemePreference::Light,
        "dark" => egui::ThemePreference::Dark,
        _ => egui::ThemePreference::System,
    });
}

/// The versions of the main libraries, read from the `Cargo.lock` this was built with.
/// Worked out once: the Help menu draws them at every frame it is open.
pub fn dependency_versions() -> &'static [(&'static str, String)] {
    const LOCK: &str = include_str!("../../Cargo.lock");
    static VERSIONS: std::sync::OnceLock<Vec<(&'static str, String)>> = std::sync::OnceLock::new();
    VERSIONS.get_or_init(|| {
        ["egui", "eframe", "egui_plot", "polars", "augurs", "reqwest"]
            .into_iter()
            .map(|name| {
                let needle = format!("name = \"{name}\"\nversion = \"");
                let version = LOCK.find(&needle).and_then(|i| LOCK[i + needle.len()..].split('"').next()).unwrap_or("?").to_string();
                (name, version)
            })
            .collect()
    })
}

/// Threshold colours, warning to emergency.
pub fn threshold(i: usize) -> Color32 {
    [Color32::from_rgb(230, 200, 60), Color32::from_rgb(240, 140, 50), Color32::from_rgb(235, 70, 70)]
        .get(i)
        .copied()
        .unwrap_or(Color32::from_rgb(235, 70, 70))
}

/// Series colours for comparison charts.
pub fn series(i: usize) -> Color32 {
    const C: [Color32; 8] = [
        Color32::from_rgb(90, 160, 230),
        Color32::from_rgb(245, 160, 60),
        Color32::from_rgb(120, 200, 120),
        Color32::from_rgb(200, 120, 220),
        Color32::from_rgb(230, 90, 90),
        Color32::from_rgb(100, 210, 210),
        Color32::from_rgb(220, 200, 90),
        Color32::from_rgb(170, 170, 170),
    ];
    C[i % C.len()]
}
