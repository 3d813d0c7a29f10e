//! Renders CVs and reads them back with lopdf's text extraction (which decodes the
//! ToUnicode CMaps), so these tests check the PDF, not the input.

use europass::samples::{cjk_cv, full_cv, minimal_cv};
use europass::{Cv, Experience, RenderError, render, sections};

/// Upper bound for a typical CV (two pages of content).
const SIZE_LIMIT: usize = 150 * 1024;

fn extract(pdf: &[u8]) -> (String, usize) {
    let document = lopdf::Document::load_mem(pdf).expect("the output parses as PDF");
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document
        .extract_text(&pages)
        .expect("text extraction succeeds");
    (text, pages.len())
}

/// Extracted text with all whitespace collapsed to single spaces, so wrapped lines compare
/// equal to the input paragraphs.
fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_contains(text: &str, needle: &str) {
    let haystack = normalized(text);
    let needle = normalized(needle);
    assert!(
        haystack.contains(&needle),
        "{needle:?} not found in extracted text:\n{haystack}"
    );
}

#[test]
fn full_cv_shows_every_section_and_its_content() {
    let cv = full_cv();
    let pdf = render(&cv).unwrap();
    let (text, _) = extract(&pdf);

    let expected = [
        "Personal information",
        "About me",
        "Technical skills",
        "Language skills",
        "Work experience",
        "Project experience",
        "Education and training",
        "Certificates",
    ];
    assert_eq!(sections(&cv), expected);
    // Headings are drawn in capitals, as on the Europass template.
    for heading in expected {
        assert_contains(&text, &heading.to_uppercase());
    }

    for needle in [
        "Maria Kowalska",
        "Technical seniority",
        "Senior",
        "Full-time, from 2026-12-01",
        "Notice period",
        "4 weeks",
        "Country of residence",
        "Poland",
        "USD 65/hour",
        // About me: both paragraphs, wrapped lines rejoined.
        "Backend engineer with ten years of experience building distributed systems, payment platforms and developer tooling.",
        "Recently focused on Rust and WebAssembly",
        // Skills
        "Rust",
        "Expert",
        "6 years",
        "4.5 years",
        "WebAssembly (wasmtime, component model)",
        // Languages: mother tongue and the self-assessment grid.
        "Mother tongue(s)",
        "Polish",
        "English",
        "German",
        "Listening",
        "Reading",
        "Spoken interaction",
        "Spoken production",
        "Writing",
        "C2",
        "A2",
        // Work experience
        "Senior Backend Engineer",
        "Northwind Payments, Warsaw, Poland",
        "2021-03 – Present",
        "2017-09 – 2021-02",
        "cutting p99 latency from 180 ms to 25 ms",
        "Baltic Logistics, Gdańsk, Poland",
        // Projects
        "Plugin sandbox",
        "Architect",
        "Technologies: Rust, wasmtime, WIT",
        "2022-02 – Present",
        // Education
        "MSc in Computer Science",
        "Warsaw University of Technology",
        "lock-free data structures",
        // Certificates
        "Certified Kubernetes Administrator",
        "The Linux Foundation",
        "https://www.credly.com/badges/example",
        "AWS Certified Solutions Architect – Associate",
    ] {
        assert_contains(&text, needle);
    }
}

#[test]
fn empty_sections_are_left_out() {
    let cv = Cv {
        full_name: "Ada Lovelace".into(),
        about_me: Some("Mathematician.".into()),
        // Blank entries count as absent.
        technical_skills: vec![europass::Skill {
            name: "  ".into(),
            ..Default::default()
        }],
        notice_period: Some("".into()),
        ..Cv::default()
    };
    assert_eq!(sections(&cv), ["About me"]);
    let (text, pages) = extract(&render(&cv).unwrap());
    assert_eq!(pages, 1);
    assert_contains(&text, "ABOUT ME");
    assert_contains(&text, "Mathematician.");
    for absent in [
        "PERSONAL INFORMATION",
        "TECHNICAL SKILLS",
        "LANGUAGE SKILLS",
        "WORK EXPERIENCE",
        "PROJECT EXPERIENCE",
        "EDUCATION AND TRAINING",
        "CERTIFICATES",
        "Notice period",
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} should be absent:\n{text}"
        );
    }
}

#[test]
fn price_tag_is_absent_when_none() {
    let mut cv = full_cv();
    cv.price_tag = None;
    let (text, _) = extract(&render(&cv).unwrap());
    assert!(!text.contains("USD 65/hour"));
    assert!(!text.contains("Rate"));
    assert_contains(&text, "Notice period");
}

