//! The protection layers of one table, decided by the rules' own proofs so that the
//! inventory and `check` can never disagree: DDB001 (retained on delete), DDB002
//! (retained on replace), DDB003 (deletion protection), DDB004 (point-in-time recovery)
//! and DDB005 (covered by an AWS Backup selection).

use super::ResourceView;
use super::{
    backup_plan, deletion_policy, deletion_protection, point_in_time_recovery,
    update_replace_policy,
};

/// Whether a layer protects a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerState {
    /// In every case: every `Fn::If` branch and allowed parameter value.
    Proven,
    /// Only in some cases; the text says in which it does not (or only when it does).
    Conditional(String),
    /// In no case, or it cannot be proven at all.
    No,
}

impl LayerState {
    pub fn holds(&self) -> bool {
        *self == LayerState::Proven
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            LayerState::Conditional(why) => Some(why),
            _ => None,
        }
    }
}

/// Every layer of one table, in the inventory's column order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layers {
    pub retained_on_delete: LayerState,
    pub retained_on_replace: LayerState,
    pub deletion_protection: LayerState,
    pub pitr: LayerState,
    pub backup_plan: LayerState,
}

impl Layers {
    /// The layers with their JSON names.
    pub fn named(&self) -> [(&'static str, &LayerState); 5] {
        [
            ("retained_on_delete", &self.retained_on_delete),
            ("retained_on_replace", &self.retained_on_replace),
            ("deletion_protection", &self.deletion_protection),
            ("pitr", &self.pitr),
            ("backup_plan", &self.backup_plan),
        ]
    }
}

/// The layers of the table in `view` (which must be a table).
pub fn layers(view: &ResourceView) -> Layers {
    Layers {
        retained_on_delete: retained_on_delete(view),
        retained_on_replace: retained_on_replace(view),
        deletion_protection: deletion_protection(view),
        pitr: pitr(view),
        backup_plan: backup_plan(view),
    }
}

pub fn retained_on_delete(view: &ResourceView) -> LayerState {
    deletion_policy::state(view)
}

pub fn retained_on_replace(view: &ResourceView) -> LayerState {
    update_replace_policy::state(view)
}

pub fn deletion_protection(view: &ResourceView) -> LayerState {
    deletion_protection::state(view)
}

pub fn pitr(view: &ResourceView) -> LayerState {
    point_in_time_recovery::state(view)
}

pub fn backup_plan(view: &ResourceView) -> LayerState {
    backup_plan::state(view)
}
