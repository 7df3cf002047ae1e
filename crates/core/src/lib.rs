//! Picket's domain: the types and rules every other crate agrees on, kept free of I/O so they can be tested and reused anywhere.

#[macro_use]
mod words;

pub mod accounts;
pub mod aggregate;
pub mod campaign;
pub mod comment;
pub mod domain_list;
pub mod error;
pub mod fact;
pub mod incident;
pub mod moderation;
pub mod money;
pub mod platform;
pub mod review;
pub mod secrets;
pub mod totp;
pub mod validation;
pub mod wave;
pub mod worker_ids;

pub use error::CoreError;
pub use validation::FieldErrors;
