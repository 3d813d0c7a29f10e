//! The embedded fonts, per-character font selection, and the per-document glyph sets that
//! become font subsets.

use std::collections::HashMap;
use std::sync::OnceLock;

use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::RenderError;

static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
static DROID_SANS_FALLBACK: &[u8] = include_bytes!("../fonts/DroidSansFallback.ttf");

/// One of the embedded fonts; also the index into [`Fonts::faces`] and the per-document glyph sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FontId {
    Regular = 0,
    Bold = 1,
    /// Used for both weights (there is no bold Droid Sans Fallback; bold is faked by stroking).
    Fallback = 2,
}

impl FontId {
    pub(crate) const ALL: [FontId; 3] = [FontId::Regular, FontId::Bold, FontId::Fallback];

    /// The PDF resource name used in content streams.
    pub(crate) fn resource_name(self) -> &'static [u8] {
        match self {
            FontId::Regular => b"F1",
            FontId::Bold => b"F2",
            FontId::Fallback => b"F3",
        }
    }

    pub(crate) fn postscript_name(self) -> &'static str {
        match self {
            FontId::Regular => "DejaVuSans",
            FontId::Bold => "DejaVuSans-Bold",
            FontId::Fallback => "DroidSansFallback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

pub(crate) struct EmbeddedFont {
    pub(crate) data: &'static [u8],
    pub(crate) face: Face<'static>,
    /// Font units → PDF glyph space (1000 units per em).
    pub(crate) scale: f32,
}

/// The parsed faces. Parsed once per process: `Face::parse` is zero-copy but still walks the
/// table directory and cmap subtables, which is worth skipping on every render.
pub(crate) struct Fonts {
    faces: [EmbeddedFont; 3],
}

static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();

impl Fonts {
    pub(crate) fn get() -> Result<&'static Fonts, RenderError> {
        FONTS
            .get_or_init(|| {
                Ok(Fonts {
                    faces: [
                        EmbeddedFont::parse(DEJAVU_SANS, "DejaVu Sans")?,
                        EmbeddedFont::parse(DEJAVU_SANS_BOLD, "DejaVu Sans Bold")?,
                        EmbeddedFont::parse(DROID_SANS_FALLBACK, "Droid Sans Fallback")?,
                    ],
                })
            })
            .as_ref()
            .map_err(|message| RenderError::Font(message.clone()))
    }

    pub(crate) fn font(&self, id: FontId) -> &EmbeddedFont {
        &self.faces[id as usize]
    }
}

impl EmbeddedFont {
    fn parse(data: &'static [u8], label: &str) -> Result<Self, String> {
        let face = Face::parse(data, 0).map_err(|error| format!("{label}: {error}"))?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        Ok(EmbeddedFont { data, face, scale })
    }

    fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face.glyph_index(c).filter(|glyph| glyph.0 != 0)
    }

    fn advance(&self, glyph: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * self.scale
    }
}

/// A character resolved to a glyph of the document's subset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    pub(crate) font: FontId,
    /// The glyph id in the subset (the CID, since CIDToGIDMap is Identity).
    pub(crate) id: u16,
    /// Advance in 1/1000 em — the same value written to the font's /W array, so layout and
    /// the viewer agree on positions.
    pub(crate) advance: f32,
    /// The character it stands for (for line breaking).
    pub(crate) ch: char,
    /// Bold text drawn with a font that has no bold face: stroke the outline too.
    pub(crate) fake_bold: bool,
}

/// The glyphs one document uses of one font, in subset order.
pub(crate) struct GlyphSet {
    pub(crate) remapper: GlyphRemapper,
    /// Indexed by subset glyph id.
    pub(crate) widths: Vec<f32>,
    /// Indexed by subset glyph id: the text the glyph stands for (ToUnicode).
    pub(crate) unicode: Vec<Option<char>>,
}

impl GlyphSet {
    fn new() -> Self {
        // Subset glyph 0 is always .notdef.
        GlyphSet {
            remapper: GlyphRemapper::new(),
            widths: vec![0.0],
            unicode: vec![None],
        }
    }

    pub(crate) fn is_used(&self) -> bool {
        self.widths.len() > 1
    }
}

/// Per-document glyph allocation: maps characters to subset glyphs and records what the
/// subsets must contain.
pub(crate) struct Shaper<'f> {
    pub(crate) fonts: &'f Fonts,
    pub(crate) sets: [GlyphSet; 3],
    cache: HashMap<(char, Weight), Option<Glyph>>,
}

impl<'f> Shaper<'f> {
    pub(crate) fn new(fonts: &'f Fonts) -> Self {
        Shaper {
            fonts,
            sets: [GlyphSet::new(), GlyphSet::new(), GlyphSet::new()],
            cache: HashMap::new(),
        }
    }

    /// The glyph for `c`, or `None` for characters that draw nothing (controls, zero-width
    /// joiners, variation selectors).
    pub(crate) fn glyph(&mut self, c: char, weight: Weight) -> Option<Glyph> {
        if let Some(glyph) = self.cache.get(&(c, weight)) {
            return *glyph;
        }
        let glyph = self.resolve(c, weight);
        self.cache.insert((c, weight), glyph);
        glyph
    }

    fn resolve(&mut self, c: char, weight: Weight) -> Option<Glyph> {
        let c = match c {
            '\t' => ' ',
            c if is_invisible(c) => return None,
            c => c,
        };
        let primary = match weight {
            Weight::Regular => FontId::Regular,
            Weight::Bold => FontId::Bold,
        };
        let (font, original, unicode) = if let Some(glyph) = self.fonts.font(primary).glyph(c) {
            (primary, glyph, c)
        } else if let Some(glyph) = self.fonts.font(FontId::Fallback).glyph(c) {
            (FontId::Fallback, glyph, c)
        } else {
            // Neither font has it: draw the replacement character rather than an invisible
            // .notdef, and say so in the text layer too.
            let replacement = self.fonts.font(primary).glyph('\u{FFFD}')?;
            (primary, replacement, '\u{FFFD}')
        };
        let embedded = self.fonts.font(font);
        let advance = embedded.advance(original);
        let set = &mut self.sets[font as usize];
        let id = set.remapper.remap(original.0);
        if usize::from(id) == set.widths.len() {
            set.widths.push(advance);
            set.unicode.push(Some(unicode));
        }
        Some(Glyph {
            font,
            id,
            advance,
            ch: c,
            fake_bold: weight == Weight::Bold && font == FontId::Fallback,
        })
    }
}

/// Characters with no visible form that fonts often lack; drawing them would show a box.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' // soft hyphen
            | '\u{200B}'..='\u{200F}' // zero-width space/joiners, direction marks
            | '\u{202A}'..='\u{202E}' // bidi embedding controls
            | '\u{2060}'..='\u{2064}'
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}')
}
