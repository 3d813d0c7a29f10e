//! Job sync: Lever postings → pending jobs at Remote Tech Work, and the links Remote Tech
//! Work makes between them and its own jobs.

use crate::model::LinkKind;
use crate::records::{self, JobLink, Pass, SentJob, SyncCursor};
use crate::settings::{Settings, posting_state_name};
use crate::{API_TOKEN, VENDOR_ORIGIN};
use fulcrum_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Postings read per Lever page.
const PAGE: u32 = 50;
/// An incremental pass looks this far before the last `updated_at` it saw, in case Lever
/// commits an update with an earlier time after a listing (the digests make the overlap free).
pub const MARGIN_MS: i64 = 5 * 60 * 1000;
/// Host calls a run plans to use at most (the host allows 1,000 per invocation).
const CALL_BUDGET: u32 = 850;

/// A posting as Remote Tech Work receives it (`PUT /v1/integrations/lever/jobs/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingJob {
    pub lever_posting_id: String,
    /// How Remote Tech Work files a job it does not know yet: pending, until someone links it
    /// to one of its jobs or creates one for it. Jobs already linked keep their link.
    pub status: &'static str,
    /// The posting's state in Lever (`published`, `closed`, ...): a posting that leaves the
    /// synced states is sent once more with its new state.
    pub lever_state: &'static str,
    pub title: String,
    /// The whole job ad as plain text (opening, lists, closing).
    pub description: String,
    /// The whole job ad as HTML.
    pub description_html: String,
    pub location: Option<String>,
    pub all_locations: Vec<String>,
    pub team: Option<String>,
    pub department: Option<String>,
    pub commitment: Option<String>,
    /// `remote`, `hybrid`, `onsite`, or null when Lever does not say.
    pub workplace_type: Option<&'static str>,
    pub country: Option<String>,
    pub salary: Option<Salary>,
    /// Lever's apply link (the job page's form).
    pub apply_url: Option<String>,
    /// Lever's public job page.
    pub posting_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Salary {
    pub min: f64,
    pub max: f64,
    pub currency: String,
    pub interval: String,
}

fn some(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub fn pending_job(p: &lever::Posting) -> PendingJob {
    let mut html = p.description_html.trim().to_owned();
    let mut text = html_to_text(&p.description_html);
    if text.is_empty() {
        text = p.description.trim().to_owned();
    }
    for list in &p.lists {
        html.push_str(&format!(
            "<h3>{}</h3><ul>{}</ul>",
            escape(&list.title),
            list.content_html
        ));
        let items = html_to_text(&list.content_html);
        push_paragraph(&mut text, &format!("{}\n{}", list.title.trim(), items));
    }
    if !p.closing_html.trim().is_empty() {
        html.push_str(p.closing_html.trim());
        push_paragraph(&mut text, &html_to_text(&p.closing_html));
    }
    PendingJob {
        lever_posting_id: p.id.clone(),
        status: "pending",
        lever_state: posting_state_name(p.state),
        title: p.title.trim().to_owned(),
        description: text,
        description_html: html,
        location: some(&p.location),
        all_locations: p.all_locations.clone(),
        team: some(&p.team),
        department: some(&p.department),
        commitment: some(&p.commitment),
        workplace_type: match p.workplace_type {
            lever::WorkplaceType::Remote => Some("remote"),
            lever::WorkplaceType::Hybrid => Some("hybrid"),
            lever::WorkplaceType::Onsite => Some("onsite"),
            lever::WorkplaceType::Unspecified => None,
        },
        country: some(&p.country),
        salary: p.salary.as_ref().map(|s| Salary {
            min: s.min,
            max: s.max,
            currency: s.currency.clone(),
            interval: s.interval.clone(),
        }),
        apply_url: some(&p.apply_url),
        posting_url: some(&p.show_url),
    }
}

fn push_paragraph(text: &mut String, paragraph: &str) {
    let paragraph = paragraph.trim();
    if paragraph.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(paragraph);
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Plain text of a job ad's HTML: list items become "- " lines, blocks become lines, tags
/// go, common entities are decoded, blank runs collapse.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        match name.as_str() {
            "li" if !tag.starts_with('/') => out.push_str("\n- "),
            "br" | "p" | "div" | "ul" | "ol" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "tr" => out.push('\n'),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    let lines: Vec<String> = decoded
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() || line == "-" {
            blank = !text.is_empty();
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank && !line.starts_with("- ") {
                "\n\n"
            } else {
                "\n"
            });
        }
        text.push_str(&line);
        blank = false;
    }
    text
}

