use super::*;

use crate::capabilities::lever::tests::posting_filter as filter;

fn posting(
    state: lm::PostingState,
    channels: Option<Vec<lm::DistributionChannel>>,
    at: Option<i64>,
) -> lm::Posting {
    lm::Posting {
        state,
        distribution_channels: channels,
        updated_at: at,
        ..Default::default()
    }
}

#[test]
fn an_updated_range_is_never_combined_with_other_posting_filters() {
    use wit::DistributionChannel::{Internal, Public};
    use wit::PostingState::{Closed, Published};
    let published_public = posting(
        lm::PostingState::Published,
        Some(vec![lm::DistributionChannel::Public]),
        Some(10),
    );
    let published_internal = posting(
        lm::PostingState::Published,
        Some(vec![lm::DistributionChannel::Internal]),
        Some(10),
    );
    let closed = posting(lm::PostingState::Closed, None, Some(10));
    let old_closed = posting(lm::PostingState::Closed, None, Some(9));

    // No updated range: everything goes to Lever, nothing is filtered here.
    let l = posting_listing(&filter(vec![Published], vec![Public], None));
    assert_eq!(l.query.state, [lm::PostingState::Published]);
    assert_eq!(
        l.query.distribution_channel,
        [lm::DistributionChannel::Public]
    );
    assert_eq!(l.query.updated_at_start, None);
    assert!(l.keeps(&closed) && l.keeps(&old_closed));

    // updated-since with states/channels: Lever gets only updated_at_start.
    let l = posting_listing(&filter(vec![Published, Closed], vec![Public], Some(10)));
    assert_eq!(l.query.updated_at_start, Some(10));
    assert!(l.query.state.is_empty() && l.query.distribution_channel.is_empty());
    assert_eq!(l.query.confidentiality, None);
    assert!(l.keeps(&published_public));
    assert!(!l.keeps(&published_internal), "not on the public channel");
    assert!(!l.keeps(&closed), "closed postings have no channels");
    let l = posting_listing(&filter(vec![Closed], vec![], Some(10)));
    assert!(l.keeps(&closed) && !l.keeps(&published_public));

    // An internal channel cannot be applied after Lever hid those postings: Lever gets
    // states/channels and the host applies updated-since.
    let l = posting_listing(&filter(vec![], vec![Internal], Some(10)));
    assert_eq!(l.query.updated_at_start, None);
    assert_eq!(
        l.query.distribution_channel,
        [lm::DistributionChannel::Internal]
    );
    assert!(l.keeps(&published_internal) && l.keeps(&closed));
    assert!(!l.keeps(&old_closed));
    assert!(!l.keeps(&posting(lm::PostingState::Closed, None, None)));
}

