//! Places the CV's text on A4 pages in the Europass layout: section labels and dates in a
//! narrow left column, content in the right column, section headings in Europass blue with a
//! rule. Produces positioned glyph runs; `writer` turns them into PDF objects.

use unicode_normalization::UnicodeNormalization;

use crate::fonts::{Fonts, Glyph, Shaper, Weight};
use crate::{Cefr, Certificate, Cv, Education, Experience, Language, Project, RenderError, Skill};

// Page geometry in PDF points (1/72 in). A4 = 210 × 297 mm.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_LEFT: f32 = 40.0;
const MARGIN_RIGHT: f32 = 40.0;
const MARGIN_TOP: f32 = 46.0;
/// Content stops here; the footer sits below.
const MARGIN_BOTTOM: f32 = 56.0;
const FOOTER_BASELINE: f32 = 30.0;
/// The left column (labels, dates) ends here; its text is right-aligned against it.
const LABEL_RIGHT: f32 = MARGIN_LEFT + 140.0;
const LABEL_WIDTH: f32 = LABEL_RIGHT - MARGIN_LEFT;
const CONTENT_X: f32 = LABEL_RIGHT + 14.0;
const CONTENT_RIGHT: f32 = PAGE_WIDTH - MARGIN_RIGHT;
const CONTENT_WIDTH: f32 = CONTENT_RIGHT - CONTENT_X;
/// Line box height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// A document longer than this is refused (see `RenderError::TooManyPages`).
const PAGE_LIMIT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub(crate) f32, pub(crate) f32, pub(crate) f32);

const fn rgb(hex: u32) -> Rgb {
    Rgb(
        ((hex >> 16) & 0xFF) as f32 / 255.0,
        ((hex >> 8) & 0xFF) as f32 / 255.0,
        (hex & 0xFF) as f32 / 255.0,
    )
}

/// Europass blue.
const BLUE: Rgb = rgb(0x0E4194);
const TEXT: Rgb = rgb(0x3F3A38);
const MUTED: Rgb = rgb(0x6D6E71);
const RULE_LIGHT: Rgb = rgb(0xD5DCE8);
const GRID_HEAD: Rgb = rgb(0xDCE5F3);
const GRID_CELL: Rgb = rgb(0xF0F4FA);

/// Something drawn on a page. Text `y` is the baseline.
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        color: Rgb,
        glyphs: Vec<Glyph>,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: Rgb,
    },
    Rect {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        color: Rgb,
    },
}

/// A clickable area opening a URI.
pub(crate) struct Link {
    pub(crate) rect: [f32; 4],
    pub(crate) uri: String,
}

#[derive(Default)]
pub(crate) struct Page {
    pub(crate) ops: Vec<Op>,
    pub(crate) links: Vec<Link>,
}

pub(crate) struct Document<'f> {
    pub(crate) pages: Vec<Page>,
    pub(crate) shaper: Shaper<'f>,
}

/// The sections in document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    PersonalInformation,
    AboutMe,
    TechnicalSkills,
    LanguageSkills,
    WorkExperience,
    ProjectExperience,
    EducationAndTraining,
    Certificates,
}

impl Section {
    pub(crate) const ALL: [Section; 8] = [
        Section::PersonalInformation,
        Section::AboutMe,
        Section::TechnicalSkills,
        Section::LanguageSkills,
        Section::WorkExperience,
        Section::ProjectExperience,
        Section::EducationAndTraining,
        Section::Certificates,
    ];

    pub(crate) fn heading(self) -> &'static str {
        match self {
            Section::PersonalInformation => "Personal information",
            Section::AboutMe => "About me",
            Section::TechnicalSkills => "Technical skills",
            Section::LanguageSkills => "Language skills",
            Section::WorkExperience => "Work experience",
            Section::ProjectExperience => "Project experience",
            Section::EducationAndTraining => "Education and training",
            Section::Certificates => "Certificates",
        }
    }

    /// Whether the section has anything to show; `render` and `sections` share this.
    pub(crate) fn is_present(self, cv: &Cv) -> bool {
        match self {
            Section::PersonalInformation => !personal_rows(cv).is_empty(),
            Section::AboutMe => present(&cv.about_me).is_some(),
            Section::TechnicalSkills => cv.technical_skills.iter().any(skill_present),
            Section::LanguageSkills => cv.languages.iter().any(language_present),
            Section::WorkExperience => cv.work_experience.iter().any(experience_present),
            Section::ProjectExperience => cv.projects.iter().any(project_present),
            Section::EducationAndTraining => cv.education.iter().any(education_present),
            Section::Certificates => cv.certificates.iter().any(certificate_present),
        }
    }
}

/// The trimmed text of an optional field, `None` when absent or blank.
fn present(field: &Option<String>) -> Option<&str> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn nonblank(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|text| !text.is_empty())
}

fn skill_present(skill: &Skill) -> bool {
    nonblank(&skill.name).is_some()
}

