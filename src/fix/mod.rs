//! Fixes as rules build them: text edits shaped like the text around them ([`edit`]) and
//! the shared builders that set an attribute or a property ([`build`]). This layer sits
//! between the loader and the rules (it knows the tree and the fix vocabulary of
//! [`crate::finding`], never a rule); the engine that applies fixes to files, re-checks and
//! verifies them is [`crate::fix_engine`], above the rules.

pub mod build;
pub mod edit;
