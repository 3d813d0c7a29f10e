//! Serialises a laid-out document as PDF: one content stream per page, and per used font a
//! Type0 font over a CIDFontType2 descendant (Identity-H, CID = subset glyph id) with a
//! Flate-compressed TrueType subset and a ToUnicode CMap for text extraction.

use pdf_writer::types::{
    ActionType, AnnotationType, CidFontType, FontFlags, SystemInfo, TextRenderingMode,
};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::fonts::{FontId, Fonts, Glyph};
use crate::layout::{Document, Op, PAGE_HEIGHT, PAGE_WIDTH, Rgb};
use crate::{Cv, RenderError};

const SYSTEM_INFO: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// zlib level 3: on a DejaVu subset it is within 2 % of level 6's size in half the time
/// (compression is the largest single cost of a render).
const COMPRESSION_LEVEL: u8 = 3;

/// Hands out object ids in a fixed order, which keeps the output deterministic.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

pub(crate) fn write_pdf(
    cv: &Cv,
    document: &Document<'_>,
    fonts: &Fonts,
) -> Result<Vec<u8>, RenderError> {
    let mut refs = Refs(0);
    let catalog_id = refs.next();
    let page_tree_id = refs.next();
    let info_id = refs.next();
    let mut pdf = Pdf::new();

    let mut font_ids: Vec<(FontId, Ref)> = Vec::new();
    for font in FontId::ALL {
        let set = &document.shaper.sets[font as usize];
        if set.is_used() {
            let type0_id = write_font(&mut pdf, &mut refs, font, fonts, document)?;
            font_ids.push((font, type0_id));
        }
    }

    let mut page_ids = Vec::with_capacity(document.pages.len());
    for page in &document.pages {
        let page_id = refs.next();
        let content_id = refs.next();
        page_ids.push(page_id);

        let content = compress(&content_stream(&page.ops));
        pdf.stream(content_id, &content).filter(Filter::FlateDecode);

        let annotation_ids: Vec<Ref> = page.links.iter().map(|_| refs.next()).collect();
        for (link, &id) in page.links.iter().zip(&annotation_ids) {
            let [x1, y1, x2, y2] = link.rect;
            let uri = ascii_uri(&link.uri);
            let mut annotation = pdf.annotation(id);
            annotation
                .subtype(AnnotationType::Link)
                .rect(Rect::new(x1, y1, x2, y2))
                .border(0.0, 0.0, 0.0, None);
            annotation
                .action()
                .action_type(ActionType::Uri)
                .uri(Str(uri.as_bytes()));
        }

        let mut page_writer = pdf.page(page_id);
        page_writer
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(page_tree_id)
            .contents(content_id);
        if !annotation_ids.is_empty() {
            page_writer.annotations(annotation_ids);
        }
        let mut resources = page_writer.resources();
        let mut font_dict = resources.fonts();
        for (font, id) in &font_ids {
            font_dict.pair(Name(font.resource_name()), *id);
        }
        font_dict.finish();
        resources.finish();
        page_writer.finish();
    }

    let page_count = i32::try_from(page_ids.len()).unwrap_or(i32::MAX);
    pdf.pages(page_tree_id).kids(page_ids).count(page_count);
    pdf.catalog(catalog_id).pages(page_tree_id);
    let title = format!("Curriculum vitae – {}", cv.full_name.trim());
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .producer(TextStr("fulcrum-europass"));
    Ok(pdf.finish())
}

/// Writes the font objects for one used font and returns the Type0 font's id.
fn write_font(
    pdf: &mut Pdf,
    refs: &mut Refs,
    font: FontId,
    fonts: &Fonts,
    document: &Document<'_>,
) -> Result<Ref, RenderError> {
    let embedded = fonts.font(font);
    let set = &document.shaper.sets[font as usize];
    let type0_id = refs.next();
    let cid_id = refs.next();
    let descriptor_id = refs.next();
    let file_id = refs.next();
    let cmap_id = refs.next();

    let subset = subsetter::subset(embedded.data, 0, &set.remapper)
        .map_err(|error| RenderError::Font(format!("{}: {error}", font.postscript_name())))?;
    // The conventional subset prefix: six capitals, here derived from the glyph list so the
    // same document always gets the same name.
    let base_font = format!(
        "{}+{}",
        subset_tag(set.remapper.remapped_gids()),
        font.postscript_name()
    );
    let base_font = Name(base_font.as_bytes());

    pdf.type0_font(type0_id)
        .base_font(base_font)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base_font)
        .system_info(SYSTEM_INFO)
        .font_descriptor(descriptor_id)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, set.widths.iter().copied());
    cid.finish();

    let face = &embedded.face;
    let scale = embedded.scale;
    let bbox = face.global_bounding_box();
    let weight = f32::from(face.weight().to_number());
    pdf.font_descriptor(descriptor_id)
        .name(base_font)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * scale)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
        // The usual estimate of the dominant stem width from the weight class.
        .stem_v(10.0 + 0.244 * (weight - 50.0))
        .font_file2(file_id);

    let compressed = compress(&subset);
    pdf.stream(file_id, &compressed)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );

    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
    for (glyph, unicode) in set.unicode.iter().enumerate() {
        if let (Some(unicode), Ok(glyph)) = (unicode, u16::try_from(glyph)) {
            cmap.pair(glyph, *unicode);
        }
    }
    let cmap = compress(&cmap.finish());
    pdf.cmap(cmap_id, &cmap).filter(Filter::FlateDecode);
    Ok(type0_id)
}