fn language_present(language: &Language) -> bool {
    nonblank(&language.name).is_some()
}

fn experience_present(job: &Experience) -> bool {
    nonblank(&job.title).is_some()
        || nonblank(&job.employer).is_some()
        || present(&job.description).is_some()
}

fn project_present(project: &Project) -> bool {
    nonblank(&project.name).is_some() || present(&project.description).is_some()
}

fn education_present(education: &Education) -> bool {
    nonblank(&education.qualification).is_some() || nonblank(&education.institution).is_some()
}

fn certificate_present(certificate: &Certificate) -> bool {
    nonblank(&certificate.name).is_some()
}

fn personal_rows(cv: &Cv) -> Vec<(&'static str, &str)> {
    [
        ("Technical seniority", &cv.technical_seniority),
        ("Availability", &cv.availability),
        ("Notice period", &cv.notice_period),
        ("Country of residence", &cv.country_of_residence),
        ("Rate", &cv.price_tag),
    ]
    .into_iter()
    .filter_map(|(label, value)| present(value).map(|value| (label, value)))
    .collect()
}

/// "start – end", "start – Present", or just "end".
fn date_range(start: &Option<String>, end: &Option<String>) -> Option<String> {
    match (present(start), present(end)) {
        (Some(start), Some(end)) => Some(format!("{start} – {end}")),
        (Some(start), None) => Some(format!("{start} – Present")),
        (None, Some(end)) => Some(end.to_owned()),
        (None, None) => None,
    }
}

fn years_label(years: f32) -> Option<String> {
    if !years.is_finite() || years <= 0.0 {
        return None;
    }
    let tenths = (years * 10.0).round() as i64;
    Some(match tenths {
        0 => "< 1 year".to_owned(),
        10 => "1 year".to_owned(),
        t if t % 10 == 0 => format!("{} years", t / 10),
        t => format!("{}.{} years", t / 10, t % 10),
    })
}

#[derive(Debug, Clone, Copy)]
struct Style {
    size: f32,
    color: Rgb,
    weight: Weight,
}

impl Style {
    const fn new(size: f32, color: Rgb, weight: Weight) -> Self {
        Style {
            size,
            color,
            weight,
        }
    }

    fn line_height(self) -> f32 {
        self.size * LEADING
    }
}

const NAME: Style = Style::new(22.0, BLUE, Weight::Bold);
const HEADING: Style = Style::new(8.5, BLUE, Weight::Regular);
const LABEL: Style = Style::new(8.5, MUTED, Weight::Regular);
const DATES: Style = Style::new(8.5, BLUE, Weight::Regular);
const VALUE: Style = Style::new(10.0, TEXT, Weight::Regular);
const ENTRY_TITLE: Style = Style::new(10.5, TEXT, Weight::Bold);
const BODY: Style = Style::new(9.5, TEXT, Weight::Regular);
const SMALL: Style = Style::new(8.5, TEXT, Weight::Regular);
const GRID_LABEL: Style = Style::new(7.5, TEXT, Weight::Regular);
const GRID_GROUP: Style = Style::new(7.5, BLUE, Weight::Bold);
const GRID_LEVEL: Style = Style::new(9.0, BLUE, Weight::Bold);
const FOOTNOTE: Style = Style::new(7.0, MUTED, Weight::Regular);
const FOOTER: Style = Style::new(7.5, MUTED, Weight::Regular);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
    Center,
}

/// One laid-out line, positioned horizontally, not yet vertically.
struct Line {
    x: f32,
    glyphs: Vec<Glyph>,
    width: f32,
    style: Style,
    /// Extra space above this line (dropped at the top of a page).
    gap_before: f32,
    link: Option<String>,
}

impl Line {
    fn height(&self) -> f32 {
        self.style.line_height()
    }
}

/// A cell of a table row: a box with optional fill and its lines.
struct Cell {
    x: f32,
    width: f32,
    fill: Option<Rgb>,
    lines: Vec<Line>,
}

const CELL_PADDING: f32 = 3.0;

struct Layout<'f> {
    shaper: Shaper<'f>,
    pages: Vec<Page>,
    /// Pages started, including those dropped past the limit.
    page_count: usize,
    /// Top of the next line box on the current page.
    y: f32,
}

const PAGE_TOP: f32 = PAGE_HEIGHT - MARGIN_TOP;

/// Lays out the whole CV. `cv.full_name` is known to be non-blank.
pub(crate) fn lay_out<'f>(cv: &Cv, fonts: &'f Fonts) -> Result<Document<'f>, RenderError> {
    let mut layout = Layout {
        shaper: Shaper::new(fonts),
        pages: Vec::new(),
        page_count: 0,
        y: PAGE_TOP,
    };
    layout.new_page();
    layout.header(cv);
    for section in Section::ALL {
        if section.is_present(cv) {
            layout.section(section, cv);
        }
    }
    if layout.page_count > PAGE_LIMIT {
        return Err(RenderError::TooManyPages {
            pages: layout.page_count,
            limit: PAGE_LIMIT,
        });
    }
    layout.footers(cv);
    Ok(Document {
        pages: layout.pages,
        shaper: layout.shaper,
    })
}