/// SHA-256 (hex) of the pending job's JSON: what decides whether it must be sent again.
pub fn digest(job: &PendingJob) -> String {
    let bytes = serde_json::to_vec(job).expect("a pending job serializes");
    hex::encode(Sha256::digest(bytes))
}

/// Link information Remote Tech Work may put in its answer to the PUT.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PutAnswer {
    rtw_job_id: Option<String>,
    link: Option<LinkKind>,
}

enum Pushed {
    Sent(Option<(String, LinkKind)>),
    Refused(String),
}

/// `/v1/integrations/lever/jobs/{id}` with the id percent-encoded.
pub fn job_url(posting_id: &str) -> String {
    let mut encoded = String::new();
    for b in posting_id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{VENDOR_ORIGIN}/v1/integrations/lever/jobs/{encoded}")
}

fn push(token: &str, job: &PendingJob) -> Result<Pushed, Error> {
    let request = vendor::Request::new(vendor::Method::Put, job_url(&job.lever_posting_id))
        .bearer(token)
        .header("accept", "application/json")
        .json(job)?;
    let response = vendor::send(&request)?;
    match response.status {
        200..=299 => {
            let answer: PutAnswer = serde_json::from_slice(&response.body).unwrap_or_default();
            Ok(Pushed::Sent(match (answer.rtw_job_id, answer.link) {
                (Some(id), Some(link)) if crate::model::check_id("rtw_job_id", &id).is_ok() => {
                    Some((id, link))
                }
                _ => None,
            }))
        }
        401 | 403 => Err(Error::vendor_error(format!(
            "Remote Tech Work refused the {API_TOKEN} secret ({}): a tenant admin must set a valid token",
            response.status
        ))),
        429 | 500..=599 => Err(response
            .error_for_status()
            .err()
            .unwrap_or_else(|| Error::unavailable("Remote Tech Work failed"))),
        status => Ok(Pushed::Refused(format!(
            "{status}: {}",
            response.text().chars().take(300).collect::<String>()
        ))),
    }
}

/// Records that Remote Tech Work linked `posting_id` to its job `rtw_job_id` (both
/// directions); replaces an earlier link of either.
pub fn record_link(
    posting_id: &str,
    rtw_job_id: &str,
    link: LinkKind,
    at: Option<i64>,
) -> Result<bool, Error> {
    let current: Option<JobLink> = records::get(&records::link_key(posting_id))?;
    if current
        .as_ref()
        .is_some_and(|c| c.rtw_job_id == rtw_job_id && c.link == link)
    {
        return Ok(false);
    }
    if let Some(old) = &current
        && old.rtw_job_id != rtw_job_id
    {
        state::delete(&records::rtw_job_key(&old.rtw_job_id))?;
    }
    let previous_posting: Option<String> = state::get(&records::rtw_job_key(rtw_job_id))?;
    if let Some(other) = previous_posting
        && other != posting_id
    {
        state::delete(&records::link_key(&other))?;
    }
    records::put(
        &records::link_key(posting_id),
        &JobLink {
            rtw_job_id: rtw_job_id.to_owned(),
            link,
            linked_at: at,
        },
    )?;
    state::set(&records::rtw_job_key(rtw_job_id), posting_id)?;
    Ok(true)
}

/// The Lever posting linked to a Remote Tech Work job.
pub fn linked_posting(rtw_job_id: &str) -> Result<Option<String>, Error> {
    state::get(&records::rtw_job_key(rtw_job_id))
}

/// What a sync run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// `full` (every posting in the synced states) or `incremental` (updated ones).
    pub pass: &'static str,
    pub listed: u32,
    pub pushed: u32,
    pub unchanged: u32,
    /// Postings in states that are not synced (and never were).
    pub not_synced: u32,
    /// Postings Remote Tech Work refused (4xx); tried again in later passes.
    pub refused: u32,
    pub links_recorded: u32,
    /// Whether the pass finished; otherwise the next run continues it.
    pub complete: bool,
}

