//! (issue 5) tests land with the lever_webhooks work.