impl Layout<'_> {
    fn new_page(&mut self) {
        self.page_count += 1;
        if self.pages.len() < PAGE_LIMIT {
            self.pages.push(Page::default());
        } else if let Some(last) = self.pages.last_mut() {
            // Past the limit the render fails anyway; reuse the last page so memory stays bounded.
            *last = Page::default();
        }
        self.y = PAGE_TOP;
    }

    fn page(&mut self) -> &mut Page {
        self.pages
            .last_mut()
            .expect("a page is started before layout")
    }

    fn at_page_top(&self) -> bool {
        self.y >= PAGE_TOP
    }

    /// Starts a new page unless `height` fits below the cursor (or we are already at the top,
    /// where a new page would not help).
    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && !self.at_page_top() {
            self.new_page();
        }
    }

    fn gap(&mut self, gap: f32) {
        if !self.at_page_top() {
            self.y -= gap;
        }
    }

    // ----- text -----

    /// NFC-normalises and maps text to glyphs. Newlines are not expected here.
    fn shape(&mut self, spans: &[(&str, Weight)]) -> Vec<Glyph> {
        let mut glyphs = Vec::new();
        for (text, weight) in spans {
            glyphs.extend(text.nfc().filter_map(|c| self.shaper.glyph(c, *weight)));
        }
        glyphs
    }

    /// Wraps a single-style paragraph to `width` and positions the lines in [x, x + width].
    fn lines(&mut self, text: &str, style: Style, x: f32, width: f32, align: Align) -> Vec<Line> {
        self.rich_lines(&[(text, style.weight)], style, x, width, align)
    }

    /// Like `lines`, for a paragraph whose spans differ in weight.
    fn rich_lines(
        &mut self,
        spans: &[(&str, Weight)],
        style: Style,
        x: f32,
        box_width: f32,
        align: Align,
    ) -> Vec<Line> {
        let glyphs = self.shape(spans);
        let max_advance = box_width * 1000.0 / style.size;
        break_lines(&glyphs, max_advance)
            .into_iter()
            .map(|range| {
                let glyphs = glyphs[range].to_vec();
                let width = glyphs.iter().map(|g| g.advance).sum::<f32>() * style.size / 1000.0;
                let slack = (box_width - width).max(0.0);
                let x = match align {
                    Align::Left => x,
                    Align::Right => x + slack,
                    Align::Center => x + slack / 2.0,
                };
                Line {
                    x,
                    glyphs,
                    width,
                    style,
                    gap_before: 0.0,
                    link: None,
                }
            })
            .collect()
    }

    /// Free text with newlines: each line is a paragraph, blank lines add space, and lines
    /// starting with "- ", "* " or "• " become bullets with a hanging indent.
    fn description(&mut self, text: &str, style: Style, x: f32, width: f32) -> Vec<Line> {
        const BULLET_INDENT: f32 = 11.0;
        let paragraph_gap = style.size * 0.25;
        let mut lines = Vec::new();
        let mut pending_gap = 0.0;
        for raw in text.lines() {
            let paragraph = raw.trim();
            if paragraph.is_empty() {
                pending_gap = style.size * 0.6;
                continue;
            }
            let bullet = ["- ", "* ", "• ", "– "]
                .iter()
                .find_map(|marker| paragraph.strip_prefix(marker));
            let first = lines.len();
            match bullet {
                Some(item) => {
                    let mut marker = self.lines("•", style, x + 2.0, BULLET_INDENT, Align::Left);
                    let body = self.lines(
                        item.trim_start(),
                        style,
                        x + BULLET_INDENT,
                        width - BULLET_INDENT,
                        Align::Left,
                    );
                    // The bullet shares the first line's baseline: merge it into that line.
                    let mut body = body.into_iter();
                    if let (Some(mut bullet_line), Some(first_line)) = (marker.pop(), body.next()) {
                        let shift = (first_line.x - bullet_line.x) * 1000.0 / style.size
                            - bullet_line.glyphs.iter().map(|g| g.advance).sum::<f32>();
                        bullet_line.glyphs.extend(self.spacer(shift, style.weight));
                        bullet_line.glyphs.extend(first_line.glyphs);
                        bullet_line.width = first_line.x + first_line.width - bullet_line.x;
                        lines.push(bullet_line);
                    }
                    lines.extend(body);
                }
                None => lines.extend(self.lines(paragraph, style, x, width, Align::Left)),
            }
            if let Some(line) = lines.get_mut(first) {
                line.gap_before = if first == 0 {
                    0.0
                } else {
                    paragraph_gap.max(pending_gap)
                };
            }
            pending_gap = 0.0;
        }
        lines
    }

    /// Spaces filling `advance` (1/1000 em) as closely as whole spaces allow: keeps bullets on
    /// one text line, with a real space between marker and text for extraction.
    fn spacer(&mut self, advance: f32, weight: Weight) -> Vec<Glyph> {
        let Some(space) = self.shaper.glyph(' ', weight) else {
            return Vec::new();
        };
        let count = (advance / space.advance).round().max(1.0) as usize;
        vec![space; count]
    }

    fn draw_line(&mut self, line: Line, top: f32) {
        // Baseline at one em below the top of the line box leaves room for descenders.
        let baseline = top - line.style.size;
        if let Some(uri) = line.link {
            let rect = [
                line.x,
                baseline - line.style.size * 0.25,
                line.x + line.width,
                baseline + line.style.size * 0.9,
            ];
            self.page().links.push(Link { rect, uri });
        }
        if !line.glyphs.is_empty() {
            self.page().ops.push(Op::Text {
                x: line.x,
                y: baseline,
                size: line.style.size,
                color: line.style.color,
                glyphs: line.glyphs,
            });
        }
    }

    /// Flows lines down the page, breaking pages between lines.
    fn flow(&mut self, lines: Vec<Line>) {
        for line in lines {
            let gap = if self.at_page_top() {
                0.0
            } else {
                line.gap_before
            };
            if self.y - gap - line.height() < MARGIN_BOTTOM && !self.at_page_top() {
                self.new_page();
            } else {
                self.y -= gap;
            }
            let height = line.height();
            let top = self.y;
            self.draw_line(line, top);
            self.y -= height;
        }
    }

    /// A left-column label (right-aligned) beside right-column content. The label and the first
    /// `keep` content lines stay on one page; the rest flows on.
    fn labelled(&mut self, label: Vec<Line>, content: Vec<Line>, keep: usize) {
        let label_height: f32 = label.iter().map(Line::height).sum();
        let kept_height: f32 = content
            .iter()
            .take(keep)
            .map(|line| line.height() + line.gap_before)
            .sum();
        self.ensure(label_height.max(kept_height));
        let top = self.y;
        let first_page = self.page_count;
        // Put the label's first baseline on the content's first baseline.
        let mut label_y = match (label.first(), content.first()) {
            (Some(label), Some(first)) => {
                let gap = if self.at_page_top() {
                    0.0
                } else {
                    first.gap_before
                };
                top - gap - (first.style.size - label.style.size)
            }
            _ => top,
        };
        for line in label {
            let height = line.height();
            self.draw_line(line, label_y);
            label_y -= height;
        }
        self.flow(content);
        if self.page_count == first_page {
            self.y = self.y.min(label_y);
        }
    }

    /// A table row of cells drawn side by side; never split across pages.
    fn row(&mut self, cells: Vec<Cell>, gap_before: f32) {
        let height = cells
            .iter()
            .map(|cell| cell.lines.iter().map(Line::height).sum::<f32>())
            .fold(0.0, f32::max)
            + 2.0 * CELL_PADDING;
        self.ensure(height + gap_before);
        self.gap(gap_before);
        let top = self.y;
        for cell in cells {
            if let Some(color) = cell.fill {
                // Inset so neighbouring fills are separated by a thin white gap.
                self.page().ops.push(Op::Rect {
                    x: cell.x + 0.75,
                    y: top - height + 0.75,
                    width: cell.width - 1.5,
                    height: height - 1.5,
                    color,
                });
            }
            let content_height: f32 = cell.lines.iter().map(Line::height).sum();
            // Vertically centre the cell's lines in the row.
            let mut y = top - (height - content_height) / 2.0;
            for line in cell.lines {
                let line_height = line.height();
                self.draw_line(line, y);
                y -= line_height;
            }
        }
        self.y = top - height;
    }

    fn rule(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Rgb) {
        self.page().ops.push(Op::Line {
            from,
            to,
            width,
            color,
        });
    }

    // ----- the document -----

    fn header(&mut self, cv: &Cv) {
        let name = self.lines(
            cv.full_name.trim(),
            NAME,
            CONTENT_X,
            CONTENT_WIDTH,
            Align::Left,
        );
        let label = self.lines(
            "CURRICULUM VITAE",
            HEADING,
            MARGIN_LEFT,
            LABEL_WIDTH,
            Align::Right,
        );
        // Align the label's baseline with the name's first baseline.
        let top = self.y;
        let label_top = top - NAME.size + HEADING.size;
        let mut y = label_top;
        for line in label {
            let height = line.height();
            self.draw_line(line, y);
            y -= height;
        }
        self.flow(name);
        self.y -= 4.0;
        let rule_y = self.y;
        self.rule((MARGIN_LEFT, rule_y), (CONTENT_RIGHT, rule_y), 1.2, BLUE);
        self.y -= 6.0;
    }

    fn section(&mut self, section: Section, cv: &Cv) {
        // Keep the heading with a few lines of what follows.
        self.ensure(HEADING.line_height() + 14.0 + 3.0 * BODY.line_height());
        self.gap(14.0);
        let heading = section.heading().to_uppercase();
        let label = self.lines(&heading, HEADING, MARGIN_LEFT, LABEL_WIDTH, Align::Right);
        let top = self.y;
        let baseline = top - HEADING.size;
        // The rule runs along the middle of the capitals, as on the Europass template.
        let rule_y = baseline + HEADING.size * 0.36;
        self.rule((CONTENT_X, rule_y), (CONTENT_RIGHT, rule_y), 0.8, BLUE);
        let mut y = top;
        for line in label {
            let height = line.height();
            self.draw_line(line, y);
            y -= height;
        }
        self.y = y - 5.0;
        match section {
            Section::PersonalInformation => self.personal_information(cv),
            Section::AboutMe => {
                if let Some(about) = present(&cv.about_me) {
                    let lines = self.description(about, BODY, CONTENT_X, CONTENT_WIDTH);
                    self.flow(lines);
                }
            }
            Section::TechnicalSkills => self.skills(&cv.technical_skills),
            Section::LanguageSkills => self.languages(&cv.languages),
            Section::WorkExperience => {
                for (index, job) in cv
                    .work_experience
                    .iter()
                    .filter(|j| experience_present(j))
                    .enumerate()
                {
                    self.experience(job, index);
                }
            }
            Section::ProjectExperience => {
                for (index, project) in cv
                    .projects
                    .iter()
                    .filter(|p| project_present(p))
                    .enumerate()
                {
                    self.project(project, index);
                }
            }
            Section::EducationAndTraining => {
                for (index, education) in cv
                    .education
                    .iter()
                    .filter(|e| education_present(e))
                    .enumerate()
                {
                    self.education(education, index);
                }
            }
            Section::Certificates => {
                for (index, certificate) in cv
                    .certificates
                    .iter()
                    .filter(|c| certificate_present(c))
                    .enumerate()
                {
                    self.certificate(certificate, index);
                }
            }
        }
    }

    fn label_lines(&mut self, text: &str, style: Style) -> Vec<Line> {
        self.lines(text, style, MARGIN_LEFT, LABEL_WIDTH, Align::Right)
    }

    fn personal_information(&mut self, cv: &Cv) {
        for (index, (label, value)) in personal_rows(cv).into_iter().enumerate() {
            if index > 0 {
                self.gap(2.0);
            }
            let label = self.label_lines(label, LABEL);
            let value = self.lines(value, VALUE, CONTENT_X, CONTENT_WIDTH, Align::Left);
            self.labelled(label, value, 1);
        }
    }

    fn skills(&mut self, skills: &[Skill]) {
        const NAME_WIDTH: f32 = 165.0;
        const LEVEL_WIDTH: f32 = 110.0;
        let level_x = CONTENT_X + NAME_WIDTH;
        let years_x = level_x + LEVEL_WIDTH;
        let years_width = CONTENT_RIGHT - years_x;
        let columns = [
            (CONTENT_X, NAME_WIDTH, "Skill"),
            (level_x, LEVEL_WIDTH, "Level"),
            (years_x, years_width, "Experience"),
        ];
        let header: Vec<Cell> = columns
            .iter()
            .map(|&(x, width, title)| Cell {
                x,
                width,
                fill: None,
                lines: self.lines(title, LABEL, x, width - CELL_PADDING, Align::Left),
            })
            .collect();
        // Header and first skill stay together.
        self.ensure(2.0 * (BODY.line_height() + 2.0 * CELL_PADDING));
        self.row(header, 0.0);
        for skill in skills.iter().filter(|s| skill_present(s)) {
            let name = self.lines(
                skill.name.trim(),
                BODY,
                CONTENT_X,
                NAME_WIDTH - CELL_PADDING,
                Align::Left,
            );
            let level = present(&skill.level)
                .map(|level| {
                    self.lines(
                        level,
                        BODY,
                        level_x,
                        LEVEL_WIDTH - CELL_PADDING,
                        Align::Left,
                    )
                })
                .unwrap_or_default();
            let years = skill
                .years
                .and_then(years_label)
                .map(|years| self.lines(&years, BODY, years_x, years_width, Align::Left))
                .unwrap_or_default();
            let cells = vec![
                Cell {
                    x: CONTENT_X,
                    width: NAME_WIDTH,
                    fill: None,
                    lines: name,
                },
                Cell {
                    x: level_x,
                    width: LEVEL_WIDTH,
                    fill: None,
                    lines: level,
                },
                Cell {
                    x: years_x,
                    width: years_width,
                    fill: None,
                    lines: years,
                },
            ];
            // A hairline above each row, like a light table.
            self.ensure(BODY.line_height() + 2.0 * CELL_PADDING);
            let y = self.y;
            self.rule((CONTENT_X, y), (CONTENT_RIGHT, y), 0.4, RULE_LIGHT);
            self.row(cells, 0.0);
        }
    }

    fn languages(&mut self, languages: &[Language]) {
        let languages: Vec<&Language> = languages.iter().filter(|l| language_present(l)).collect();
        let mother_tongues: Vec<&str> = languages
            .iter()
            .filter(|l| l.mother_tongue)
            .map(|l| l.name.trim())
            .collect();
        let others: Vec<&Language> = languages
            .iter()
            .copied()
            .filter(|l| !l.mother_tongue)
            .collect();

        if !mother_tongues.is_empty() {
            let label = self.label_lines("Mother tongue(s)", LABEL);
            let value = self.lines(
                &mother_tongues.join(", "),
                VALUE,
                CONTENT_X,
                CONTENT_WIDTH,
                Align::Left,
            );
            self.labelled(label, value, 1);
        }
        if others.is_empty() {
            return;
        }
        let column = CONTENT_WIDTH / 5.0;
        let column_x = |index: usize| CONTENT_X + column * index as f32;
        let text_width = column - 2.0 * CELL_PADDING;

        // Two header rows and the first language stay together.
        self.ensure(
            GRID_GROUP.line_height()
                + 2.0 * GRID_LABEL.line_height()
                + GRID_LEVEL.line_height()
                + 6.0 * CELL_PADDING
                + 8.0,
        );
        self.gap(if mother_tongues.is_empty() { 0.0 } else { 6.0 });
        let groups = [
            ("UNDERSTANDING", 0, 2),
            ("SPEAKING", 2, 2),
            ("WRITING", 4, 1),
        ];
        let mut cells = vec![Cell {
            x: MARGIN_LEFT,
            width: LABEL_WIDTH,
            fill: None,
            lines: self.label_lines("Other language(s)", LABEL),
        }];
        for (title, first, span) in groups {
            let width = column * span as f32;
            cells.push(Cell {
                x: column_x(first),
                width,
                fill: Some(GRID_HEAD),
                lines: self.lines(
                    title,
                    GRID_GROUP,
                    column_x(first) + CELL_PADDING,
                    width - 2.0 * CELL_PADDING,
                    Align::Center,
                ),
            });
        }
        self.row(cells, 0.0);
        let skills = [
            "Listening",
            "Reading",
            "Spoken interaction",
            "Spoken production",
            "Writing",
        ];
        let cells = skills
            .iter()
            .enumerate()
            .map(|(index, title)| Cell {
                x: column_x(index),
                width: column,
                fill: Some(GRID_HEAD),
                lines: self.lines(
                    title,
                    GRID_LABEL,
                    column_x(index) + CELL_PADDING,
                    text_width,
                    Align::Center,
                ),
            })
            .collect();
        self.row(cells, 0.0);
        for language in others {
            let levels: [Option<Cefr>; 5] = [
                language.listening,
                language.reading,
                language.spoken_interaction,
                language.spoken_production,
                language.writing,
            ];
            let mut cells = vec![Cell {
                x: MARGIN_LEFT,
                width: LABEL_WIDTH,
                fill: None,
                lines: self.label_lines(language.name.trim(), Style::new(9.0, TEXT, Weight::Bold)),
            }];
            for (index, level) in levels.into_iter().enumerate() {
                let (text, style) = match level {
                    Some(level) => (level.as_str(), GRID_LEVEL),
                    None => ("–", Style::new(9.0, MUTED, Weight::Regular)),
                };
                cells.push(Cell {
                    x: column_x(index),
                    width: column,
                    fill: Some(GRID_CELL),
                    lines: self.lines(
                        text,
                        style,
                        column_x(index) + CELL_PADDING,
                        text_width,
                        Align::Center,
                    ),
                });
            }
            self.row(cells, 0.0);
        }
        let note = self.description(
            "Levels: A1 and A2: Basic user – B1 and B2: Independent user – C1 and C2: Proficient user\nCommon European Framework of Reference for Languages",
            FOOTNOTE,
            CONTENT_X,
            CONTENT_WIDTH,
        );
        self.y -= 2.0;
        self.flow(note);
    }

    /// The entry shape shared by jobs, projects and education: dates on the left, a bold
    /// title, sub-lines and a description on the right.
    fn entry(
        &mut self,
        index: usize,
        dates: Option<String>,
        title: Option<&str>,
        sub_lines: &[&str],
        description: Option<&str>,
        extra: Vec<Line>,
    ) {
        if index > 0 {
            self.ensure(ENTRY_TITLE.line_height() + 10.0);
            self.gap(10.0);
        }
        let label = match dates {
            Some(dates) => self.label_lines(&dates, DATES),
            None => Vec::new(),
        };
        let mut content = Vec::new();
        if let Some(title) = title {
            content.extend(self.lines(title, ENTRY_TITLE, CONTENT_X, CONTENT_WIDTH, Align::Left));
        }
        for sub in sub_lines {
            content.extend(self.lines(sub, BODY, CONTENT_X, CONTENT_WIDTH, Align::Left));
        }
        let heading_lines = content.len();
        if let Some(description) = description {
            let mut lines = self.description(description, BODY, CONTENT_X, CONTENT_WIDTH);
            if let Some(first) = lines.first_mut() {
                first.gap_before = 3.0;
            }
            content.extend(lines);
        }
        let mut extra = extra;
        if let Some(first) = extra.first_mut() {
            first.gap_before = 3.0;
        }
        content.extend(extra);
        // The title block and the first description line stay with the dates.
        self.labelled(label, content, heading_lines + 1);
    }

    fn experience(&mut self, job: &Experience, index: usize) {
        let title = nonblank(&job.title);
        let employer = nonblank(&job.employer);
        let place = match (employer, present(&job.location)) {
            (Some(employer), Some(location)) => Some(format!("{employer}, {location}")),
            (Some(employer), None) => Some(employer.to_owned()),
            (None, Some(location)) => Some(location.to_owned()),
            (None, None) => None,
        };
        // Without a title the employer line becomes the bold title.
        let (title, subs): (Option<String>, Vec<String>) = match (title, place) {
            (Some(title), place) => (Some(title.to_owned()), place.into_iter().collect()),
            (None, place) => (place, Vec::new()),
        };
        let subs: Vec<&str> = subs.iter().map(String::as_str).collect();
        self.entry(
            index,
            date_range(&job.start, &job.end),
            title.as_deref(),
            &subs,
            present(&job.description),
            Vec::new(),
        );
    }

    fn project(&mut self, project: &Project, index: usize) {
        let subs: Vec<&str> = present(&project.role).into_iter().collect();
        let technologies: Vec<&str> = project
            .technologies
            .iter()
            .filter_map(|t| nonblank(t))
            .collect();
        let extra = if technologies.is_empty() {
            Vec::new()
        } else {
            let list = technologies.join(", ");
            self.rich_lines(
                &[("Technologies: ", Weight::Bold), (&list, Weight::Regular)],
                SMALL,
                CONTENT_X,
                CONTENT_WIDTH,
                Align::Left,
            )
        };
        self.entry(
            index,
            date_range(&project.start, &project.end),
            nonblank(&project.name),
            &subs,
            present(&project.description),
            extra,
        );
    }

    fn education(&mut self, education: &Education, index: usize) {
        let qualification = nonblank(&education.qualification);
        let institution = nonblank(&education.institution);
        let (title, subs) = match (qualification, institution) {
            (Some(q), Some(i)) => (Some(q), vec![i]),
            (Some(q), None) => (Some(q), Vec::new()),
            (None, i) => (i, Vec::new()),
        };
        self.entry(
            index,
            date_range(&education.start, &education.end),
            title,
            &subs,
            present(&education.description),
            Vec::new(),
        );
    }

    fn certificate(&mut self, certificate: &Certificate, index: usize) {
        let subs: Vec<&str> = present(&certificate.issuer).into_iter().collect();
        let extra = match present(&certificate.url) {
            Some(url) => {
                let mut lines = self.lines(
                    url,
                    Style::new(8.5, BLUE, Weight::Regular),
                    CONTENT_X,
                    CONTENT_WIDTH,
                    Align::Left,
                );
                for line in &mut lines {
                    line.link = Some(url.to_owned());
                }
                lines
            }
            None => Vec::new(),
        };
        let dates = present(&certificate.issued).map(str::to_owned);
        self.entry(
            index,
            dates,
            nonblank(&certificate.name),
            &subs,
            None,
            extra,
        );
    }

    fn footers(&mut self, cv: &Cv) {
        let total = self.pages.len();
        let name = self.lines(cv.full_name.trim(), FOOTER, MARGIN_LEFT, 300.0, Align::Left);
        let name_glyphs = name.into_iter().next();
        for index in 0..total {
            let number = format!("Page {} / {}", index + 1, total);
            let number = self.lines(&number, FOOTER, CONTENT_RIGHT - 150.0, 150.0, Align::Right);
            let page = &mut self.pages[index];
            let rule_y = FOOTER_BASELINE + FOOTER.size + 4.0;
            page.ops.push(Op::Line {
                from: (MARGIN_LEFT, rule_y),
                to: (CONTENT_RIGHT, rule_y),
                width: 0.4,
                color: RULE_LIGHT,
            });
            for line in name_glyphs
                .iter()
                .map(|l| (l.x, l.glyphs.clone()))
                .chain(number.into_iter().map(|l| (l.x, l.glyphs)))
            {
                page.ops.push(Op::Text {
                    x: line.0,
                    y: FOOTER_BASELINE,
                    size: FOOTER.size,
                    color: FOOTER.color,
                    glyphs: line.1,
                });
            }
        }
    }
}