#[test]
fn missing_optional_fields_leave_no_empty_labels() {
    let cv = Cv {
        full_name: "Ada Lovelace".into(),
        technical_seniority: Some("Principal".into()),
        work_experience: vec![Experience {
            title: "Analyst".into(),
            employer: "Analytical Engine Ltd".into(),
            ..Default::default()
        }],
        ..Cv::default()
    };
    let (text, _) = extract(&render(&cv).unwrap());
    assert_contains(&text, "Technical seniority Principal");
    assert_contains(&text, "Analyst Analytical Engine Ltd");
    for absent in [
        "Availability",
        "Notice period",
        "Country of residence",
        "Rate",
        "Present",
    ] {
        assert!(
            !text.contains(absent),
            "{absent:?} should be absent:\n{text}"
        );
    }
}

#[test]
fn unicode_names_round_trip_through_extraction() {
    for name in [
        "王小明",
        "Алексей Смирнов",
        "Γιώργος Παπαδόπουλος",
        "Zoë Ångström-Łukasiewicz",
        "山田 太郎",
        "김민준",
    ] {
        let pdf = render(&minimal_cv(name)).unwrap();
        let (text, _) = extract(&pdf);
        assert_contains(&text, name);
    }
}

#[test]
fn decomposed_input_is_normalised() {
    // "Zoë" with a combining diaeresis extracts as the precomposed form.
    let (text, _) = extract(&render(&minimal_cv("Zoe\u{0308} Smith")).unwrap());
    assert_contains(&text, "Zoë Smith");
}

#[test]
fn long_text_wraps_onto_more_pages() {
    let mut cv = minimal_cv("Long Description");
    let sentence =
        "Designed, built and operated a distributed system with careful attention to detail. ";
    cv.work_experience = (0..12)
        .map(|index| Experience {
            title: format!("Role {index}"),
            employer: "Employer".into(),
            description: Some(sentence.repeat(12)),
            ..Default::default()
        })
        .collect();
    cv.about_me = Some(format!(
        "{}Unbreakable{}",
        sentence.repeat(3),
        "x".repeat(400)
    ));
    let pdf = render(&cv).unwrap();
    let (text, pages) = extract(&pdf);
    assert!(pages > 1, "expected several pages, got {pages}");
    assert_contains(&text, "Role 11");
    assert_contains(&text, &format!("Page {pages} / {pages}"));
    // A word wider than the column is broken rather than overflowing: no extracted line
    // holds all 400 x's.
    assert!(!text.contains(&"x".repeat(400)));
    assert!(text.contains(&"x".repeat(40)));
}

#[test]
fn rendering_is_deterministic() {
    for cv in [full_cv(), cjk_cv()] {
        let first = render(&cv).unwrap();
        let second = render(&cv).unwrap();
        assert!(first == second, "two renders of the same CV differ");
    }
}

#[test]
fn typical_and_cjk_cvs_stay_small() {
    for (label, cv) in [("typical", full_cv()), ("CJK", cjk_cv())] {
        let pdf = render(&cv).unwrap();
        let (_, pages) = extract(&pdf);
        assert!(pages >= 2, "{label}: the typical CV should fill two pages");
        assert!(pdf.len() <= SIZE_LIMIT, "{label} CV is {} bytes", pdf.len());
    }
}

#[test]
fn cjk_cv_extracts_cjk_content() {
    let (text, _) = extract(&render(&cjk_cv()).unwrap());
    assert_contains(&text, "王小明");
    assert_contains(&text, "中国");
    assert_contains(&text, "后端工程师，十年分布式系统经验。");
}

#[test]
fn empty_name_is_refused() {
    for name in ["", "   \n"] {
        let error = render(&minimal_cv(name)).unwrap_err();
        assert!(matches!(error, RenderError::EmptyName));
        assert!(error.to_string().contains("full name"), "{error}");
    }
}

#[test]
fn cv_deserialises_with_missing_fields() {
    let cv: Cv = serde_json::from_str(
        r#"{"full_name":"Ada","languages":[{"name":"English","listening":"C2"}]}"#,
    )
    .unwrap();
    assert_eq!(cv.languages[0].listening, Some(europass::Cefr::C2));
    assert_eq!(sections(&cv), ["Language skills"]);
    let (text, _) = extract(&render(&cv).unwrap());
    assert_contains(&text, "English");
    assert_contains(&text, "C2");
}
