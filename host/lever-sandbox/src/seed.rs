//! Deterministic seed data: a fictional company ("Brightwater Analytics") with users, Lever's
//! pipeline vocabulary, postings in every state and distribution-channel combination, and
//! opportunities with contacts, stage histories, archive states, notes, files and résumés.
//!
//! Everything derives from `SeedSpec::seed` through ChaCha8 streams, and timestamps are
//! relative to a fixed epoch derived from the seed (never the wall clock), so the same spec
//! always produces byte-identical data. Sizes scale linearly; tens of thousands of
//! opportunities take well under a few seconds.

use crate::config::SeedSpec;
use crate::db::{Db, canonical_email};
use bytes::Bytes;
use lever_model::timestamp::Millis;
use lever_model::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const DAY: Millis = 86_400_000;
/// 2025-01-01T00:00:00Z; the seed's "now" is this plus `seed % 180` days.
const EPOCH: Millis = 1_735_689_600_000;

pub const COMPANY: &str = "Brightwater Analytics";
pub const JOB_SITE: &str = "brightwater";

/// The seed's "now": generated data never lies after it.
pub fn seed_now(seed: u64) -> Millis {
    EPOCH + (seed % 180) as Millis * DAY
}

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

fn uuid(rng: &mut ChaCha8Rng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Generate the sandbox data for `spec`; `base_url` goes into download URLs.
pub fn generate(spec: &SeedSpec, base_url: &str) -> Db {
    let mut db = Db::new(base_url);
    let now = seed_now(spec.seed);
    db.seed_now = now;
    let mut vocab_rng = rng_for(spec.seed, 1);
    let users = seed_users(&mut db, &mut vocab_rng, now);
    seed_stages(&mut db, &mut vocab_rng);
    seed_archive_reasons(&mut db, &mut vocab_rng);
    let mut posting_rng = rng_for(spec.seed, 2);
    for i in 0..spec.postings {
        let p = make_posting(&mut posting_rng, i, now, &users);
        db.insert_posting(p);
    }
    let mut opp_rng = rng_for(spec.seed, 3);
    let mut opps = OppGen::new(&db);
    for i in 0..spec.opportunities {
        opps.make(&mut db, &mut opp_rng, i, now, &users);
    }
    db
}

// ---------------------------------------------------------------------------------------------
// Users

/// Role-based handles onto the generated users.
pub(crate) struct SeedUsers {
    pub recruiters: Vec<String>,
    pub hiring_managers: Vec<String>,
    pub interviewers: Vec<String>,
    pub agency: String,
}

const USERS: &[(&str, &str, &str, &str)] = &[
    // name, username, access role, job title
    ("Avery Chen", "avery.chen", "super admin", "Head of Talent"),
    (
        "Jordan Okafor",
        "jordan.okafor",
        "admin",
        "Recruiting Operations Lead",
    ),
    ("Priya Raman", "priya.raman", "admin", "Senior Recruiter"),
    (
        "Mateo García",
        "mateo.garcia",
        "team member",
        "Technical Recruiter",
    ),
    (
        "Hannah Schmidt",
        "hannah.schmidt",
        "team member",
        "Recruiter",
    ),
    (
        "Kenji Watanabe",
        "kenji.watanabe",
        "team member",
        "Engineering Manager",
    ),
    (
        "Fatima Zahra Benali",
        "fatima.benali",
        "team member",
        "VP of Sales",
    ),
    (
        "Sam Rivera",
        "sam.rivera",
        "limited team member",
        "Design Lead",
    ),
    (
        "Olivia Brooks",
        "olivia.brooks",
        "interviewer",
        "Staff Engineer",
    ),
    (
        "Noah Williams",
        "noah.williams",
        "interviewer",
        "Product Designer",
    ),
    (
        "Grace Liu",
        "grace.liu",
        "team member",
        "Recruiter (former)",
    ),
];

fn seed_users(db: &mut Db, rng: &mut ChaCha8Rng, now: Millis) -> SeedUsers {
    let mut ids: Vec<String> = Vec::new();
    for (i, (name, username, role, title)) in USERS.iter().enumerate() {
        let id = uuid(rng);
        let created_at = now - (900 - 40 * i as Millis) * DAY - rng.random_range(0..DAY);
        let deactivated_at = (*username == "grace.liu").then(|| now - 120 * DAY);
        db.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                name: (*name).into(),
                username: (*username).into(),
                email: format!("{username}@brightwater.example"),
                created_at,
                deactivated_at,
                access_role: (*role).into(),
                photo: None,
                external_directory_id: (i % 3 == 0).then(|| format!("okta|00u{}", 1000 + i)),
                linked_contact_ids: None,
                job_title: Some((*title).into()),
                manager_id: (i > 0).then(|| ids[0].clone()),
            },
        );
        ids.push(id);
    }
    // Agencies are not Lever users in the real API, but vendors that submit through an agency
    // model them as a limited account; this is that account.
    let agency = uuid(rng);
    db.users.insert(
        agency.clone(),
        User {
            id: agency.clone(),
            name: "Northwind Talent (agency)".into(),
            username: "northwind.talent".into(),
            email: "recruiter@northwind-talent.example".into(),
            created_at: now - 300 * DAY,
            deactivated_at: None,
            access_role: "limited team member".into(),
            photo: None,
            external_directory_id: None,
            linked_contact_ids: None,
            job_title: Some("External Recruiter".into()),
            manager_id: None,
        },
    );
    SeedUsers {
        recruiters: vec![
            ids[1].clone(),
            ids[2].clone(),
            ids[3].clone(),
            ids[4].clone(),
        ],
        hiring_managers: vec![
            ids[5].clone(),
            ids[6].clone(),
            ids[7].clone(),
            ids[2].clone(),
        ],
        interviewers: vec![ids[8].clone(), ids[9].clone(), ids[5].clone()],
        agency,
    }
}

