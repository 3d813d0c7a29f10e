//! Every Lever function against the real sandbox, called directly on `HostCalls` (no guest
//! needed): mapping, cursors, limits, the policy around them, and the effect journal.

use super::*;
use crate::audit::{AuditOutcome, MemoryAuditLog};
use crate::bindings::fulcrum::connector::lever::Host as _;
use crate::bindings::fulcrum::connector::lever_hiring::{self as hwit, Host as _};
use crate::call::CallKind;
use crate::capabilities::testing;
use crate::config::RuntimeConfig;
use crate::grants::{Grants, InvocationContext};
use crate::journal::MemoryJournal;
use crate::state_store::MemoryStateStore;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{self as lm, Operation, Permission};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use std::collections::BTreeSet;
use std::sync::Arc;

struct Setup {
    sandbox: Sandbox,
    audit: Arc<MemoryAuditLog>,
}

async fn sandbox(seed: SeedSpec) -> Sandbox {
    Sandbox::start(
        SandboxConfig {
            seed,
            rate_limit: false,
            ..Default::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox")
}

fn access(sandbox: &Sandbox, key: KeySpec) -> LeverAccess {
    let mut config = ClientConfig::new(&sandbox.api_url()).expect("url");
    config.max_retries = 0;
    config.page_size = 3; // several Lever pages per host page
    let client =
        LeverClient::new(config, Credential::api_key(sandbox.issue_api_key(key))).expect("client");
    LeverAccess::new(client, sandbox.default_user_id())
}

impl Setup {
    async fn new(seed: SeedSpec) -> Self {
        Setup {
            sandbox: sandbox(seed).await,
            audit: Arc::new(MemoryAuditLog::new()),
        }
    }

    fn host(&self, grants: &[Permission], kind: CallKind, config: RuntimeConfig) -> HostCalls {
        let lever = access(&self.sandbox, KeySpec::all("unit"));
        self.host_with(grants, kind, config, lever)
    }

    fn host_with(
        &self,
        grants: &[Permission],
        kind: CallKind,
        config: RuntimeConfig,
        lever: LeverAccess,
    ) -> HostCalls {
        let ctx = InvocationContext::new(
            "t",
            "i",
            "unit",
            Arc::new(MemoryStateStore::new()),
            self.audit.clone(),
        )
        .with_grants(Grants::new(Permission::ALL, grants))
        .with_lever(lever);
        testing::state(
            config,
            testing::plugin(Permission::ALL, &[], &[]),
            ctx,
            kind,
        )
    }

    fn all(&self) -> HostCalls {
        self.host(Permission::ALL, CallKind::Action, RuntimeConfig::default())
    }
}

fn new_opportunity(name: &str, email: &str) -> wit::NewOpportunity {
    wit::NewOpportunity {
        name: name.into(),
        headline: None,
        emails: vec![email.into()],
        phones: vec![],
        location: None,
        links: vec![],
        tags: vec![],
        sources: vec![],
        origin: None,
        posting_id: None,
        stage_id: None,
        owner_id: None,
        acting_user: None,
        resume: None,
        files: vec![],
    }
}

/// A posting filter with only these fields set (also used by `convert` and `cursor` tests).
pub(in crate::capabilities::lever) fn posting_filter(
    states: Vec<wit::PostingState>,
    channels: Vec<wit::DistributionChannel>,
    updated_since: Option<i64>,
) -> wit::PostingFilter {
    wit::PostingFilter {
        states,
        channels,
        confidentiality: None,
        team: None,
        department: None,
        location: None,
        commitment: None,
        tag: None,
        updated_since,
        updated_until: None,
        cursor: None,
        limit: None,
    }
}

/// An opportunity filter with nothing set.
pub(in crate::capabilities::lever) fn opportunity_filter() -> wit::OpportunityFilter {
    wit::OpportunityFilter {
        email: None,
        contact_id: None,
        posting_id: None,
        archived_posting_id: None,
        tag: None,
        source: None,
        origin: None,
        stage_id: None,
        archive_reason_id: None,
        archived: None,
        confidentiality: None,
        created_since: None,
        created_until: None,
        updated_since: None,
        updated_until: None,
        advanced_since: None,
        advanced_until: None,
        cursor: None,
        limit: None,
    }
}

fn users_filter() -> wit::UserFilter {
    wit::UserFilter {
        include_deactivated: false,
        email: None,
        access_role: None,
    }
}

fn new_posting(title: &str) -> wit::NewPosting {
    wit::NewPosting {
        title: title.into(),
        state: None,
        distribution_channels: vec![],
        team: Some("Platform".into()),
        department: Some("Engineering".into()),
        location: Some("Berlin".into()),
        commitment: Some("Full-time".into()),
        workplace_type: Some(wit::WorkplaceType::Hybrid),
        description_html: Some("<p>Build the runtime.</p>".into()),
        closing_html: None,
        lists: vec![wit::PostingListSection {
            title: "You will".into(),
            content_html: "<li>ship</li>".into(),
        }],
        tags: vec!["rust".into()],
        requisition_codes: vec![],
        salary: None,
        salary_description_html: None,
        owner_id: None,
        hiring_manager_id: None,
        acting_user: None,
    }
}

fn posting_update() -> wit::PostingUpdate {
    wit::PostingUpdate {
        title: None,
        state: None,
        distribution_channels: None,
        team: None,
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
    }
}

fn new_application(name: &str, email: &str) -> wit::NewApplication {
    wit::NewApplication {
        name: name.into(),
        email: email.into(),
        phone: None,
        current_company: None,
        current_location: None,
        links: vec![],
        resume: None,
        source: None,
        origin: None,
    }
}

fn contact_update() -> wit::ContactUpdate {
    wit::ContactUpdate {
        name: None,
        headline: None,
        location: None,
        emails: None,
        phones: None,
    }
}

fn new_user(name: &str, email: &str) -> wit::NewUser {
    wit::NewUser {
        name: name.into(),
        email: email.into(),
        access_role: None,
        job_title: None,
        manager_id: None,
        external_directory_id: None,
    }
}

fn requisition_input(code: &str) -> hwit::RequisitionInput {
    hwit::RequisitionInput {
        code: code.into(),
        name: format!("Requisition {code}"),
        headcount_total: Some(2),
        status: None,
        backfill: false,
        hiring_manager_id: None,
        owner_id: None,
        location: Some("Berlin".into()),
        team: Some("Platform".into()),
        department: None,
        employment_status: None,
        compensation_band: None,
        internal_notes: None,
        custom_fields: String::new(),
    }
}

fn requisition_field_input(id: &str) -> hwit::RequisitionFieldInput {
    hwit::RequisitionFieldInput {
        id: id.into(),
        text: format!("Field {id}"),
        kind: "text".into(),
        required: false,
        options: vec![],
    }
}

fn requisition_filter() -> hwit::RequisitionFilter {
    hwit::RequisitionFilter {
        code: None,
        status: None,
        confidentiality: None,
        created_since: None,
        created_until: None,
    }
}

fn attachment(name: &str, bytes: &[u8]) -> wit::Attachment {
    wit::Attachment {
        name: name.into(),
        content_type: "application/pdf".into(),
        bytes: bytes.to_vec(),
    }
}

/// A client of the sandbox that sees everything (confidential data too): the tests' view of
/// what Lever holds.
fn raw(sandbox: &Sandbox) -> LeverClient {
    access(sandbox, KeySpec::all("raw").with_confidential(true)).client
}

/// Calls `function` with placeholder arguments (ids that do not exist): for the policy
/// checks, which run before any I/O. The error, if any.
async fn call_any(host: &mut HostCalls, function: LeverFunction) -> Option<PluginError> {
    let (o, x) = (|| "opp".to_owned(), || "item".to_owned());
    use LeverFunction as F;
    match function {
        F::ListPostings => host
            .list_postings(posting_filter(vec![], vec![], None))
            .await
            .err(),
        F::GetPosting => host.get_posting(x()).await.err(),
        F::CreatePosting => host.create_posting(new_posting("P")).await.err(),
        F::UpdatePosting => host.update_posting(x(), posting_update()).await.err(),
        F::ApplyToPosting => host
            .apply_to_posting(x(), new_application("A", "a@example.com"))
            .await
            .err(),
        F::FindOpportunities => host.find_opportunities(opportunity_filter()).await.err(),
        F::GetOpportunity => host.get_opportunity(o()).await.err(),
        F::CreateOpportunity => host
            .create_opportunity(new_opportunity("A", "a@example.com"))
            .await
            .err(),
        F::ChangeStage => host.change_stage(o(), x(), None).await.err(),
        F::Archive => host.archive(o(), x(), None).await.err(),
        F::Unarchive => host.unarchive(o(), None).await.err(),
        F::AddTags => host.add_tags(o(), vec!["t".into()], None).await.err(),
        F::RemoveTags => host.remove_tags(o(), vec!["t".into()], None).await.err(),
        F::AddSources => host.add_sources(o(), vec!["s".into()], None).await.err(),
        F::AddLinks => host
            .add_links(o(), vec!["https://x.example".into()], None)
            .await
            .err(),
        F::ListApplications => host.list_applications(o()).await.err(),
        F::GetApplication => host.get_application(o(), x()).await.err(),
        F::GetContact => host.get_contact(x()).await.err(),
        F::UpdateContact => host.update_contact(x(), contact_update()).await.err(),
        F::AddNote => host
            .add_note(
                o(),
                wit::NewNote {
                    value: "n".into(),
                    secret: false,
                    score: None,
                    acting_user: None,
                },
            )
            .await
            .err(),
        F::ListNotes => host.list_notes(o()).await.err(),
        F::GetNote => host.get_note(o(), x()).await.err(),
        F::DeleteNote => host.delete_note(o(), x()).await.err(),
        F::UploadFile => host
            .upload_file(o(), attachment("cv.pdf", b"%PDF"), None)
            .await
            .err(),
        F::ListFiles => host.list_files(o()).await.err(),
        F::GetFile => host.get_file(o(), x()).await.err(),
        F::DownloadFile => host.download_file(o(), x()).await.err(),
        F::ListResumes => host.list_resumes(o()).await.err(),
        F::GetResume => host.get_resume(o(), x()).await.err(),
        F::DownloadResume => host.download_resume(o(), x()).await.err(),
        F::ListStages => host.list_stages().await.err(),
        F::ListArchiveReasons => host.list_archive_reasons().await.err(),
        F::ListTags => host.list_tags().await.err(),
        F::ListSources => host.list_sources().await.err(),
        F::ListUsers => host.list_users(users_filter()).await.err(),
        F::GetUser => host.get_user(x()).await.err(),
        F::CreateUser => host.create_user(new_user("U", "u@example.com")).await.err(),
        F::ListInterviews => host.list_interviews(o()).await.err(),
        F::GetInterview => host.get_interview(o(), x()).await.err(),
        F::ListPanels => host.list_panels(o()).await.err(),
        F::GetPanel => host.get_panel(o(), x()).await.err(),
        F::ListFeedback => host.list_feedback(o()).await.err(),
        F::GetFeedback => host.get_feedback(o(), x()).await.err(),
        F::ListOffers => host.list_offers(o()).await.err(),
        F::ListReferrals => host.list_referrals(o()).await.err(),
        F::GetReferral => host.get_referral(o(), x()).await.err(),
        F::ListRequisitions => host.list_requisitions(requisition_filter()).await.err(),
        F::GetRequisition => host.get_requisition(x()).await.err(),
        F::CreateRequisition => host
            .create_requisition(requisition_input("R-1"))
            .await
            .err(),
        F::UpdateRequisition => host
            .update_requisition(x(), requisition_input("R-1"))
            .await
            .err(),
        F::ListRequisitionFields => host.list_requisition_fields().await.err(),
        F::GetRequisitionField => host.get_requisition_field(x()).await.err(),
        F::CreateRequisitionField => host
            .create_requisition_field(requisition_field_input("f"))
            .await
            .err(),
        F::UpdateRequisitionField => host
            .update_requisition_field(x(), requisition_field_input("f"))
            .await
            .err(),
    }
}

mod hiring;
mod journal;
mod listing;
mod people;
mod policy;
mod postings;
mod reconcile;
mod refusals;
mod writes;