/// One sync run: continues or starts a pass and pushes at most `sync_batch` changed
/// postings.
pub fn sync(settings: &Settings) -> Result<SyncReport, Error> {
    let token = crate::api_token()?;
    let mut cursor: SyncCursor = records::get(records::SYNC_CURSOR)?.unwrap_or_default();
    let states = settings.posting_state_names();
    let mut pass = if cursor.states != states {
        // First run, or the config changed which states are synced: everything again.
        cursor.states = states;
        Pass {
            updated_since: None,
            page: None,
            max_seen: None,
        }
    } else if let Some(pass) = cursor.pass.take() {
        pass
    } else {
        Pass {
            updated_since: cursor.updated_since.map(|t| t - MARGIN_MS),
            page: None,
            max_seen: None,
        }
    };
    let mut report = SyncReport {
        pass: if pass.updated_since.is_none() {
            "full"
        } else {
            "incremental"
        },
        ..SyncReport::default()
    };
    let batch = settings.sync_batch;
    let mut calls: u32 = 2;
    loop {
        // The most a page can cost: the listing, a state read per posting, and per push the
        // request and up to four state writes.
        let page_cost = 1 + PAGE + (batch - report.pushed) * 5;
        if calls + page_cost > CALL_BUDGET {
            break;
        }
        let filter = lever::PostingFilter {
            states: if pass.updated_since.is_none() {
                settings.posting_states.clone()
            } else {
                Vec::new()
            },
            updated_since: pass.updated_since,
            cursor: pass.page.clone(),
            limit: Some(PAGE),
            ..Default::default()
        };
        let page = match lever::list_postings(&filter) {
            Ok(page) => page,
            Err(Error::Invalid(reason)) if pass.page.is_some() => {
                // Lever no longer accepts the saved cursor: start this pass again (the
                // digests skip what was already sent).
                log::warn(format_args!(
                    "posting sync: restarting the pass, the saved cursor was refused ({reason})"
                ));
                pass.page = None;
                calls += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        calls += 1;
        let mut stopped = false;
        for posting in &page.postings {
            report.listed += 1;
            let seen = posting.updated_at.unwrap_or(posting.created_at);
            pass.max_seen = Some(pass.max_seen.map_or(seen, |m| m.max(seen)));
            let synced_state = settings.posting_states.contains(&posting.state);
            let sent: Option<SentJob> = records::get(&records::sent_key(&posting.id))?;
            calls += 1;
            if !synced_state && !sent.as_ref().is_some_and(|s| s.synced_state) {
                report.not_synced += 1;
                continue;
            }
            let job = pending_job(posting);
            let digest = digest(&job);
            if sent.as_ref().is_some_and(|s| s.digest == digest) {
                report.unchanged += 1;
                continue;
            }
            if report.pushed >= batch {
                stopped = true;
                break;
            }
            calls += 1;
            match push(&token, &job)? {
                Pushed::Sent(link) => {
                    report.pushed += 1;
                    records::put(
                        &records::sent_key(&posting.id),
                        &SentJob {
                            digest,
                            lever_state: job.lever_state.to_owned(),
                            synced_state,
                        },
                    )?;
                    calls += 1;
                    if let Some((rtw_job_id, link)) = link {
                        calls += 3;
                        if record_link(&posting.id, &rtw_job_id, link, None)? {
                            report.links_recorded += 1;
                        }
                    }
                }
                Pushed::Refused(reason) => {
                    report.refused += 1;
                    log::warn(format_args!(
                        "Remote Tech Work refused posting {}: {reason}",
                        posting.id
                    ));
                    calls += 1;
                }
            }
        }
        if stopped {
            break;
        }
        match page.next_cursor {
            Some(next) => pass.page = Some(next),
            None => {
                report.complete = true;
                break;
            }
        }
    }
    if report.complete {
        // Until a pass has seen a posting, the next pass is a full one again (cheap: there
        // is nothing in the synced states).
        cursor.updated_since = match (cursor.updated_since, pass.max_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if pass.updated_since.is_none() {
            cursor.full_passes += 1;
        }
        cursor.pass = None;
    } else {
        cursor.pass = Some(pass);
    }
    records::put(records::SYNC_CURSOR, &cursor)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn posting() -> lever::Posting {
        lever::Posting {
            id: "0f5e3e48-5a54-4e4e-9b8f-2d8f0c7f6a01".into(),
            title: " Senior Rust Engineer ".into(),
            state: lever::PostingState::Published,
            distribution_channels: vec![lever::DistributionChannel::Public],
            confidentiality: lever::Confidentiality::NonConfidential,
            team: Some("Platform".into()),
            department: Some("Engineering".into()),
            location: Some("Lisbon".into()),
            all_locations: vec!["Lisbon".into(), "Remote".into()],
            commitment: Some("Full-time".into()),
            level: None,
            workplace_type: lever::WorkplaceType::Remote,
            country: Some("PT".into()),
            description: "Join us.".into(),
            description_html: "<div><b>Join</b> us &amp; build.</div>".into(),
            lists: vec![lever::PostingListSection {
                title: "Requirements".into(),
                content_html: "<li>Rust</li><li>SQL</li>".into(),
            }],
            closing_html: "<p>Apply&nbsp;now</p>".into(),
            tags: vec![],
            salary: None,
            salary_description: None,
            salary_description_html: None,
            requisition_codes: vec![],
            owner_id: None,
            hiring_manager_id: None,
            follower_ids: vec![],
            list_url: Some("https://jobs.lever.co/acme".into()),
            show_url: Some("https://jobs.lever.co/acme/0f5e".into()),
            apply_url: Some("https://jobs.lever.co/acme/0f5e/apply".into()),
            created_at: 1,
            updated_at: Some(2),
        }
    }

    #[test]
    fn maps_a_posting() {
        let job = pending_job(&posting());
        assert_eq!(job.title, "Senior Rust Engineer");
        assert_eq!(job.status, "pending");
        assert_eq!(job.lever_state, "published");
        assert_eq!(job.workplace_type, Some("remote"));
        assert_eq!(job.team.as_deref(), Some("Platform"));
        assert_eq!(job.commitment.as_deref(), Some("Full-time"));
        assert_eq!(
            job.apply_url.as_deref(),
            Some("https://jobs.lever.co/acme/0f5e/apply")
        );
        assert_eq!(
            job.description,
            "Join us & build.\n\nRequirements\n- Rust\n- SQL\n\nApply now"
        );
        assert!(
            job.description_html
                .contains("<h3>Requirements</h3><ul><li>Rust</li>")
        );
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(
            json["lever_posting_id"],
            "0f5e3e48-5a54-4e4e-9b8f-2d8f0c7f6a01"
        );
        assert_eq!(json["location"], "Lisbon");
    }

    #[test]
    fn digests_follow_content_not_timestamps() {
        let a = posting();
        let mut b = posting();
        b.updated_at = Some(99);
        assert_eq!(digest(&pending_job(&a)), digest(&pending_job(&b)));
        b.title = "Staff Rust Engineer".into();
        assert_ne!(digest(&pending_job(&a)), digest(&pending_job(&b)));
        let mut closed = posting();
        closed.state = lever::PostingState::Closed;
        assert_ne!(digest(&pending_job(&a)), digest(&pending_job(&closed)));
        assert_eq!(digest(&pending_job(&a)).len(), 64);
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(html_to_text("<p>One</p><p>Two &lt;3</p>"), "One\n\nTwo <3");
        assert_eq!(html_to_text("<ul><li>a</li><li> b </li></ul>"), "- a\n- b");
        assert_eq!(html_to_text("plain"), "plain");
        assert_eq!(html_to_text("broken <b"), "broken <b");
    }

    #[test]
    fn job_urls_encode_ids() {
        assert_eq!(
            job_url("abc-1"),
            "https://api.remotetech.work/v1/integrations/lever/jobs/abc-1"
        );
        assert!(job_url("a/b c").ends_with("/jobs/a%2Fb%20c"));
    }
}
