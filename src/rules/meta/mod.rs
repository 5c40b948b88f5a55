//! Rules about the template and the guard itself rather than one table's settings: what
//! cannot be seen or resolved (DDB006 nested template not visible, DDB007 template not
//! checked, DDB008 resource type, DDB009 transform) and the audited suppressions
//! (DDB900 malformed, DDB901 unused, DDB902 added in a pull request), whose directives are
//! read in [`directive`].

pub mod directive;
pub mod guard_weakened;
pub mod invalid_suppression;
pub mod template_not_checked;
pub mod template_not_visible;
pub mod unknown_transform;
pub mod unresolved_type;
pub mod unused_suppression;
