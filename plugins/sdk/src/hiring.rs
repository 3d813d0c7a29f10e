//! What follows an opportunity into the pipeline (interviews, panels, feedback, offers,
//! referrals) and requisitions: every generated function and type of `lever-hiring`. Each
//! call needs its Lever permission, like [`crate::lever`].

pub use crate::bindings::fulcrum::connector::lever_hiring::*;
