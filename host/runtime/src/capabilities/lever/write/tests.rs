//! Digests of writes: stable, following the request, never holding file bytes.

use super::*;

fn note(value: &str) -> LeverWrite {
    LeverWrite::add_note(
        "u1".into(),
        "o1".into(),
        lm::NewNote {
            value: value.into(),
            ..Default::default()
        },
    )
}

fn upload(bytes: &[u8]) -> LeverWrite {
    LeverWrite::upload_file(
        "u1".into(),
        "o1".into(),
        FileUpload::new("cv.pdf", "application/pdf", bytes.to_vec()),
    )
}

#[test]
fn digests_are_stable_and_follow_the_request() {
    let digest = note("hello").digest().unwrap();
    assert_eq!(digest, note("hello").digest().unwrap(), "stable");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_ne!(digest, note("hello!").digest().unwrap(), "body");
    let other_target = LeverWrite::add_note(
        "u1".into(),
        "o2".into(),
        lm::NewNote {
            value: "hello".into(),
            ..Default::default()
        },
    );
    assert_ne!(digest, other_target.digest().unwrap(), "opportunity");
    let other_user = LeverWrite::add_note(
        "u2".into(),
        "o1".into(),
        lm::NewNote {
            value: "hello".into(),
            ..Default::default()
        },
    );
    assert_ne!(digest, other_user.digest().unwrap(), "perform_as");
    // Same arguments, other function.
    let add = LeverWrite::add_tags("u1".into(), "o1".into(), vec!["t".into()]);
    let remove = LeverWrite::remove_tags("u1".into(), "o1".into(), vec!["t".into()]);
    assert_ne!(add.digest().unwrap(), remove.digest().unwrap());
    // Pinned: a change here breaks the replay of every event journaled before it.
    assert_eq!(
        LeverWrite::change_stage("u1".into(), "o1".into(), "s1".into())
            .canonical()
            .unwrap(),
        json!({
            "function": "change-stage",
            "opportunity_id": "o1",
            "perform_as": "u1",
            "body": {"stage": "s1"},
            "files": [],
        })
    );
}

#[test]
fn file_bytes_are_digested_never_journaled() {
    let bytes = b"%PDF-1.4 a very personal document";
    let canonical = upload(bytes).canonical().unwrap();
    let text = canonical.to_string();
    assert!(!text.contains("very personal"), "{text}");
    assert_eq!(canonical["files"][0]["sha256"], json!(bytes_digest(bytes)));
    assert_eq!(canonical["files"][0]["size"], json!(bytes.len()));
    assert_eq!(
        upload(bytes).digest().unwrap(),
        upload(bytes).digest().unwrap()
    );
    assert_ne!(
        upload(bytes).digest().unwrap(),
        upload(b"%PDF-1.4 another document").digest().unwrap(),
        "other bytes, same name and type"
    );

    let create = |resume: &[u8]| {
        LeverWrite::create_opportunity(
            "u1".into(),
            lm::NewOpportunity {
                name: Some("Ada".into()),
                emails: vec!["ada@example.com".into()],
                ..Default::default()
            },
            Attachments {
                resume: Some(FileUpload::new(
                    "cv.pdf",
                    "application/pdf",
                    resume.to_vec(),
                )),
                files: vec![],
            },
        )
    };
    let canonical = create(bytes).canonical().unwrap();
    assert!(!canonical.to_string().contains("very personal"));
    assert_eq!(canonical["body"]["emails"], json!(["ada@example.com"]));
    assert_eq!(canonical["files"][0]["field"], "resumeFile");
    assert_ne!(
        create(bytes).digest().unwrap(),
        create(b"other").digest().unwrap()
    );
}

#[test]
fn writes_of_other_targets_name_them_and_leave_older_digests_alone() {
    let update = LeverWrite::update_contact(
        "c1".into(),
        lm::ContactUpdate {
            headline: Some("Analyst".into()),
            ..Default::default()
        },
    );
    // Pinned, like every canonical form.
    assert_eq!(
        update.canonical().unwrap(),
        json!({
            "function": "update-contact",
            "opportunity_id": null,
            "perform_as": "",
            "body": {"headline": "Analyst"},
            "files": [],
            "target": {"contact": "c1"},
        })
    );
    let other = LeverWrite::update_contact("c2".into(), lm::ContactUpdate::default());
    assert_ne!(update.digest().unwrap(), other.digest().unwrap());
    let delete = LeverWrite::delete_note("o1".into(), "n1".into());
    assert_eq!(delete.canonical().unwrap()["opportunity_id"], "o1");
    assert_eq!(delete.canonical().unwrap()["target"], json!({"note": "n1"}));
    // The writes of contract 0.1.0 carry no target.
    let stage = LeverWrite::change_stage("u1".into(), "o1".into(), "s1".into());
    assert!(stage.canonical().unwrap().get("target").is_none());
}
