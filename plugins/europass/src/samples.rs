//! Sample CVs for tests, benches and examples, this crate's and other crates' (the runtime
//! compares its CV-rendering fixture component with them). Behind the `test-support`
//! feature, so connectors that embed the renderer do not carry them.

use crate::{Cefr, Certificate, Cv, Education, Experience, Language, Project, Skill};

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// A typical, fully filled CV: about two pages.
pub fn full_cv() -> Cv {
    Cv {
        full_name: "Maria Kowalska".into(),
        technical_seniority: s("Senior"),
        availability: s("Full-time, from 2026-12-01"),
        notice_period: s("4 weeks"),
        country_of_residence: s("Poland"),
        price_tag: s("USD 65/hour"),
        about_me: s(
            "Backend engineer with ten years of experience building distributed systems, \
             payment platforms and developer tooling. I care about correctness, observability and \
             clear documentation, and I enjoy mentoring.\n\nRecently focused on Rust and \
             WebAssembly: sandboxed plugin runtimes, deterministic builds and performance work.",
        ),
        technical_skills: vec![
            Skill {
                name: "Rust".into(),
                level: s("Expert"),
                years: Some(6.0),
            },
            Skill {
                name: "PostgreSQL".into(),
                level: s("Advanced"),
                years: Some(9.0),
            },
            Skill {
                name: "Kubernetes".into(),
                level: s("Advanced"),
                years: Some(4.5),
            },
            Skill {
                name: "TypeScript".into(),
                level: s("Intermediate"),
                years: Some(3.0),
            },
            Skill {
                name: "WebAssembly (wasmtime, component model)".into(),
                level: s("Advanced"),
                years: Some(2.0),
            },
            Skill {
                name: "Go".into(),
                level: None,
                years: Some(1.0),
            },
        ],
        languages: vec![
            Language {
                name: "Polish".into(),
                mother_tongue: true,
                ..Language::default()
            },
            Language {
                name: "English".into(),
                mother_tongue: false,
                listening: Some(Cefr::C2),
                reading: Some(Cefr::C2),
                spoken_interaction: Some(Cefr::C1),
                spoken_production: Some(Cefr::C1),
                writing: Some(Cefr::C1),
            },
            Language {
                name: "German".into(),
                mother_tongue: false,
                listening: Some(Cefr::B2),
                reading: Some(Cefr::B2),
                spoken_interaction: Some(Cefr::B1),
                spoken_production: Some(Cefr::B1),
                writing: Some(Cefr::A2),
            },
        ],
        work_experience: vec![
            Experience {
                title: "Senior Backend Engineer".into(),
                employer: "Northwind Payments".into(),
                location: s("Warsaw, Poland"),
                start: s("2021-03"),
                end: None,
                description: s(
                    "Lead engineer of the settlement platform processing 40 million \
                    transactions per day.\n- Designed the ledger service in Rust, cutting p99 latency \
                    from 180 ms to 25 ms.\n- Introduced property-based testing and deterministic \
                    simulation of failure scenarios.\n- Mentored five engineers; ran the backend guild.",
                ),
            },
            Experience {
                title: "Software Engineer".into(),
                employer: "Baltic Logistics".into(),
                location: s("Gdańsk, Poland"),
                start: s("2017-09"),
                end: s("2021-02"),
                description: s("Built route optimisation services and the event pipeline \
                    (Kafka, PostgreSQL). Migrated the monolith to services on Kubernetes without \
                    downtime."),
            },
            Experience {
                title: "Junior Developer".into(),
                employer: "Softline".into(),
                location: None,
                start: s("2015-07"),
                end: s("2017-08"),
                description: s("Maintained billing integrations for telecom customers."),
            },
        ],
        projects: vec![
            Project {
                name: "Plugin sandbox".into(),
                role: s("Architect"),
                start: s("2023-01"),
                end: s("2024-06"),
                description: s("A WebAssembly component runtime with fuel limits, epoch \
                    interruption and capability-based host calls for third-party connectors."),
                technologies: vec!["Rust".into(), "wasmtime".into(), "WIT".into()],
            },
            Project {
                name: "Ledger reconciliation".into(),
                role: s("Lead developer"),
                start: s("2022-02"),
                end: None,
                description: s(
                    "Nightly reconciliation of bank statements against the internal ledger.",
                ),
                technologies: vec!["PostgreSQL".into(), "Rust".into()],
            },
        ],
        education: vec![
            Education {
                qualification: "MSc in Computer Science".into(),
                institution: "Warsaw University of Technology".into(),
                start: s("2013-10"),
                end: s("2015-06"),
                description: s("Thesis: lock-free data structures for multicore schedulers."),
            },
            Education {
                qualification: "BSc in Computer Science".into(),
                institution: "University of Gdańsk".into(),
                start: s("2010-10"),
                end: s("2013-06"),
                description: None,
            },
        ],
        certificates: vec![
            Certificate {
                name: "Certified Kubernetes Administrator".into(),
                issuer: s("The Linux Foundation"),
                issued: s("2022-05"),
                url: s("https://www.credly.com/badges/example"),
            },
            Certificate {
                name: "AWS Certified Solutions Architect – Associate".into(),
                issuer: s("Amazon Web Services"),
                issued: s("2020-11"),
                url: None,
            },
        ],
    }
}

/// The typical CV with a Chinese name and some CJK text.
pub fn cjk_cv() -> Cv {
    let mut cv = full_cv();
    cv.full_name = "王小明".into();
    cv.country_of_residence = s("中国");
    cv.about_me =
        s("后端工程师，十年分布式系统经验。\nBackend engineer with ten years of experience.");
    cv
}

/// Just a name.
pub fn minimal_cv(name: &str) -> Cv {
    Cv {
        full_name: name.into(),
        ..Cv::default()
    }
}

/// Mixed scripts, long words and many entries: for looking at wrapping and page breaks.
pub fn mixed_scripts_cv() -> Cv {
    let mut cv = full_cv();
    cv.full_name = "Zoë Ångström-Łukasiewicz 김민준 Γιώργος Алексей".into();
    cv.country_of_residence = s("日本 (Japan) – 東京都");
    cv.about_me = s(
        "Supercalifragilisticexpialidocious-and-then-some-unbreakablewordthatgoesonandonandonandonandonandonandon \
        mixed with 中文文本没有空格所以需要在字符之间换行这是一个很长的句子用来测试换行是否正确工作。\n\
        • Bullet one with quite a lot of text so that it has to wrap onto a second line in the right column.\n\
        * Bullet two\n\nАрабский: مرحبا (not shaped). Ελληνικά κείμενα. 한국어 텍스트도 지원됩니다.",
    );
    for job in &mut cv.work_experience {
        job.description = Some(format!("{}\n{}", job.description.clone().unwrap_or_default(),
            "Responsible for many things across a long period of time, described at length to force wrapping. ".repeat(6)));
    }
    cv
}
