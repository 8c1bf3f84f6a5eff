//! The verbs: each takes its parsed arguments and returns what to print on stdout, or a
//! [`Failure`](crate::exit::Failure).

pub(crate) mod call;
pub(crate) mod describe;
pub(crate) mod health;
pub(crate) mod list;