/// Where a line may break: after spaces, after hyphens and slashes, and around CJK characters
/// (which are written without spaces). Returns glyph ranges, trailing spaces dropped.
/// `max_advance` is the line width in 1/1000 em of the paragraph's font size.
fn break_lines(glyphs: &[Glyph], max_advance: f32) -> Vec<std::ops::Range<usize>> {
    let mut lines = Vec::new();
    let mut start = skip_spaces(glyphs, 0);
    let mut width = 0.0;
    // The latest index a new line could start at, if any since `start`.
    let mut last_break: Option<usize> = None;
    let mut index = start;
    while index < glyphs.len() {
        let glyph = glyphs[index];
        if is_space(glyph.ch) {
            width += glyph.advance;
            index += 1;
            last_break = Some(index);
            continue;
        }
        if index > start && breaks_before(glyph.ch) {
            last_break = Some(index);
        }
        if width + glyph.advance > max_advance && index > start {
            let end = match last_break {
                Some(at) if at > start => at,
                // A word longer than the line: break inside it.
                _ => index,
            };
            lines.push(start..trim_spaces(glyphs, start, end));
            start = skip_spaces(glyphs, end);
            last_break = None;
            width = glyphs[start..index].iter().map(|g| g.advance).sum();
            continue;
        }
        width += glyph.advance;
        index += 1;
        // Closing punctuation stays on the line of the character before it.
        let next_is_closing = glyphs.get(index).is_some_and(|next| is_closing(next.ch));
        if breaks_after(glyph.ch) && !next_is_closing {
            last_break = Some(index);
        }
    }
    let end = trim_spaces(glyphs, start, glyphs.len());
    if end > start {
        lines.push(start..end);
    }
    lines
}

