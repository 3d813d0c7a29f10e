//! What a seeded opportunity carries besides itself: notes, a résumé and other files, each
//! file a small valid PDF generated in code. `make_note` is shared with `POST .../notes`.

use super::opportunities::Draft;
use super::vocabulary::SeedUsers;
use super::words::{CITIES, COMPANIES, NOTE_TEXTS, ROLES, ascii_slug};
use super::{DAY, pick, uuid};
use crate::db::Db;
use bytes::Bytes;
use lever_model::timestamp::Millis;
use lever_model::{
    Contact, Expandable, FileStatus, LeverFile, Note, NoteField, ParsedResume, Resume, ResumeEntry,
    ResumeFile, YearMonth,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One to three notes by recruiters, between the opportunity's creation and its last update.
pub(super) fn seed_notes(db: &mut Db, rng: &mut ChaCha8Rng, d: &Draft, users: &SeedUsers) {
    let (created_at, updated_at) = (d.created_at, d.updated_at);
    let mut notes = Vec::new();
    for _ in 0..rng.random_range(1..4) {
        let at = rng.random_range(created_at..=updated_at.max(created_at));
        let user = pick(rng, &users.recruiters).clone();
        notes.push(make_note(
            uuid(rng),
            (*pick(rng, NOTE_TEXTS)).into(),
            Some(user),
            rng.random_bool(0.5).then(|| rng.random_range(1..=4u8)),
            rng.random_bool(0.1),
            at,
            Some(d.stage.clone()),
        ));
    }
    notes.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    db.notes.insert(d.id.clone(), notes);
}

/// A processed PDF résumé uploaded on the day the opportunity was created, with parsed data.
pub(super) fn seed_resume(
    db: &mut Db,
    rng: &mut ChaCha8Rng,
    d: &Draft,
    name: &str,
    contact: &Contact,
) {
    let (id, created_at) = (&d.id, d.created_at);
    let rid = uuid(rng);
    let bytes = pdf_bytes(
        &format!("{name} - Resume"),
        &[
            contact.headline.clone().unwrap_or_default(),
            contact.emails.first().cloned().unwrap_or_default(),
        ],
    );
    let uploaded = created_at + rng.random_range(0..DAY);
    db.resumes.insert(
        id.clone(),
        vec![Resume {
            id: rid.clone(),
            created_at: uploaded,
            file: Some(ResumeFile {
                name: format!("{} - Resume.pdf", ascii_slug(name)),
                ext: "pdf".into(),
                download_url: db.resume_download_url(id, &rid),
                uploaded_at: Some(uploaded),
                status: Some(FileStatus::Processed),
                size: bytes.len() as u64,
            }),
            parsed_data: ParsedResume {
                positions: vec![ResumeEntry {
                    org: Some((*pick(rng, COMPANIES)).into()),
                    title: Some((*pick(rng, ROLES)).into()),
                    summary: Some("Led a small team shipping customer-facing features.".into()),
                    location: Some((*pick(rng, CITIES)).into()),
                    start: Some(YearMonth {
                        year: Some(2019),
                        month: Some(rng.random_range(1..=12)),
                    }),
                    end: None,
                    ..Default::default()
                }],
                schools: vec![ResumeEntry {
                    org: Some("Northfield University".into()),
                    degree: Some("BSc".into()),
                    field: Some("Computer Science".into()),
                    start: Some(YearMonth {
                        year: Some(2011),
                        month: Some(9),
                    }),
                    end: Some(YearMonth {
                        year: Some(2015),
                        month: Some(6),
                    }),
                    ..Default::default()
                }],
            },
        }],
    );
    db.blobs.insert(rid, bytes);
}

/// A portfolio, cover letter or work sample; the `i`th opportunity's file failed processing
/// when `i % 97 == 50`, so its download answers 422.
pub(super) fn seed_file(
    db: &mut Db,
    rng: &mut ChaCha8Rng,
    d: &Draft,
    name: &str,
    i: usize,
    now: Millis,
) {
    let (id, created_at) = (&d.id, d.created_at);
    let fid = uuid(rng);
    let label = *pick(rng, &["Portfolio", "Cover letter", "Work sample"]);
    let bytes = pdf_bytes(
        &format!("{label} - {name}"),
        &["Attached by the candidate.".into()],
    );
    let uploaded = (created_at + rng.random_range(0..5) * DAY).min(now);
    db.files.insert(
        id.clone(),
        vec![LeverFile {
            id: fid.clone(),
            download_url: db.file_download_url(id, &fid),
            ext: ".pdf".into(),
            name: format!("{label}.pdf"),
            uploaded_at: Some(uploaded),
            status: Some(if i % 97 == 50 {
                FileStatus::Error
            } else {
                FileStatus::Processed
            }),
            size: bytes.len() as u64,
        }],
    );
    db.blobs.insert(fid, bytes);
}

pub(crate) fn make_note(
    id: String,
    value: String,
    user: Option<String>,
    score: Option<u8>,
    secret: bool,
    at: Millis,
    stage: Option<String>,
) -> Note {
    Note {
        id,
        text: "Note".into(),
        fields: vec![NoteField {
            kind: "note".into(),
            text: "Comment".into(),
            value,
            created_at: at,
            user: user.clone(),
            score,
            stage,
        }],
        user: user.map(Expandable::Id),
        secret,
        created_at: at,
        completed_at: Some(at),
        deleted_at: None,
    }
}

/// A small but valid one-page PDF (correct xref offsets) showing `title` and `lines`.
pub fn pdf_bytes(title: &str, lines: &[String]) -> Bytes {
    fn esc(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
                _ => "?".into(),
            })
            .collect()
    }
    let mut text = format!("BT /F1 18 Tf 72 720 Td ({}) Tj ET", esc(title));
    for (k, l) in lines.iter().enumerate() {
        text.push_str(&format!(
            "\nBT /F1 11 Tf 72 {} Td ({}) Tj ET",
            690 - 16 * k as i32,
            esc(l)
        ));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (n, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{body}\nendobj\n", n + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for o in offsets {
        out.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    Bytes::from(out.into_bytes())
}
