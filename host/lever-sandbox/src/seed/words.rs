//! The word lists people, companies and notes are drawn from, and the ASCII slugs made of
//! names for e-mail addresses and file names.

pub(super) const FIRST_NAMES: &[&str] = &[
    "Alex", "Maria", "James", "Aisha", "Daniel", "Sofia", "Ethan", "Chloe", "Liam", "Emma",
    "Lucas", "Mia", "Omar", "Ines", "Raj", "Yuki", "Kwame", "Elena", "Tomás", "Sara", "Ben",
    "Leila", "Marcus", "Nadia", "Oscar", "Ruth", "Felix", "Amara", "Theo", "Isla",
];
pub(super) const LAST_NAMES: &[&str] = &[
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
pub(super) const UNICODE_NAMES: &[(&str, &str)] = &[
    ("José Núñez", "jose.nunez"),
    ("Zoë Ødegård", "zoe.odegard"),
    ("Łukasz Żółć", "lukasz.zolc"),
    ("李雷", "li.lei"),
    ("Анна Петрова", "anna.petrova"),
    ("محمد علي", "mohammed.ali"),
    ("Nguyễn Thị Minh Khai", "nguyen.minhkhai"),
];
pub(super) const COMPANIES: &[&str] = &[
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
pub(super) const ROLES: &[&str] = &[
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
pub(super) const CITIES: &[&str] = &[
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
pub(super) const DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "mail.example"];
pub(super) const TAGS: &[&str] = &[
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
pub(super) const NOTE_TEXTS: &[&str] = &[
    "Phone screen went well: strong on distributed systems, wants to talk compensation next.",
    "Asked to move the on-site to next week because of a notice period.",
    "Great communicator. Portfolio shows real depth in research synthesis.",
    "Not a fit for the senior level; worth considering for mid-level roles.",
    "Reference from former manager was very positive.",
    "Candidate has a competing offer, decision expected by Friday.",
    "Follow up in three months — timing is not right for them now.",
];

/// Lowercase ASCII approximation for e-mail local parts and file names.
pub(super) fn ascii_slug(s: &str) -> String {
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
