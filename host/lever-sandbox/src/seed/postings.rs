//! Postings: the first ones cover every state and distribution-channel combination, the rest
//! are weighted; departments, locations (some absent), salaries, HTML content and URLs.

use super::vocabulary::SeedUsers;
use super::{COMPANY, DAY, JOB_SITE, pick, uuid};
use lever_model::timestamp::Millis;
use lever_model::{
    Confidentiality, DistributionChannel, Expandable, Posting, PostingCategories, PostingContent,
    PostingList, PostingState, PostingUrls, SalaryRange, WorkplaceType,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const DEPARTMENTS: &[(&str, &str, &[&str])] = &[
    (
        "Engineering",
        "Backend",
        &[
            "Senior Backend Engineer (Rust)",
            "Backend Engineer, Payments",
            "Staff Engineer, Data Platform",
        ],
    ),
    (
        "Engineering",
        "Frontend",
        &["Frontend Engineer", "Senior Frontend Engineer (React)"],
    ),
    (
        "Engineering",
        "Infrastructure",
        &[
            "Site Reliability Engineer",
            "Platform Engineer",
            "Security Engineer",
        ],
    ),
    (
        "Engineering",
        "Data",
        &[
            "Data Engineer",
            "Machine Learning Engineer",
            "Analytics Engineer",
        ],
    ),
    (
        "Product",
        "Product Management",
        &[
            "Senior Product Manager",
            "Product Manager, Growth",
            "Technical Program Manager",
        ],
    ),
    (
        "Design",
        "Product Design",
        &["Product Designer", "UX Researcher", "Brand Designer"],
    ),
    (
        "Sales",
        "Account Executives",
        &[
            "Account Executive, Mid-Market",
            "Enterprise Account Executive",
            "Sales Development Representative",
        ],
    ),
    (
        "Sales",
        "Solutions",
        &["Solutions Engineer", "Sales Engineer, EMEA"],
    ),
    (
        "Marketing",
        "Growth Marketing",
        &[
            "Content Marketing Manager",
            "Demand Generation Manager",
            "Product Marketing Manager",
        ],
    ),
    (
        "Customer Success",
        "Support",
        &[
            "Customer Success Manager",
            "Support Engineer",
            "Implementation Specialist",
        ],
    ),
    (
        "People",
        "Talent",
        &[
            "People Partner",
            "Technical Recruiter",
            "Recruiting Coordinator",
        ],
    ),
    (
        "Finance",
        "Accounting",
        &["Financial Analyst", "Revenue Accountant"],
    ),
];

/// (location, workplace type, country)
const LOCATIONS: &[(&str, WorkplaceType, &str)] = &[
    ("San Francisco, CA", WorkplaceType::OnSite, "US"),
    ("Remote - US", WorkplaceType::Remote, "US"),
    ("London, UK", WorkplaceType::Hybrid, "GB"),
    ("New York, NY", WorkplaceType::Hybrid, "US"),
    ("Berlin, Germany", WorkplaceType::OnSite, "DE"),
    ("Remote - EMEA", WorkplaceType::Remote, "DE"),
    ("Toronto, Canada", WorkplaceType::Hybrid, "CA"),
    ("São Paulo, Brazil", WorkplaceType::OnSite, "BR"),
    ("Amsterdam, Netherlands", WorkplaceType::Hybrid, "NL"),
    ("Tokyo, Japan", WorkplaceType::OnSite, "JP"),
];

const COMMITMENTS: &[&str] = &[
    "Full-time",
    "Full-time",
    "Full-time",
    "Part-time",
    "Contract",
    "Internship",
];

/// The first postings cover every state and channel combination; the rest are weighted.
fn posting_state(
    rng: &mut ChaCha8Rng,
    i: usize,
) -> (PostingState, Option<Vec<DistributionChannel>>) {
    use DistributionChannel::{Internal as I, Public as P};
    use PostingState::*;
    let fixed = [
        (Published, Some(vec![P, I])),
        (Published, Some(vec![P])),
        (Published, Some(vec![I])),
        (Internal, None),
        (Closed, None),
        (Draft, None),
        (Pending, None),
        (Rejected, None),
    ];
    if let Some(f) = fixed.get(i) {
        return f.clone();
    }
    let r = rng.random_range(0..100);
    match r {
        0..=34 => (Published, Some(vec![P, I])),
        35..=44 => (Published, Some(vec![P])),
        45..=49 => (Published, Some(vec![I])),
        50..=59 => (Internal, None),
        60..=74 => (Closed, None),
        75..=89 => (Draft, None),
        90..=94 => (Pending, None),
        _ => (Rejected, None),
    }
}

fn currency(country: &str) -> (&'static str, f64) {
    match country {
        "GB" => ("GBP", 0.8),
        "DE" | "NL" => ("EUR", 0.9),
        "CA" => ("CAD", 1.3),
        "BR" => ("BRL", 3.0),
        "JP" => ("JPY", 140.0),
        _ => ("USD", 1.0),
    }
}

pub(super) fn make_posting(
    rng: &mut ChaCha8Rng,
    i: usize,
    now: Millis,
    users: &SeedUsers,
) -> Posting {
    let id = uuid(rng);
    let (department, team, titles) = DEPARTMENTS[if i < DEPARTMENTS.len() {
        i
    } else {
        rng.random_range(0..DEPARTMENTS.len())
    }];
    let title = *pick(rng, titles);
    let (state, channels) = posting_state(rng, i);
    // Every ninth posting has no location at all (the category key is absent).
    let location = if i % 9 == 4 {
        None
    } else if i < LOCATIONS.len() {
        Some(LOCATIONS[i])
    } else {
        Some(*pick(rng, LOCATIONS))
    };
    let confidential = i >= 8 && (i - 8).is_multiple_of(17);
    let (state, channels) = if confidential {
        (PostingState::Internal, None)
    } else {
        (state, channels)
    };
    let owner = pick(rng, &users.recruiters).clone();
    let hiring_manager = users.hiring_managers[i % users.hiring_managers.len()].clone();
    let created_at = now - rng.random_range(10..420) * DAY - rng.random_range(0..DAY);
    let updated_at = (created_at + rng.random_range(0..30) * DAY).min(now);
    let commitment = *pick(rng, COMMITMENTS);
    let mut all_locations: Vec<String> = location.iter().map(|l| l.0.to_owned()).collect();
    if let Some(l) = location
        && l.1 == WorkplaceType::Hybrid
        && rng.random_bool(0.4)
    {
        let extra = pick(rng, LOCATIONS).0;
        if extra != l.0 {
            all_locations.push(extra.to_owned());
        }
    }
    let country = location.map(|l| l.2.to_owned());
    let salary = (state == PostingState::Published && rng.random_bool(0.6)).then(|| {
        let (cur, factor) = currency(country.as_deref().unwrap_or("US"));
        let base = rng.random_range(70..190) as f64 * 1000.0 * factor;
        let (min, max) = (base.round(), (base * 1.3).round());
        (
            SalaryRange {
                min,
                max,
                currency: cur.into(),
                interval: "per-year-salary".into(),
            },
            format!("The base salary range for this role is {min:.0}-{max:.0} {cur} per year, plus equity and benefits."),
        )
    });
    let req = format!("{}-{}", &department[..3].to_uppercase(), 100 + i);
    let has_req = rng.random_bool(0.5);
    let description = format!(
        "{COMPANY} helps logistics teams forecast demand with open, explainable models. \
         As a {title} on the {team} team you will work with a small, senior group that ships weekly."
    );
    let lists = vec![
        PostingList {
            text: "What you'll do".into(),
            content: format!(
                "<li>Own {team} projects from design to production</li><li>Partner with {department} and Product on the roadmap</li><li>Mentor teammates and review their work</li>"
            ),
        },
        PostingList {
            text: "What you'll bring".into(),
            content: "<li>Several years of relevant experience</li><li>Clear written communication</li><li>Curiosity about how customers use what you build</li>".into(),
        },
    ];
    let closing = format!(
        "{COMPANY} is an equal opportunity employer. We welcome applicants of every background."
    );
    let tags: Vec<String> = ["Hiring sprint", "Evergreen", "Urgent", "Backfill"]
        .iter()
        .filter(|_| rng.random_bool(0.25))
        .map(|s| (*s).into())
        .collect();
    let urls = (state == PostingState::Published).then(|| PostingUrls {
        list: format!("https://jobs.lever.co/{JOB_SITE}"),
        show: format!("https://jobs.lever.co/{JOB_SITE}/{id}"),
        apply: format!("https://jobs.lever.co/{JOB_SITE}/{id}/apply"),
    });
    Posting {
        id,
        text: title.into(),
        created_at,
        updated_at: Some(updated_at),
        user: Some(Expandable::Id(owner.clone())),
        owner: Some(Expandable::Id(owner.clone())),
        hiring_manager: Some(Expandable::Id(hiring_manager.clone())),
        confidentiality: if confidential {
            Confidentiality::Confidential
        } else {
            Confidentiality::NonConfidential
        },
        state,
        distribution_channels: channels,
        categories: PostingCategories {
            team: Some(team.into()),
            department: Some(department.into()),
            location: location.map(|l| l.0.to_owned()),
            commitment: Some(commitment.into()),
            level: None,
            all_locations,
        },
        tags,
        content: PostingContent {
            description_html: format!(
                "<div><b>{COMPANY}</b> helps logistics teams forecast demand with open, explainable models.</div><div><br></div><div>As a {title} on the {team} team you will work with a small, senior group that ships weekly.</div>"
            ),
            description,
            lists,
            closing_html: format!("<div>{closing}</div>"),
            closing,
        },
        country,
        followers: vec![Expandable::Id(owner), Expandable::Id(hiring_manager)],
        req_code: Some(if has_req { req.clone() } else { String::new() }),
        requisition_codes: if has_req { vec![req] } else { vec![] },
        salary_description: salary.as_ref().map(|s| s.1.clone()),
        salary_description_html: salary.as_ref().map(|s| format!("<div>{}</div>", s.1)),
        salary_range: salary.map(|s| s.0),
        urls,
        workplace_type: location.map_or(WorkplaceType::Unspecified, |l| l.1),
    }
}
