//! (issue 5) tests land with the observability work.
