//! Renders a CV in the Europass layout as a PDF document.
//!
//! The output is deterministic (same [`Cv`] → same bytes), carries real, extractable text
//! (Type0/CIDFontType2 fonts with Identity-H encoding and a ToUnicode CMap), and embeds a
//! per-document subset of DejaVu Sans / DejaVu Sans Bold, with Droid Sans Fallback for the
//! characters DejaVu lacks (CJK and others). No filesystem, network or threads are used, so the
//! crate runs unchanged inside a `wasm32-wasip2` component.

use serde::{Deserialize, Serialize};

mod fonts;
mod layout;
#[cfg(feature = "test-support")]
pub mod samples;
mod writer;

/// A curriculum vitae. Empty strings, `None` and empty lists are left out of the document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cv {
    /// Required: rendering fails with [`RenderError::EmptyName`] when empty.
    pub full_name: String,
    /// e.g. "Senior".
    pub technical_seniority: Option<String>,
    /// e.g. "Full-time, from 2026-12-01".
    pub availability: Option<String>,
    /// e.g. "4 weeks".
    pub notice_period: Option<String>,
    pub country_of_residence: Option<String>,
    /// Already formatted, e.g. "USD 65/hour". The caller decides whether to include it.
    pub price_tag: Option<String>,
    /// Free text; newlines start new paragraphs, lines starting with "- ", "* " or "• " are bullets.
    pub about_me: Option<String>,
    pub technical_skills: Vec<Skill>,
    pub languages: Vec<Language>,
    pub work_experience: Vec<Experience>,
    pub projects: Vec<Project>,
    pub education: Vec<Education>,
    pub certificates: Vec<Certificate>,
}

/// A technical skill, e.g. `Rust`, level `Expert`, 6 years.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Skill {
    pub name: String,
    pub level: Option<String>,
    pub years: Option<f32>,
}

/// A level of the Common European Framework of Reference for Languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cefr {
    A1,
    A2,
    B1,
    B2,
    C1,
    C2,
}

impl Cefr {
    /// The level as printed ("A1" … "C2").
    pub fn as_str(self) -> &'static str {
        match self {
            Cefr::A1 => "A1",
            Cefr::A2 => "A2",
            Cefr::B1 => "B1",
            Cefr::B2 => "B2",
            Cefr::C1 => "C1",
            Cefr::C2 => "C2",
        }
    }
}

/// A language: mother tongues are listed by name; other languages get a row in the
/// Europass self-assessment grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Language {
    pub name: String,
    pub mother_tongue: bool,
    pub listening: Option<Cefr>,
    pub reading: Option<Cefr>,
    pub spoken_interaction: Option<Cefr>,
    pub spoken_production: Option<Cefr>,
    pub writing: Option<Cefr>,
}

/// A job. Dates are free strings, printed as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Experience {
    pub title: String,
    pub employer: String,
    pub location: Option<String>,
    pub start: Option<String>,
    /// `None` = "Present" (when `start` is given).
    pub end: Option<String>,
    pub description: Option<String>,
}

/// A project. Dates are free strings, printed as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub name: String,
    pub role: Option<String>,
    pub start: Option<String>,
    /// `None` = "Present" (when `start` is given).
    pub end: Option<String>,
    pub description: Option<String>,
    pub technologies: Vec<String>,
}

/// A qualification. Dates are free strings, printed as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Education {
    pub qualification: String,
    pub institution: String,
    pub start: Option<String>,
    /// `None` = "Present" (when `start` is given).
    pub end: Option<String>,
    pub description: Option<String>,
}

/// A certificate. `url` becomes a clickable link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Certificate {
    pub name: String,
    pub issuer: Option<String>,
    pub issued: Option<String>,
    pub url: Option<String>,
}

/// Why a CV could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Every Europass CV starts with the person's name.
    #[error("the CV has no full name (`full_name` is empty or whitespace)")]
    EmptyName,
    /// An embedded font could not be parsed or subsetted (a build defect, not an input problem).
    #[error("embedded font could not be used: {0}")]
    Font(String),
    /// A bound on the document size, so that absurd input cannot exhaust the component's memory.
    #[error("the CV would need {pages} pages; at most {limit} are rendered")]
    TooManyPages { pages: usize, limit: usize },
}

/// Renders the CV as a PDF document (bytes). Deterministic: same Cv → same bytes
/// (no timestamps, no random ids — the host replays events and compares digests of uploads).
pub fn render(cv: &Cv) -> Result<Vec<u8>, RenderError> {
    if cv.full_name.trim().is_empty() {
        return Err(RenderError::EmptyName);
    }
    let fonts = fonts::Fonts::get()?;
    let document = layout::lay_out(cv, fonts)?;
    writer::write_pdf(cv, &document, fonts)
}

/// The section headings in the order they appear, only those that are present (non-empty) —
/// used by tests and by the connector's docs.
pub fn sections(cv: &Cv) -> Vec<&'static str> {
    layout::Section::ALL
        .into_iter()
        .filter(|section| section.is_present(cv))
        .map(layout::Section::heading)
        .collect()
}
