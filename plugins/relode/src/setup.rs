//! Resolving the setup form's values to Lever ids: the owner (name + e-mail) to an active user,
//! the default stage (a name) to a stage. Pure functions over what Lever listed, so the
//! candidate handler and the `check-setup` action give the same answers and messages.

use crate::settings::{OwnerSetting, Settings};
use fulcrum_sdk::ConfigProblem;
use fulcrum_sdk::lever::{Stage, User};

/// How many users or stages a message lists before "and N more".
const LISTED: usize = 15;

/// Lower-cased, with runs of whitespace as one space: how names and e-mails are compared.
fn normalised(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn listing<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return "none".into();
    }
    let mut shown: Vec<String> = items.iter().take(LISTED).map(show).collect();
    if items.len() > LISTED {
        shown.push(format!("and {} more", items.len() - LISTED));
    }
    shown.join(", ")
}

/// The active Lever user the config's owner names: e-mail equal (case-insensitive) and name
/// equal (case- and spacing-insensitive). Otherwise a problem at `/owner` that says what was
/// looked for and which active users exist.
pub fn resolve_owner<'a>(
    owner: &OwnerSetting,
    users: &'a [User],
) -> Result<&'a User, ConfigProblem> {
    let email = normalised(&owner.email);
    let name = normalised(&owner.name);
    let active: Vec<&User> = users.iter().filter(|u| u.active).collect();
    let same_email = active.iter().find(|u| normalised(&u.email) == email);
    match same_email {
        Some(user) if normalised(&user.name) == name => Ok(user),
        Some(user) => Err(ConfigProblem::new(
            "/owner/name",
            format!(
                "the active Lever user with the e-mail {:?} is named {:?}, not {:?}: set \
                 /owner/name to the name Lever shows (or /owner/email to the intended user's \
                 e-mail), then replay the failed events",
                owner.email, user.name, owner.name
            ),
        )),
        None => {
            let inactive = users
                .iter()
                .any(|u| !u.active && normalised(&u.email) == email);
            let why = if inactive {
                "is deactivated in Lever"
            } else {
                "matches no active Lever user"
            };
            Err(ConfigProblem::new(
                "/owner",
                format!(
                    "the owner {:?} <{}> {why}; active users: {}. Set /owner to one of them, \
                     then replay the failed events",
                    owner.name,
                    owner.email,
                    listing(&active, |u| format!("{} <{}>", u.name, u.email))
                ),
            ))
        }
    }
}

/// The Lever stage the config's `default_stage` names: its text (case- and
/// spacing-insensitive), else its id. Otherwise a problem at `/default_stage` listing the stages.
pub fn resolve_stage<'a>(wanted: &str, stages: &'a [Stage]) -> Result<&'a Stage, ConfigProblem> {
    let text = normalised(wanted);
    stages
        .iter()
        .find(|s| normalised(&s.text) == text)
        .or_else(|| stages.iter().find(|s| s.id == wanted.trim()))
        .ok_or_else(|| {
            ConfigProblem::new(
                "/default_stage",
                format!(
                    "no Lever stage is named {wanted:?}; stages: {}. Set /default_stage to one \
                     of them, then replay the failed events",
                    listing(stages, |s| format!("{:?}", s.text))
                ),
            )
        })
}

/// Both resolutions: the owner's user id and the stage id, or every problem.
pub fn resolve(
    settings: &Settings,
    users: &[User],
    stages: &[Stage],
) -> Result<(User, Stage), Vec<ConfigProblem>> {
    let owner = resolve_owner(&settings.owner, users);
    let stage = resolve_stage(&settings.default_stage, stages);
    match (owner, stage) {
        (Ok(owner), Ok(stage)) => Ok((owner.clone(), stage.clone())),
        (owner, stage) => Err([owner.err(), stage.err()].into_iter().flatten().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, name: &str, email: &str, active: bool) -> User {
        User {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            access_role: "admin".into(),
            active,
            username: None,
            job_title: None,
            manager_id: None,
            external_directory_id: None,
            created_at: None,
            deactivated_at: None,
        }
    }

    fn users() -> Vec<User> {
        vec![
            user("u1", "Ada Lovelace", "ada@acme.com", true),
            user("u2", "Grace Hopper", "grace@acme.com", true),
            user("u3", "Old Timer", "old@acme.com", false),
        ]
    }

    fn owner(name: &str, email: &str) -> OwnerSetting {
        OwnerSetting {
            name: name.into(),
            email: email.into(),
        }
    }

    fn stages() -> Vec<Stage> {
        ["New lead", "New applicant", "Phone interview"]
            .iter()
            .enumerate()
            .map(|(n, text)| Stage {
                id: format!("s{n}"),
                text: (*text).into(),
            })
            .collect()
    }

    #[test]
    fn the_owner_matches_by_email_and_name_ignoring_case_and_spacing() {
        let users = users();
        let found = resolve_owner(&owner("grace  HOPPER", " Grace@ACME.com "), &users).unwrap();
        assert_eq!(found.id, "u2");
    }

    #[test]
    fn owner_problems_say_what_was_looked_for_and_who_exists() {
        let users = users();
        let wrong_name = resolve_owner(&owner("Ada Byron", "ada@acme.com"), &users).unwrap_err();
        assert_eq!(wrong_name.pointer, "/owner/name");
        assert!(
            wrong_name
                .message
                .contains("named \"Ada Lovelace\", not \"Ada Byron\""),
            "{}",
            wrong_name.message
        );

        let unknown = resolve_owner(&owner("Nobody", "nobody@acme.com"), &users).unwrap_err();
        assert_eq!(unknown.pointer, "/owner");
        assert!(
            unknown
                .message
                .contains("\"Nobody\" <nobody@acme.com> matches no active Lever user"),
            "{}",
            unknown.message
        );
        assert!(
            unknown
                .message
                .contains("Ada Lovelace <ada@acme.com>, Grace Hopper <grace@acme.com>")
        );
        assert!(
            !unknown.message.contains("Old Timer"),
            "inactive users are not offered"
        );

        let inactive = resolve_owner(&owner("Old Timer", "old@acme.com"), &users).unwrap_err();
        assert!(
            inactive.message.contains("is deactivated in Lever"),
            "{}",
            inactive.message
        );
    }

    #[test]
    fn the_stage_matches_by_name_or_id() {
        let stages = stages();
        assert_eq!(resolve_stage("new applicant", &stages).unwrap().id, "s1");
        assert_eq!(
            resolve_stage("s2", &stages).unwrap().text,
            "Phone interview"
        );
        let missing = resolve_stage("Screening", &stages).unwrap_err();
        assert_eq!(missing.pointer, "/default_stage");
        assert!(
            missing
                .message
                .contains("no Lever stage is named \"Screening\"")
        );
        assert!(
            missing
                .message
                .contains("\"New lead\", \"New applicant\", \"Phone interview\"")
        );
    }

    #[test]
    fn resolve_reports_every_problem() {
        let settings = Settings {
            owner: owner("Nobody", "nobody@acme.com"),
            career_page_url: "https://acme.com/careers".into(),
            default_stage: "Screening".into(),
        };
        let problems = resolve(&settings, &users(), &stages()).unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/owner", "/default_stage"]);
    }

    #[test]
    fn long_lists_are_cut() {
        let many: Vec<Stage> = (0..20)
            .map(|n| Stage {
                id: format!("s{n}"),
                text: format!("Stage {n}"),
            })
            .collect();
        let problem = resolve_stage("Nope", &many).unwrap_err();
        assert!(
            problem.message.contains("and 5 more"),
            "{}",
            problem.message
        );
    }
}