fn skip_spaces(glyphs: &[Glyph], mut index: usize) -> usize {
    while index < glyphs.len() && is_space(glyphs[index].ch) {
        index += 1;
    }
    index
}

fn trim_spaces(glyphs: &[Glyph], start: usize, mut end: usize) -> usize {
    while end > start && is_space(glyphs[end - 1].ch) {
        end -= 1;
    }
    end
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{2000}'..='\u{200A}' | '\u{3000}')
}

/// Scripts written without spaces between words, where a line may break between characters.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}' // radicals, punctuation, kana, bopomofo, CJK ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FFEF}' // full-width forms
        | '\u{20000}'..='\u{3FFFF}')
}

/// Closing punctuation must not start a line (a minimal kinsoku rule).
fn is_closing(c: char) -> bool {
    matches!(
        c,
        '、' | '。'
            | '，'
            | '．'
            | '：'
            | '；'
            | '！'
            | '？'
            | '）'
            | '」'
            | '』'
            | '】'
            | '〕'
            | '〉'
            | '》'
            | 'ー'
            | '…'
            | ')'
            | ']'
            | '}'
            | ','
            | '.'
            | ':'
            | ';'
            | '!'
            | '?'
    )
}

fn breaks_before(c: char) -> bool {
    is_cjk(c) && !is_closing(c)
}

