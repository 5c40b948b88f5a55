//! The pull-request guard: rules that compare a template at the base revision with the head
//! (DDB020-DDB023), sharing the table matching of [`table_match`].

pub mod protection_weakened;
pub mod table_match;
pub mod table_removed;
pub mod table_renamed;
pub mod table_replaced;
