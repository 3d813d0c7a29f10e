//! Requisitions, requisition fields and user creation against the sandbox over HTTP, plus
//! the list filters added to the opportunity and posting queries.

use super::*;
use crate::query::RequisitionQuery;
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig};

async fn sandbox() -> (Sandbox, LeverClient) {
    let config = SandboxConfig {
        rate_limit: false,
        ..Default::default()
    };
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = LeverClient::new(
        fast_config(&sb.api_url()),
        Credential::api_key(sb.demo_api_key()),
    )
    .unwrap();
    (sb, c)
}

#[tokio::test]
async fn requisitions_list_get_create_update() {
    let (sb, c) = sandbox().await;
    let all: Vec<Requisition> = c
        .requisitions(RequisitionQuery {
            confidentiality: Some("all".into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(all.len() > 5);
    let open: Vec<Requisition> = c
        .requisitions(RequisitionQuery {
            status: vec![RequisitionStatus::Open],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(!open.is_empty());
    assert!(open.iter().all(|r| r.status == RequisitionStatus::Open));
    let first = &all[0];
    let by_code: Vec<Requisition> = c
        .requisitions(RequisitionQuery {
            requisition_code: vec![first.requisition_code.clone()],
            created_at_start: Some(first.created_at),
            created_at_end: Some(first.created_at),
            confidentiality: Some("all".into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_code, vec![first.clone()]);
    assert_eq!(&c.requisition(&first.id).await.unwrap(), first);
    let missing = c.requisition("nope").await.unwrap_err();
    assert!(
        matches!(missing, LeverError::NotFound { .. }),
        "{missing:?}"
    );

    let mut body = NewRequisition {
        requisition_code: "CLI-1".into(),
        name: "Client Engineer".into(),
        headcount_total: Some(HeadcountTotal::Count(2)),
        location: Some("Lisbon".into()),
        ..Default::default()
    };
    body.custom_fields
        .insert("cost_center".into(), serde_json::json!("cc_rnd"));
    let made = c.create_requisition(&body).await.unwrap();
    assert_eq!(made.requisition_code, "CLI-1");
    assert_eq!(made.headcount_total, 2);
    assert_eq!(made.status, RequisitionStatus::Open);
    assert_eq!(made.custom_fields["cost_center"], "cc_rnd");
    let dup = c.create_requisition(&body).await.unwrap_err();
    assert_eq!(dup.status(), Some(409), "{dup:?}");
    let bad = c
        .create_requisition(&NewRequisition {
            name: "No code".into(),
            headcount_total: Some(HeadcountTotal::Count(1)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(400));

    let replaced = c
        .update_requisition(
            &made.id,
            &RequisitionUpdate {
                requisition_code: "CLI-1".into(),
                name: "Client Engineer II".into(),
                headcount_total: Some(HeadcountTotal::unlimited()),
                status: Some(RequisitionStatus::OnHold),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(replaced.name, "Client Engineer II");
    assert!(replaced.headcount_infinite);
    assert_eq!(replaced.status, RequisitionStatus::OnHold);
    assert_eq!(replaced.location, None, "PUT is a full replace");
    assert_eq!(replaced.created_at, made.created_at);
    sb.shutdown().await;
}

#[tokio::test]
async fn requisition_fields_round_trip() {
    let (sb, c) = sandbox().await;
    let fields: Vec<RequisitionField> = c.requisition_fields().try_collect().await.unwrap();
    let cost = fields.iter().find(|f| f.id == "cost_center").unwrap();
    assert_eq!(cost.kind, RequisitionFieldType::Dropdown);
    assert_eq!(&c.requisition_field("cost_center").await.unwrap(), cost);
    let body = NewRequisitionField {
        id: "seniority".into(),
        text: "Seniority".into(),
        kind: Some(RequisitionFieldType::Dropdown),
        is_required: false,
        options: vec![
            NewFieldOption {
                id: None,
                text: "Senior Staff".into(),
            },
            NewFieldOption {
                id: Some("junior".into()),
                text: "Junior".into(),
            },
        ],
        subfields: vec![],
    };
    let made = c.create_requisition_field(&body).await.unwrap();
    assert_eq!(made.options[0].id, "senior_staff");
    let again = c.create_requisition_field(&body).await.unwrap_err();
    assert_eq!(again.status(), Some(409));
    let updated = c
        .update_requisition_field(
            "seniority",
            &RequisitionFieldUpdate {
                text: "Level".into(),
                kind: Some(RequisitionFieldType::Text),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.kind, RequisitionFieldType::Text);
    assert!(updated.options.is_empty());
    let err = c.requisition_field("nope").await.unwrap_err();
    assert!(matches!(err, LeverError::NotFound { .. }));
    sb.shutdown().await;
}

#[tokio::test]
async fn agency_recruiter_user_and_filters() {
    let (sb, c) = sandbox().await;
    assert_eq!(
        c.user_by_email("recruiter@spottabl.com").await.unwrap(),
        None
    );
    let made = c
        .create_user(&NewUser {
            name: "Spottabl Recruiter".into(),
            email: "recruiter@spottabl.com".into(),
            access_role: Some("limited team member".into()),
            external_directory_id: Some("spottabl|42".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(made.access_role, "limited team member");
    assert!(made.is_active());
    let found = c.user_by_email("Recruiter@Spottabl.com").await.unwrap();
    assert_eq!(found.as_ref(), Some(&made));
    let dup = c
        .create_user(&NewUser {
            name: "Twice".into(),
            email: "RECRUITER@spottabl.com".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(400));
    let interviewer = c
        .create_user(&NewUser {
            name: "Panel Guest".into(),
            email: "guest@spottabl.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(interviewer.access_role, "interviewer");
    let by_dir: Vec<User> = c
        .users(UserQuery {
            external_directory_id: Some("spottabl|42".into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_dir, vec![made]);
    sb.shutdown().await;
}

#[tokio::test]
async fn added_opportunity_and_posting_filters_reach_the_sandbox() {
    let (sb, c) = sandbox().await;
    let all: Vec<Opportunity> = c
        .opportunities(OpportunityQuery::default())
        .try_collect()
        .await
        .unwrap();
    let location = all.iter().find_map(|o| o.location.clone()).unwrap();
    let here: Vec<Opportunity> = c
        .opportunities(OpportunityQuery {
            location: vec![location.clone()],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        here.len(),
        all.iter()
            .filter(|o| o.location.as_deref() == Some(location.as_str()))
            .count()
    );
    let not_snoozed: Vec<Opportunity> = c
        .opportunities(OpportunityQuery {
            snoozed: Some(false),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let now = lever_model::timestamp::now_millis();
    assert_eq!(
        not_snoozed.len(),
        all.iter()
            .filter(|o| o.snoozed_until.is_none_or(|t| t <= now))
            .count()
    );
    let archived_on: Vec<Opportunity> = c
        .opportunities(OpportunityQuery {
            archived_posting_id: vec!["no-such-posting".into()],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(archived_on.is_empty());
    let levels: Vec<Posting> = c
        .postings(PostingQuery {
            level: vec!["no-such-level".into()],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(levels.is_empty());
    // A key without the toggle is refused confidential requisitions.
    let plain = LeverClient::new(
        fast_config(&sb.api_url()),
        Credential::api_key(sb.issue_api_key(KeySpec::all("plain"))),
    )
    .unwrap();
    let err = plain
        .requisitions(RequisitionQuery {
            confidentiality: Some("confidential".into()),
            ..Default::default()
        })
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    sb.shutdown().await;
}
