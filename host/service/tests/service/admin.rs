//! (issue 5) tests land with the admin work.
