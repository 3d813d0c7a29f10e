//! A program playing the Lever admin on the sandbox's consent page, for the demo, tests and
//! scripts: open the authorize URL as a browser would, pick the user who signs in, click
//! Accept (or Deny), and return where the sandbox sends the browser next (the app's redirect
//! URI with `code` and `state`, or with `error`). It reads the page's form as a browser does
//! (the hidden `transaction` field), so it exercises the same HTML a person sees.

use url::Url;

/// Why the consent could not be played through.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("the sandbox could not be reached: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the authorize URL answered {status} instead of the consent page: {body}")]
    NoConsentPage { status: u16, body: String },
    #[error("the consent page has no form to answer: {0}")]
    NoForm(String),
    #[error("the sandbox did not redirect after the decision (status {0})")]
    NoRedirect(u16),
}

/// The admin's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Deny,
}

/// Opens `authorize_url` (the sandbox's `/authorize?...`), signs in as `user_id`, answers
/// `decision`, and returns the redirect target (not followed).
pub async fn answer_consent(
    authorize_url: &str,
    user_id: &str,
    decision: Decision,
) -> Result<Url, ConsentError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = http.get(authorize_url).send().await?;
    let status = page.status().as_u16();
    let base = page.url().clone();
    let html = page.text().await?;
    if status != 200 {
        return Err(ConsentError::NoConsentPage {
            status,
            body: html.chars().take(300).collect(),
        });
    }
    let transaction = hidden_value(&html, "transaction")
        .ok_or_else(|| ConsentError::NoForm("no hidden `transaction` input".into()))?;
    let action = form_action(&html).ok_or_else(|| ConsentError::NoForm("no form action".into()))?;
    let action = base
        .join(&action)
        .map_err(|e| ConsentError::NoForm(format!("form action: {e}")))?;
    let decision = match decision {
        Decision::Accept => "accept",
        Decision::Deny => "deny",
    };
    let answer = http
        .post(action)
        .form(&[
            ("transaction", transaction.as_str()),
            ("user_id", user_id),
            ("decision", decision),
        ])
        .send()
        .await?;
    let status = answer.status().as_u16();
    answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| base.join(l).ok())
        .ok_or(ConsentError::NoRedirect(status))
}

/// The `value` of `<input type="hidden" name="NAME" value="...">` (attribute-escaped).
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    attribute(&html[tag_start..tag_end], "value")
}

fn form_action(html: &str) -> Option<String> {
    let at = html.find("<form")?;
    let end = at + html[at..].find('>')?;
    attribute(&html[at..end], "action")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let len = tag[start..].find('"')?;
    Some(html_escape::decode_html_entities(&tag[start..start + len]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_like_a_browser() {
        let html = r#"<form method="post" action="/authorize/decision">
            <input type="hidden" name="transaction" value="a&amp;b">"#;
        assert_eq!(hidden_value(html, "transaction").as_deref(), Some("a&b"));
        assert_eq!(form_action(html).as_deref(), Some("/authorize/decision"));
        assert_eq!(hidden_value(html, "other"), None);
    }
}