fn breaks_after(c: char) -> bool {
    matches!(c, '-' | '/' | '–' | '—')
        || (is_cjk(c) && !matches!(c, '（' | '「' | '『' | '【' | '〔' | '〈' | '《'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(text: &str, max_advance: f32) -> Vec<String> {
        let fonts = Fonts::get().unwrap();
        let mut shaper = Shaper::new(fonts);
        let glyphs: Vec<Glyph> = text
            .chars()
            .filter_map(|c| shaper.glyph(c, Weight::Regular))
            .collect();
        break_lines(&glyphs, max_advance)
            .into_iter()
            .map(|range| glyphs[range].iter().map(|g| g.ch).collect())
            .collect()
    }

    #[test]
    fn breaks_at_spaces_and_drops_them() {
        // DejaVu's lowercase letters are ~600/1000 em: about 8 per 5000.
        assert_eq!(wrapped("aaaa bbbb cccc", 5000.0), ["aaaa", "bbbb", "cccc"]);
        assert_eq!(wrapped("  aaaa   ", 5000.0), ["aaaa"]);
    }

    #[test]
    fn breaks_overlong_words_and_after_hyphens() {
        let lines = wrapped(&"x".repeat(30), 5000.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), "x".repeat(30));
        assert_eq!(wrapped("Ångström-Łukasiewicz", 8000.0)[0], "Ångström-");
    }

    #[test]
    fn breaks_between_cjk_characters_but_not_before_closing_punctuation() {
        let lines = wrapped("一二三四五六七八九十。", 10_000.0);
        assert!(lines.len() > 1);
        assert!(
            lines.iter().all(|line| !line.starts_with('。')),
            "{lines:?}"
        );
        assert_eq!(lines.concat(), "一二三四五六七八九十。");
    }

    #[test]
    fn years_are_printed_readably() {
        assert_eq!(years_label(1.0).as_deref(), Some("1 year"));
        assert_eq!(years_label(4.5).as_deref(), Some("4.5 years"));
        assert_eq!(years_label(10.0).as_deref(), Some("10 years"));
        assert_eq!(years_label(0.0), None);
        assert_eq!(years_label(f32::NAN), None);
    }
}