fn seed_stages(db: &mut Db, rng: &mut ChaCha8Rng) {
    let stages: [(Option<&str>, &str); 9] = [
        (Some("lead-new"), "New lead"),
        (Some("lead-reached-out"), "Reached out"),
        (Some("lead-responded"), "Responded"),
        (Some("applicant-new"), "New applicant"),
        (None, "Recruiter screen"),
        (None, "Phone interview"),
        (None, "On-site interview"),
        (None, "Reference check"),
        (Some("offer"), "Offer"),
    ];
    for (slug, text) in stages {
        let id = slug.map_or_else(|| uuid(rng), str::to_owned);
        db.stages.insert(
            id.clone(),
            Stage {
                id,
                text: text.into(),
            },
        );
    }
}

fn seed_archive_reasons(db: &mut Db, rng: &mut ChaCha8Rng) {
    let reasons = [
        (
            "Hired",
            ArchiveReasonType::Hired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Withdrew",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Underqualified",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Position filled",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Timing",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Unresponsive",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Offer declined",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Active,
        ),
        (
            "Culture fit (retired)",
            ArchiveReasonType::NonHired,
            ArchiveReasonStatus::Inactive,
        ),
    ];
    for (text, kind, status) in reasons {
        let id = uuid(rng);
        db.archive_reasons.insert(
            id.clone(),
            ArchiveReason {
                id,
                text: text.into(),
                status,
                kind,
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Postings

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

fn make_posting(rng: &mut ChaCha8Rng, i: usize, now: Millis, users: &SeedUsers) -> Posting {
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

// ---------------------------------------------------------------------------------------------
// Opportunities

const FIRST_NAMES: &[&str] = &[
    "Alex", "Maria", "James", "Aisha", "Daniel", "Sofia", "Ethan", "Chloe", "Liam", "Emma",
    "Lucas", "Mia", "Omar", "Ines", "Raj", "Yuki", "Kwame", "Elena", "Tomás", "Sara", "Ben",
    "Leila", "Marcus", "Nadia", "Oscar", "Ruth", "Felix", "Amara", "Theo", "Isla",
];
const LAST_NAMES: &[&str] = &[
    "Johnson",
    "Silva",
    "Patel",
    "Kim",
    "Müller",
    "Rossi",
    "Okoye",
    "Dubois",
    "Kowalski",
    "Hansen",
    "Haddad",
    "Tanaka",
    "Mensah",
    "Fischer",
    "Novak",
    "O'Brien",
    "Lindqvist",
    "Moreau",
    "Costa",
    "Ivanova",
    "Reyes",
    "Walsh",
    "Nakamura",
    "Adeyemi",
    "Brennan",
];
/// Names that exercise Unicode handling end to end, with ASCII e-mail local parts.
const UNICODE_NAMES: &[(&str, &str)] = &[
    ("José Núñez", "jose.nunez"),
    ("Zoë Ødegård", "zoe.odegard"),
    ("Łukasz Żółć", "lukasz.zolc"),
    ("李雷", "li.lei"),
    ("Анна Петрова", "anna.petrova"),
    ("محمد علي", "mohammed.ali"),
    ("Nguyễn Thị Minh Khai", "nguyen.minhkhai"),
];
const COMPANIES: &[&str] = &[
    "Initech",
    "Globex",
    "Hooli",
    "Vandelay Industries",
    "Stark Logistics",
    "Umbrella Analytics",
    "Cyberdyne Systems",
    "Soylent Foods",
    "Acme Corp",
    "Wonka Labs",
];
const ROLES: &[&str] = &[
    "Software Engineer",
    "Senior Software Engineer",
    "Data Scientist",
    "Product Manager",
    "Designer",
    "Account Executive",
    "Support Specialist",
    "Engineering Manager",
    "Recruiter",
    "Marketing Manager",
];
const CITIES: &[&str] = &[
    "San Francisco, CA",
    "Austin, TX",
    "London, UK",
    "Berlin, Germany",
    "Lisbon, Portugal",
    "Warsaw, Poland",
    "Toronto, Canada",
    "Lagos, Nigeria",
    "Bangalore, India",
    "Seoul, South Korea",
    "Mexico City, Mexico",
    "Hanoi, Vietnam",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "mail.example"];
const TAGS: &[&str] = &[
    "Senior",
    "Remote OK",
    "Rust",
    "Python",
    "TypeScript",
    "Relocation",
    "Visa sponsorship",
    "Boomerang",
    "Priority",
    "Silver medalist",
];
const NOTE_TEXTS: &[&str] = &[
    "Phone screen went well: strong on distributed systems, wants to talk compensation next.",
    "Asked to move the on-site to next week because of a notice period.",
    "Great communicator. Portfolio shows real depth in research synthesis.",
    "Not a fit for the senior level; worth considering for mid-level roles.",
    "Reference from former manager was very positive.",
    "Candidate has a competing offer, decision expected by Friday.",
    "Follow up in three months — timing is not right for them now.",
];

struct OppGen {
    stage_ids: Vec<String>,
    applicant_path: Vec<String>,
    lead_path: Vec<String>,
    hired_reason: String,
    non_hired_reasons: Vec<String>,
    postings: Vec<(String, Option<String>, Option<String>, Confidentiality)>,
    contact_ids: Vec<String>,
}

impl OppGen {
    fn new(db: &Db) -> Self {
        let stage_ids: Vec<String> = db.stages.keys().cloned().collect();
        let middle: Vec<String> = stage_ids[4..8].to_vec();
        let mut applicant_path = vec!["applicant-new".to_owned()];
        applicant_path.extend(middle.iter().cloned());
        applicant_path.push("offer".into());
        let mut lead_path: Vec<String> = stage_ids[0..3].to_vec();
        lead_path.extend(middle);
        lead_path.push("offer".into());
        let hired_reason = db
            .archive_reasons
            .values()
            .find(|r| r.kind == ArchiveReasonType::Hired)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        let non_hired_reasons = db
            .archive_reasons
            .values()
            .filter(|r| {
                r.kind == ArchiveReasonType::NonHired && r.status == ArchiveReasonStatus::Active
            })
            .map(|r| r.id.clone())
            .collect();
        // Candidates apply to postings that were ever open.
        let postings = db
            .postings()
            .filter(|p| {
                matches!(
                    p.state,
                    PostingState::Published | PostingState::Internal | PostingState::Closed
                )
            })
            .map(|p| {
                (
                    p.id.clone(),
                    p.owner.as_ref().map(|u| u.id().to_owned()),
                    p.hiring_manager.as_ref().map(|u| u.id().to_owned()),
                    p.confidentiality,
                )
            })
            .collect();
        Self {
            stage_ids,
            applicant_path,
            lead_path,
            hired_reason,
            non_hired_reasons,
            postings,
            contact_ids: Vec::new(),
        }
    }

    fn new_contact(&mut self, db: &mut Db, rng: &mut ChaCha8Rng, i: usize) -> String {
        let (name, slug) = if i % 10 == 3 && i / 10 < UNICODE_NAMES.len() {
            let (n, s) = UNICODE_NAMES[i / 10];
            (n.to_owned(), s.to_owned())
        } else if rng.random_bool(0.03) {
            let (n, s) = *pick(rng, UNICODE_NAMES);
            (n.to_owned(), s.to_owned())
        } else {
            let first = *pick(rng, FIRST_NAMES);
            let last = *pick(rng, LAST_NAMES);
            let slug = format!("{}.{}", ascii_slug(first), ascii_slug(last));
            (format!("{first} {last}"), slug)
        };
        let domain = *pick(rng, DOMAINS);
        let mut email = format!("{slug}@{domain}");
        if db.email_index.contains_key(&canonical_email(&email)) {
            email = format!("{slug}{i}@{domain}");
        }
        let mut emails = vec![email];
        if rng.random_bool(0.2) {
            let work = format!(
                "{slug}{i}@{}",
                ascii_slug(pick::<&str>(rng, COMPANIES)).replace('.', "") + ".example"
            );
            if !db.email_index.contains_key(&canonical_email(&work)) {
                emails.push(work);
            }
        }
        let phones = (0..rng.random_range(0..3usize))
            .map(|k| Phone {
                kind: match rng.random_range(0..4) {
                    0 => Some("mobile".into()),
                    1 => Some("work".into()),
                    2 => Some("other".into()),
                    _ => None,
                },
                value: match (i + k) % 3 {
                    0 => format!("+1 415 555 {:04}", (i * 7 + k) % 10_000),
                    1 => format!("+44 20 7946 {:04}", (i * 3 + k) % 1_000),
                    _ => format!("+49 30 {:07}", 1_000_000 + (i * 13 + k) % 9_000_000),
                },
            })
            .collect();
        let mut links = vec![format!(
            "https://www.linkedin.com/in/{}",
            slug.replace('.', "-")
        )];
        if rng.random_bool(0.3) {
            links.push(format!("https://github.com/{}", slug.replace('.', "")));
        }
        let id = uuid(rng);
        db.insert_contact(
            Contact {
                id: id.clone(),
                name: Some(name),
                headline: Some(format!("{} at {}", pick(rng, ROLES), pick(rng, COMPANIES))),
                is_anonymized: false,
                location: Some(ContactLocation {
                    name: (*pick(rng, CITIES)).into(),
                }),
                emails,
                phones,
            },
            links,
        );
        self.contact_ids.push(id.clone());
        id
    }

    fn make(
        &mut self,
        db: &mut Db,
        rng: &mut ChaCha8Rng,
        i: usize,
        now: Millis,
        users: &SeedUsers,
    ) {
        // Some people have several opportunities (one per posting they were considered for).
        let contact_id = if !self.contact_ids.is_empty() && rng.random_bool(0.12) {
            pick(rng, &self.contact_ids).clone()
        } else {
            self.new_contact(db, rng, i)
        };
        let id = uuid(rng);
        let posting = (!self.postings.is_empty() && rng.random_bool(0.8))
            .then(|| pick(rng, &self.postings).clone());
        let origin = match rng.random_range(0..100) {
            0..=44 if posting.is_some() => Origin::Applied,
            0..=69 => Origin::Sourced,
            70..=81 => Origin::Referred,
            82..=89 => Origin::Agency,
            90..=94 => Origin::University,
            _ => Origin::Internal,
        };
        let recruiter = pick(rng, &users.recruiters).clone();
        let owner = match &posting {
            Some((_, Some(o), _, _)) if rng.random_bool(0.7) => o.clone(),
            _ => recruiter.clone(),
        };
        let sourced_by = match origin {
            Origin::Sourced => Some(recruiter.clone()),
            Origin::Referred => Some(pick(rng, &users.interviewers).clone()),
            Origin::Agency => Some(users.agency.clone()),
            _ => None,
        };
        let sources: Vec<String> = match origin {
            Origin::Applied => vec![(*pick(rng, &["Posting", "Job site", "LinkedIn"])).into()],
            Origin::Sourced => {
                vec![(*pick(rng, &["LinkedIn", "Added manually", "Email Lead"])).into()]
            }
            Origin::Referred => vec!["Referral".into()],
            Origin::Agency => vec!["Northwind Talent".into(), "Job site".into()],
            Origin::University => vec!["University career fair".into()],
            _ => vec!["Internal".into()],
        };
        let mut tags: Vec<String> = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let t = (*pick(rng, TAGS)).to_owned();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let created_at = now - rng.random_range(1..540) * DAY - rng.random_range(0..DAY);
        // Stage history: leads start at "New lead", applicants at "New applicant".
        let path = if posting.is_some() && origin != Origin::Sourced {
            &self.applicant_path
        } else {
            &self.lead_path
        };
        let steps = match rng.random_range(0..100) {
            0..=39 => 0,
            40..=59 => 1,
            60..=74 => 2,
            75..=84 => 3,
            85..=92 => 4,
            _ => path.len() - 1,
        }
        .min(path.len() - 1);
        let mut t = created_at;
        let mut stage_changes = Vec::new();
        for stage in &path[..=steps] {
            let index = self
                .stage_ids
                .iter()
                .position(|s| s == stage)
                .map(|x| x as i64);
            stage_changes.push(StageChange {
                to_stage_id: stage.clone(),
                to_stage_index: index,
                user_id: Some(owner.clone()),
                updated_at: t,
            });
            t = (t + rng.random_range(1..15) * DAY).min(now);
        }
        let stage = path[steps].clone();
        let last_advanced = stage_changes.last().map_or(created_at, |c| c.updated_at);
        let archived = if rng.random_bool(0.3) {
            let reason = if stage == "offer" && rng.random_bool(0.6) {
                self.hired_reason.clone()
            } else {
                pick(rng, &self.non_hired_reasons).clone()
            };
            Some(Archived {
                archived_at: (last_advanced + rng.random_range(1..20) * DAY).min(now),
                reason: Some(reason),
            })
        } else {
            None
        };
        let updated_at = archived
            .as_ref()
            .map_or(last_advanced, |a| a.archived_at.max(last_advanced));
        let mut followers = vec![Expandable::Id(owner.clone())];
        if let Some((_, _, Some(hm), _)) = &posting
            && *hm != owner
        {
            followers.push(Expandable::Id(hm.clone()));
        }
        let confidentiality = posting
            .as_ref()
            .map_or(Confidentiality::NonConfidential, |p| p.3);
        let contact = db
            .contact_record(&contact_id)
            .map(|r| r.contact.clone())
            .unwrap_or_default();
        let applications = posting.as_ref().map(|(pid, p_owner, p_hm, _)| Application {
            id: uuid(rng),
            opportunity_id: id.clone(),
            candidate_id: id.clone(),
            created_at,
            kind: match origin {
                Origin::Applied => ApplicationType::Posting,
                Origin::Referred => ApplicationType::Referral,
                _ => ApplicationType::User,
            },
            posting: Some(pid.clone()),
            posting_owner: p_owner.clone(),
            posting_hiring_manager: p_hm.clone(),
            user: if origin == Origin::Applied {
                None
            } else {
                sourced_by.clone().or(Some(owner.clone()))
            },
            name: contact.name.clone(),
            email: contact.emails.first().cloned(),
            phone: contact.phones.first().cloned(),
            company: contact
                .headline
                .as_ref()
                .and_then(|h| h.split(" at ").nth(1))
                .map(str::to_owned),
            links: db
                .contact_record(&contact_id)
                .map(|r| r.links.clone())
                .unwrap_or_default(),
            comments: None,
            custom_questions: vec![],
            archived: archived.clone(),
            requisition_for_hire: None,
        });
        let opp = Opportunity {
            id: id.clone(),
            contact: Some(Expandable::Id(contact_id.clone())),
            confidentiality,
            created_at,
            updated_at: Some(updated_at),
            last_interaction_at: Some(updated_at),
            last_advanced_at: Some(last_advanced),
            snoozed_until: None,
            archived,
            stage: Some(Expandable::Id(stage.clone())),
            stage_changes,
            owner: Some(Expandable::Id(owner.clone())),
            followers,
            tags,
            sources,
            origin: Some(origin),
            sourced_by: sourced_by.map(Expandable::Id),
            applications: applications
                .iter()
                .map(|a| Expandable::Id(a.id.clone()))
                .collect(),
            urls: db.opportunity_urls(&id),
            data_protection: None,
            is_anonymized: false,
            opportunity_location: None,
            ..Default::default()
        };
        db.insert_opportunity(opp);
        if let Some(a) = applications {
            db.applications.insert(id.clone(), vec![a]);
        }
        let name = contact.name.clone().unwrap_or_default();
        // Notes on ~40%.
        if rng.random_bool(0.4) {
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
                    Some(stage.clone()),
                ));
            }
            notes.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            db.notes.insert(id.clone(), notes);
        }
        // Résumés on ~half, other files on ~15%; every 97th file failed processing (→ 422).
        if rng.random_bool(0.5) {
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
                        name: format!("{} - Resume.pdf", ascii_slug(&name)),
                        ext: "pdf".into(),
                        download_url: db.resume_download_url(&id, &rid),
                        uploaded_at: Some(uploaded),
                        status: Some(FileStatus::Processed),
                        size: bytes.len() as u64,
                    }),
                    parsed_data: ParsedResume {
                        positions: vec![ResumeEntry {
                            org: Some((*pick(rng, COMPANIES)).into()),
                            title: Some((*pick(rng, ROLES)).into()),
                            summary: Some(
                                "Led a small team shipping customer-facing features.".into(),
                            ),
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
        if rng.random_bool(0.15) {
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
                    download_url: db.file_download_url(&id, &fid),
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
    }
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

/// Lowercase ASCII approximation for e-mail local parts and file names.
pub(crate) fn ascii_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let mapped = match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' | 'Á' | 'Ä' => "a",
            'é' | 'è' | 'ë' | 'ê' | 'É' => "e",
            'í' | 'ì' | 'ï' | 'î' => "i",
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' | 'ø' | 'Ø' | 'Ö' => "o",
            'ú' | 'ù' | 'ü' | 'û' | 'Ü' => "u",
            'ñ' => "n",
            'ç' => "c",
            'ł' | 'Ł' => "l",
            'ż' | 'ź' | 'Ż' => "z",
            'ß' => "ss",
            '\'' => "",
            ' ' | '-' | '_' | '.' => ".",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(mapped);
    }
    let trimmed = out.trim_matches('.').to_owned();
    if trimmed.is_empty() {
        "candidate".into()
    } else {
        trimmed
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn snapshot(db: &Db) -> String {
        let opps: Vec<_> = db.opportunities().collect();
        let notes: Vec<_> = opps.iter().map(|o| db.notes(&o.id)).collect();
        let files: Vec<_> = opps
            .iter()
            .map(|o| (db.files(&o.id), db.resumes(&o.id)))
            .collect();
        serde_json::to_string(&serde_json::json!({
            "users": db.users().collect::<Vec<_>>(),
            "stages": db.stages().collect::<Vec<_>>(),
            "reasons": db.archive_reasons().collect::<Vec<_>>(),
            "postings": db.postings().collect::<Vec<_>>(),
            "contacts": db.contacts().collect::<Vec<_>>(),
            "opportunities": opps,
            "notes": notes,
            "files": files,
        }))
        .unwrap()
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let spec = SeedSpec::demo();
        let a = snapshot(&generate(&spec, "http://x"));
        let b = snapshot(&generate(&spec, "http://x"));
        assert_eq!(a, b);
        let c = snapshot(&generate(&SeedSpec { seed: 43, ..spec }, "http://x"));
        assert_ne!(a, c);
    }

    #[test]
    fn demo_covers_states_channels_locations_and_unicode() {
        let db = generate(&SeedSpec::demo(), "http://x");
        db.check_invariants().unwrap();
        let states: HashSet<_> = db.postings().map(|p| p.state).collect();
        for s in [
            PostingState::Published,
            PostingState::Internal,
            PostingState::Closed,
            PostingState::Draft,
            PostingState::Pending,
            PostingState::Rejected,
        ] {
            assert!(states.contains(&s), "missing state {s}");
        }
        let channels: HashSet<_> = db
            .postings()
            .map(|p| {
                p.distribution_channels
                    .as_ref()
                    .map(|c| c.iter().map(|c| c.as_str()).collect::<Vec<_>>())
            })
            .collect();
        for c in [
            Some(vec!["public", "internal"]),
            Some(vec!["public"]),
            Some(vec!["internal"]),
            None,
        ] {
            assert!(channels.contains(&c), "missing channels {c:?}");
        }
        assert!(
            db.postings()
                .all(|p| (p.state == PostingState::Published) == p.urls.is_some())
        );
        assert!(
            db.postings()
                .all(|p| p.state == PostingState::Published || p.distribution_channels.is_none())
        );
        let wt: HashSet<_> = db.postings().map(|p| p.workplace_type).collect();
        for w in [
            WorkplaceType::Remote,
            WorkplaceType::Hybrid,
            WorkplaceType::OnSite,
            WorkplaceType::Unspecified,
        ] {
            assert!(wt.contains(&w), "missing workplace {w}");
        }
        assert!(db.postings().any(|p| p.categories.location.is_none()));
        assert!(db.postings().any(|p| p.salary_range.is_some()));
        assert!(
            db.postings()
                .filter(|p| p.confidentiality == Confidentiality::Confidential)
                .count()
                >= 2
        );
        let names: HashSet<_> = db.contacts().filter_map(|c| c.name.clone()).collect();
        for (n, _) in UNICODE_NAMES {
            assert!(names.contains(*n), "missing {n}");
        }
        assert!(db.contacts_with_several_opportunities() > 0);
        assert!(db.opportunities().any(|o| o.archived.is_some()));
        assert!(db.opportunities().any(|o| {
            o.archived
                .as_ref()
                .is_some_and(|a| db.hired_reason(a.reason.as_deref().unwrap_or("")))
        }));
        assert!(db.opportunities().any(|o| !db.notes(&o.id).is_empty()));
        assert!(db.opportunities().any(|o| !db.files(&o.id).is_empty()));
        let with_resume = db
            .opportunities()
            .find(|o| !db.resumes(&o.id).is_empty())
            .unwrap();
        let r = &db.resumes(&with_resume.id)[0];
        assert!(
            db.resume_bytes(&with_resume.id, &r.id)
                .unwrap()
                .starts_with(b"%PDF-1.4")
        );
        assert!(db.users().any(|u| u.deactivated_at.is_some()));
        assert!(
            db.users()
                .any(|u| u.email == "recruiter@northwind-talent.example")
        );
        for slug in [
            "lead-new",
            "lead-reached-out",
            "lead-responded",
            "applicant-new",
            "offer",
        ] {
            assert!(db.stage(slug).is_some());
        }
    }

    #[test]
    fn vocabulary_only_and_large_seeds() {
        let db = generate(&SeedSpec::vocabulary_only(7), "http://x");
        assert_eq!(db.postings().count(), 0);
        assert_eq!(db.opportunity_count(), 0);
        assert!(db.users().count() >= 10 && db.stages().count() == 9);
        let started = std::time::Instant::now();
        let db = generate(&SeedSpec::new(1, 1_000, 10_000), "http://x");
        assert_eq!(db.opportunity_count(), 10_000);
        db.check_invariants().unwrap();
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn pdf_offsets_are_valid() {
        let pdf = pdf_bytes("Zoë (test)", &["line".into()]);
        let s = std::str::from_utf8(&pdf).unwrap();
        let startxref: usize = s
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(s[startxref..].starts_with("xref"));
        let obj3 = s.find("3 0 obj").unwrap();
        assert!(s.contains(&format!("{obj3:010} 00000 n")));
    }
}
