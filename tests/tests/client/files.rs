//! Multipart uploads (`resumeFile`, `files[]`, `file`) and downloads round-trip byte for byte.

use fulcrum_tests::{admin_client, start_sandbox};
use futures::TryStreamExt;
use lever_client::{Attachments, FileUpload, LeverError};
use lever_model::{NewOpportunity, Phone};
use lever_sandbox::SeedSpec;

fn pdf(label: &str) -> bytes::Bytes {
    // Not a renderer's output, but enough bytes (incl. non-UTF-8) to prove a faithful round trip.
    let mut body = format!("%PDF-1.4\n% {label}\n").into_bytes();
    body.extend((0..=255u8).cycle().take(40_000));
    body.extend_from_slice(b"\n%%EOF\n");
    body.into()
}

#[tokio::test]
async fn resume_and_files_upload_and_download_round_trip() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(41)).await;
    let client = admin_client(&sandbox);
    let user = sandbox.default_user_id();

    let resume = pdf("europass cv");
    let cover = pdf("cover letter");
    let body = NewOpportunity {
        name: Some("Zoë Ødegård".into()),
        emails: vec!["zoe@example.no".into()],
        phones: vec![Phone {
            kind: Some("mobile".into()),
            value: "+47 912 34 567".into(),
        }],
        tags: vec!["Senior".into(), "Backend".into()],
        ..Default::default()
    };
    let attachments = Attachments {
        resume: Some(FileUpload {
            name: "Zoë Ødegård — CV.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: resume.clone(),
        }),
        files: vec![FileUpload {
            name: "cover.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: cover.clone(),
        }],
    };
    let opp = client
        .create_opportunity(&user, &body, attachments)
        .await
        .unwrap();
    assert_eq!(
        opp.name.as_deref(),
        Some("Zoë Ødegård"),
        "multipart text fields are read"
    );
    assert_eq!(opp.tags.len(), 2, "multipart arrays are read");
    assert_eq!(opp.phones[0].value, "+47 912 34 567");

    let resumes: Vec<_> = client.resumes(&opp.id).try_collect().await.unwrap();
    assert_eq!(resumes.len(), 1);
    let file = resumes[0].file.as_ref().unwrap();
    assert_eq!(
        (file.name.as_str(), file.ext.as_str()),
        ("Zoë Ødegård — CV.pdf", "pdf")
    );
    assert_eq!(
        client
            .download_resume(&opp.id, &resumes[0].id)
            .await
            .unwrap(),
        resume
    );

    let files: Vec<_> = client.files(&opp.id).try_collect().await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].ext, ".pdf");
    assert_eq!(
        client.download_file(&opp.id, &files[0].id).await.unwrap(),
        cover
    );

    // A later upload through the `file` field.
    let transcript = pdf("screener transcript");
    let uploaded = client
        .upload_file(
            &opp.id,
            FileUpload {
                name: "transcript.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: transcript.clone(),
            },
            &user,
        )
        .await
        .unwrap();
    assert_eq!(uploaded.size, transcript.len() as u64);
    assert_eq!(
        client.download_file(&opp.id, &uploaded.id).await.unwrap(),
        transcript
    );
    assert_eq!(
        client
            .files(&opp.id)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len(),
        2
    );

    client
        .delete_file(&opp.id, &uploaded.id, &user)
        .await
        .unwrap();
    let err = client
        .download_file(&opp.id, &uploaded.id)
        .await
        .unwrap_err();
    assert!(matches!(err, LeverError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn file_upload_requires_perform_as() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 42,
        postings: 3,
        opportunities: 5,
    })
    .await;
    let client = admin_client(&sandbox);
    let opp = sandbox.read(|db| db.opportunities().next().unwrap().id.clone());
    let file = FileUpload {
        name: "x.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: pdf("x"),
    };
    let err = client.upload_file(&opp, file, "").await.unwrap_err();
    assert!(
        matches!(err, LeverError::Invalid { status: 400, .. }),
        "{err:?}"
    );
}
