//! The applicant's profile as a Europass CV (`europass::Cv`), and the PDF attached to the
//! opportunity.

use crate::model::{Applicant, Language};
use fulcrum_sdk::prelude::*;

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn cefr(level: Option<&str>) -> Option<europass::Cefr> {
    use europass::Cefr::*;
    Some(match level?.trim().to_ascii_uppercase().as_str() {
        "A1" => A1,
        "A2" => A2,
        "B1" => B1,
        "B2" => B2,
        "C1" => C1,
        "C2" => C2,
        _ => return None,
    })
}

fn language(l: &Language) -> europass::Language {
    // `level` stands for every skill the vendor did not grade one by one.
    let skill = |own: &Option<String>| cefr(own.as_deref().or(l.level.as_deref()));
    europass::Language {
        name: l.name.trim().to_owned(),
        mother_tongue: l.mother_tongue,
        listening: skill(&l.listening),
        reading: skill(&l.reading),
        spoken_interaction: skill(&l.spoken_interaction),
        spoken_production: skill(&l.spoken_production),
        writing: skill(&l.writing),
    }
}

/// The Europass CV of `applicant`; the price tag only when the config includes it.
pub fn europass_cv(applicant: &Applicant, include_price_tag: bool) -> europass::Cv {
    europass::Cv {
        full_name: applicant.full_name.trim().to_owned(),
        technical_seniority: text(&applicant.technical_seniority),
        availability: text(&applicant.availability),
        notice_period: text(&applicant.notice_period),
        country_of_residence: text(&applicant.country_of_residence),
        price_tag: if include_price_tag {
            applicant.price_tag.as_ref().and_then(|p| p.formatted())
        } else {
            None
        },
        about_me: text(&applicant.about_me),
        technical_skills: applicant
            .technical_skills
            .iter()
            .filter(|s| !s.name.trim().is_empty())
            .map(|s| europass::Skill {
                name: s.name.trim().to_owned(),
                level: text(&s.level),
                years: s.years.filter(|y| y.is_finite() && *y >= 0.0),
            })
            .collect(),
        languages: applicant
            .languages
            .iter()
            .filter(|l| !l.name.trim().is_empty())
            .map(language)
            .collect(),
        work_experience: applicant
            .work_experience
            .iter()
            .filter(|e| !(e.title.trim().is_empty() && e.employer.trim().is_empty()))
            .map(|e| europass::Experience {
                title: e.title.trim().to_owned(),
                employer: e.employer.trim().to_owned(),
                location: text(&e.location),
                start: text(&e.start),
                end: text(&e.end),
                description: text(&e.description),
            })
            .collect(),
        projects: applicant
            .projects
            .iter()
            .filter(|p| !p.name.trim().is_empty())
            .map(|p| europass::Project {
                name: p.name.trim().to_owned(),
                role: text(&p.role),
                start: text(&p.start),
                end: text(&p.end),
                description: text(&p.description),
                technologies: p
                    .technologies
                    .iter()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
            })
            .collect(),
        education: applicant
            .education
            .iter()
            .filter(|e| !(e.qualification.trim().is_empty() && e.institution.trim().is_empty()))
            .map(|e| europass::Education {
                qualification: e.qualification.trim().to_owned(),
                institution: e.institution.trim().to_owned(),
                start: text(&e.start),
                end: text(&e.end),
                description: text(&e.description),
            })
            .collect(),
        certificates: applicant
            .certificates
            .iter()
            .filter(|c| !c.name.trim().is_empty())
            .map(|c| europass::Certificate {
                name: c.name.trim().to_owned(),
                issuer: text(&c.issuer),
                issued: text(&c.issued),
                url: text(&c.url),
            })
            .collect(),
    }
}

/// The CV's file name on the opportunity: `"<Full Name> - Europass CV.pdf"`, without
/// characters file systems refuse.
pub fn file_name(full_name: &str) -> String {
    let name: String = full_name
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("{name} - Europass CV.pdf")
}

/// The rendered PDF as the opportunity's resume.
pub fn attachment(
    applicant: &Applicant,
    include_price_tag: bool,
) -> Result<lever::Attachment, Error> {
    let cv = europass_cv(applicant, include_price_tag);
    let bytes = europass::render(&cv).map_err(|e| {
        Error::invalid(format!(
            "could not render the Europass CV of applicant {}: {e}",
            applicant.id
        ))
    })?;
    Ok(lever::Attachment {
        name: file_name(&applicant.full_name),
        content_type: "application/pdf".into(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{self, PriceTag};

    pub fn sample() -> Applicant {
        Applicant {
            id: "a-1".into(),
            full_name: " José Núñez ".into(),
            email: "jose@example.com".into(),
            country_of_residence: Some("Spain".into()),
            technical_seniority: Some("Senior".into()),
            availability: Some("Full-time".into()),
            notice_period: Some(" ".into()),
            price_tag: Some(PriceTag::Parts {
                amount: 65.0,
                currency: "USD".into(),
                unit: Some("hour".into()),
            }),
            technical_skills: vec![
                model::Skill {
                    name: "Rust".into(),
                    level: Some("Expert".into()),
                    years: Some(6.0),
                },
                model::Skill {
                    name: " ".into(),
                    ..Default::default()
                },
            ],
            languages: vec![
                model::Language {
                    name: "Spanish".into(),
                    mother_tongue: true,
                    ..Default::default()
                },
                model::Language {
                    name: "English".into(),
                    level: Some("b2".into()),
                    writing: Some("C1".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn maps_the_profile() {
        let cv = europass_cv(&sample(), false);
        assert_eq!(cv.full_name, "José Núñez");
        assert_eq!(cv.technical_seniority.as_deref(), Some("Senior"));
        assert_eq!(cv.notice_period, None, "blank is absent");
        assert_eq!(cv.price_tag, None, "not enabled");
        assert_eq!(cv.technical_skills.len(), 1);
        assert_eq!(cv.technical_skills[0].years, Some(6.0));
        assert!(cv.languages[0].mother_tongue);
        let english = &cv.languages[1];
        assert_eq!(english.listening, Some(europass::Cefr::B2));
        assert_eq!(english.writing, Some(europass::Cefr::C1));
        assert!(cv.projects.is_empty() && cv.certificates.is_empty());
        let with_price = europass_cv(&sample(), true);
        assert_eq!(with_price.price_tag.as_deref(), Some("USD 65/hour"));
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name(" José Núñez "), "José Núñez - Europass CV.pdf");
        assert_eq!(file_name("A/B: C"), "A-B- C - Europass CV.pdf");
    }
}