/// The graphics and text state last set in a content stream, to skip redundant operators.
#[derive(Default)]
struct State {
    fill: Option<Rgb>,
    stroke: Option<Rgb>,
    line_width: Option<f32>,
    font: Option<(FontId, f32)>,
    fake_bold: bool,
}

fn content_stream(ops: &[Op]) -> Vec<u8> {
    let mut content = Content::new();
    let mut state = State::default();
    for op in ops {
        match op {
            Op::Rect {
                x,
                y,
                width,
                height,
                color,
            } => {
                set_fill(&mut content, &mut state, *color);
                content.rect(*x, *y, *width, *height).fill_nonzero();
            }
            Op::Line {
                from,
                to,
                width,
                color,
            } => {
                set_stroke(&mut content, &mut state, *color, *width);
                content.move_to(from.0, from.1).line_to(to.0, to.1).stroke();
            }
            Op::Text {
                x,
                y,
                size,
                color,
                glyphs,
            } => {
                set_fill(&mut content, &mut state, *color);
                content.begin_text();
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y]);
                for run in glyphs.chunk_by(|a, b| a.font == b.font && a.fake_bold == b.fake_bold) {
                    show_run(&mut content, &mut state, run, *size, *color);
                }
                content.end_text();
            }
        }
    }
    content.finish().into_vec()
}

fn show_run(content: &mut Content, state: &mut State, run: &[Glyph], size: f32, color: Rgb) {
    let Some(first) = run.first() else { return };
    if state.font != Some((first.font, size)) {
        content.set_font(Name(first.font.resource_name()), size);
        state.font = Some((first.font, size));
    }
    if first.fake_bold != state.fake_bold {
        if first.fake_bold {
            // No bold face for the fallback font: thicken the outline by also stroking it.
            set_stroke(content, state, color, size * 0.035);
            content.set_text_rendering_mode(TextRenderingMode::FillStroke);
        } else {
            content.set_text_rendering_mode(TextRenderingMode::Fill);
        }
        state.fake_bold = first.fake_bold;
    } else if first.fake_bold {
        set_stroke(content, state, color, size * 0.035);
    }
    // Identity-H: two-byte big-endian CIDs, which equal the subset glyph ids.
    let bytes: Vec<u8> = run
        .iter()
        .flat_map(|glyph| glyph.id.to_be_bytes())
        .collect();
    content.show(Str(&bytes));
}

fn set_fill(content: &mut Content, state: &mut State, color: Rgb) {
    if state.fill != Some(color) {
        content.set_fill_rgb(color.0, color.1, color.2);
        state.fill = Some(color);
    }
}

fn set_stroke(content: &mut Content, state: &mut State, color: Rgb, width: f32) {
    if state.stroke != Some(color) {
        content.set_stroke_rgb(color.0, color.1, color.2);
        state.stroke = Some(color);
    }
    if state.line_width != Some(width) {
        content.set_line_width(width);
        state.line_width = Some(width);
    }
}

fn compress(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, COMPRESSION_LEVEL)
}

/// Six capital letters from an FNV-1a hash of the subset's glyph ids.
fn subset_tag(glyphs: impl Iterator<Item = u16>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for glyph in glyphs {
        for byte in glyph.to_be_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + (hash % 26) as u8);
            hash /= 26;
            letter
        })
        .collect()
}

/// PDF URI actions are 7-bit ASCII: percent-encode anything else (UTF-8 bytes).
fn ascii_uri(uri: &str) -> String {
    let mut encoded = String::with_capacity(uri.len());
    for byte in uri.bytes() {
        if byte.is_ascii_graphic() {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
