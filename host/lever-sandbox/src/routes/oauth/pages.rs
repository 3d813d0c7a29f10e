//! The HTML of the OAuth flow: the consent page, error pages and Settings → Authorized Apps.
//! Self-contained (no external assets); every dynamic value goes through `html_escape`.

use crate::oauth::AuthorizedApp;
use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use http::{HeaderValue, StatusCode, header};
use lever_model::{Scope, ScopeSet};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;\
padding:0 1rem;color:#1d2330}h1{font-size:1.4rem}h2{font-size:1rem;margin-top:1.5rem}\
li{margin:.3rem 0}code{color:#5b6478;font-size:.85em}.note{color:#5b6478}\
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;\
border-bottom:1px solid #dde}";

/// A user the consent page offers under "Who is signing in?".
pub(super) struct Signer<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub access_role: &'a str,
}

/// A complete page with headers that keep it out of caches and frames (clickjacking).
pub(super) fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Lever sandbox</title><style>{STYLE}</style></head>\n<body>\n{body}\n\
         </body></html>\n",
        text(title)
    );
    let mut resp = (status, page).into_response();
    let h = resp.headers_mut();
    let set = |h: &mut http::HeaderMap, name, value| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    resp
}

/// An error the browser shows instead of redirecting (unknown client, unregistered
/// redirect URI, stale transaction): Auth0 does the same.
pub(super) fn error_page(status: StatusCode, heading: &str, message: &str) -> Response {
    html(
        status,
        heading,
        &format!("<h1>{}</h1>\n<p>{}</p>", text(heading), text(message)),
    )
}

pub(super) fn consent_page(
    app_name: &str,
    scopes: &ScopeSet,
    signers: &[Signer<'_>],
    default_signer: &str,
    transaction: &str,
) -> Response {
    let mut body = format!(
        "<h1>Authorize {name}</h1>\n<p><strong>{name}</strong> is requesting access to your \
         Lever account.</p>\n",
        name = text(app_name)
    );
    for (heading, group) in scope_groups(scopes) {
        if group.is_empty() {
            continue;
        }
        body.push_str(&format!("<h2>{}</h2>\n<ul>\n", text(heading)));
        for scope in group {
            body.push_str(&format!(
                "<li>{} <code>{}</code></li>\n",
                text(scope.plain_words()),
                text(scope.as_str())
            ));
        }
        body.push_str("</ul>\n");
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/authorize/decision\">\n\
         <input type=\"hidden\" name=\"transaction\" value=\"{}\">\n\
         <h2><label for=\"user_id\">Who is signing in?</label></h2>\n\
         <select id=\"user_id\" name=\"user_id\">\n",
        attr(transaction)
    ));
    for s in signers {
        let selected = if s.id == default_signer {
            " selected"
        } else {
            ""
        };
        body.push_str(&format!(
            "<option value=\"{}\"{selected}>{} ({})</option>\n",
            attr(s.id),
            text(s.name),
            text(s.access_role)
        ));
    }
    body.push_str(
        "</select>\n<p class=\"note\">Only a Lever Super Admin can authorize integrations.</p>\n\
         <p><button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n</form>",
    );
    html(StatusCode::OK, &format!("Authorize {app_name}"), &body)
}

/// Read scopes, write scopes, and the rest (offline access, confidential data).
fn scope_groups(scopes: &ScopeSet) -> [(&'static str, Vec<Scope>); 3] {
    let (mut read, mut write, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for s in scopes.iter() {
        if s.as_str().contains(":read:") {
            read.push(s);
        } else if s.as_str().contains(":write:") {
            write.push(s);
        } else {
            other.push(s);
        }
    }
    [
        ("It will be able to view", read),
        ("It will be able to view and change", write),
        ("It will also be able to", other),
    ]
}

/// Settings → Integrations → Authorized Apps. `user_name` resolves the consenting user.
pub(super) fn authorized_apps_page(
    apps: &[AuthorizedApp],
    user_name: impl Fn(&str) -> String,
) -> Response {
    let mut body = String::from("<h1>Authorized Apps</h1>\n");
    if apps.is_empty() {
        body.push_str("<p class=\"note\">No apps are connected to this Lever account.</p>");
        return html(StatusCode::OK, "Authorized Apps", &body);
    }
    body.push_str("<table>\n<tr><th>App</th><th>Authorized by</th><th>Scopes</th><th></th></tr>\n");
    for app in apps {
        let scopes: Vec<&str> = app.scopes.iter().map(Scope::as_str).collect();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>\
             <form method=\"post\" action=\"/settings/authorized-apps/{}/revoke\">\
             <button type=\"submit\">Revoke</button></form></td></tr>\n",
            text(&app.name),
            text(&user_name(&app.user_id)),
            text(&scopes.join(" ")),
            attr(&app.client_id)
        ));
    }
    body.push_str("</table>");
    html(StatusCode::OK, "Authorized Apps", &body)
}
