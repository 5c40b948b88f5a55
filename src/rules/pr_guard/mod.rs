//! The pull-request guard: rules that compare a template at the base revision with the head
//! (DDB020-DDB023), sharing the table matching of [`table_match`].

pub mod protection_weakened;
pub mod table_match;
pub mod table_removed;
pub mod table_renamed;
pub mod table_replaced;

/// What the pull-request guard's rules learn of one comparison, learnt once for all of them
/// ([`crate::rules::Comparison::pr_guard`]): each base table's fate (DDB020-DDB023 each
/// asked for it), and what is proven the same at both revisions (DDB021's and DDB022's
/// values read sections and resources that many tables share; proving them again for each
/// table was quadratic).
#[derive(Default)]
pub struct Memo<'a, 'd> {
    pub(crate) fates: std::sync::OnceLock<Vec<table_match::Fated<'a, 'd>>>,
    pub(crate) proofs: table_replaced::Proofs,
}
