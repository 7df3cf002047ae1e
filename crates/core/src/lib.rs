//! Picket's domain: the types and rules every other crate agrees on, kept free of I/O so they can be tested and reused anywhere.

pub mod accounts;
pub mod error;
pub mod secrets;
pub mod validation;

pub use error::CoreError;
pub use validation::FieldErrors;