#[test]
fn categories_tags_ranges_and_confidentiality_follow_the_same_rule() {
    let mut f = filter(vec![], vec![], None);
    f.team = Some("Platform".into());
    f.location = Some("Berlin".into());
    f.tag = Some("rust".into());
    f.confidentiality = Some(wit::ConfidentialityFilter::All);
    // No range: Lever takes every filter.
    let l = posting_listing(&f);
    assert_eq!(l.query.team, ["Platform"]);
    assert_eq!(l.query.location, ["Berlin"]);
    assert_eq!(l.query.tag, ["rust"]);
    assert_eq!(l.query.confidentiality.as_deref(), Some("all"));
    assert!(l.keeps(&lm::Posting::default()), "Lever filtered");

    // With a range: Lever gets the range and the confidentiality only.
    f.updated_since = Some(10);
    f.updated_until = Some(20);
    let l = posting_listing(&f);
    assert_eq!(
        (l.query.updated_at_start, l.query.updated_at_end),
        (Some(10), Some(20))
    );
    assert_eq!(l.query.confidentiality.as_deref(), Some("all"));
    assert!(l.query.team.is_empty() && l.query.location.is_empty() && l.query.tag.is_empty());
    let matching = lm::Posting {
        categories: lm::PostingCategories {
            team: Some("Platform".into()),
            location: Some("Remote".into()),
            all_locations: vec!["Remote".into(), "Berlin".into()],
            ..Default::default()
        },
        tags: vec!["go".into(), "rust".into()],
        updated_at: Some(15),
        ..Default::default()
    };
    assert!(l.keeps(&matching), "any of its locations");
    let other_team = lm::Posting {
        categories: lm::PostingCategories {
            team: Some("Sales".into()),
            ..matching.categories.clone()
        },
        ..matching.clone()
    };
    assert!(!l.keeps(&other_team));
    let untagged = lm::Posting {
        tags: vec![],
        ..matching.clone()
    };
    assert!(!l.keeps(&untagged));
    let late = lm::Posting {
        updated_at: Some(21),
        ..matching.clone()
    };
    assert!(l.keeps(&late), "Lever applies the range");
    // With an internal channel the host applies the range, both ends inclusive.
    f.channels = vec![wit::DistributionChannel::Internal];
    let l = posting_listing(&f);
    assert_eq!(l.query.updated_at_start, None);
    assert_eq!(l.query.team, ["Platform"]);
    let at = |t| lm::Posting {
        updated_at: Some(t),
        ..Default::default()
    };
    assert!(l.keeps(&at(10)) && l.keeps(&at(20)));
    assert!(!l.keeps(&at(9)) && !l.keeps(&at(21)));
    f.channels = vec![];

    // The default is Lever's default, sent as nothing.
    f.confidentiality = Some(wit::ConfidentialityFilter::NonConfidential);
    assert_eq!(posting_listing(&f).query.confidentiality, None);
}

#[test]
fn applications_take_applied_or_internal_and_the_uploaded_resume() {
    let mut a = wit::NewApplication {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        phone: None,
        current_company: Some("Analytical Engines".into()),
        current_location: None,
        links: vec!["https://www.linkedin.com/in/ada".into()],
        resume: None,
        source: Some("Fixture".into()),
        origin: None,
    };
    let body = application_request(&a, Some("https://x/uploads/u1-cv.pdf".into())).unwrap();
    let names: Vec<&str> = body
        .personal_information
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["fullName", "email", "currentCompany", "resume"]);
    assert_eq!(body.urls[0].name, "LinkedIn");
    assert_eq!(body.origin, None);
    a.origin = Some(wit::Origin::Internal);
    assert_eq!(
        application_request(&a, None).unwrap().origin,
        Some(lm::Origin::Internal)
    );
    a.origin = Some(wit::Origin::Sourced);
    assert!(matches!(
        application_request(&a, None),
        Err(PluginError::Invalid(m)) if m.contains("applied or internal")
    ));
}

#[test]
fn a_partial_category_update_keeps_the_other_categories() {
    let current = lm::PostingCategories {
        team: Some("Platform".into()),
        department: Some("Engineering".into()),
        location: Some("Berlin".into()),
        all_locations: vec!["Berlin".into()],
        ..Default::default()
    };
    let update = wit::PostingUpdate {
        title: None,
        state: None,
        distribution_channels: None,
        team: Some("Infra".into()),
        department: None,
        location: None,
        commitment: None,
        workplace_type: None,
        description_html: None,
        closing_html: None,
        tags: None,
        requisition_codes: None,
        salary: None,
        salary_description_html: None,
        owner_id: None,
        hiring_manager_id: None,
        acting_user: None,
    };
    assert!(updates_categories(&update));
    let body = posting_update(&update, Some(&current));
    let categories = body.categories.expect("categories sent");
    assert_eq!(categories.team.as_deref(), Some("Infra"));
    assert_eq!(categories.department.as_deref(), Some("Engineering"));
    assert_eq!(categories.all_locations, ["Berlin"]);
    assert!(
        body.text.is_none() && body.tags.is_none(),
        "only what was given"
    );
}
