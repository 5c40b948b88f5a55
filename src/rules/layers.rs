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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Format, Limits};
    use crate::model::Template;
    use crate::rules::RuleOptions;

    const HEAD: &str = "Parameters:\n  Env: {Type: String, AllowedValues: [prod, dev]}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n  T:\n";

    fn layers_of(table: &str) -> Layers {
        let text = format!("{HEAD}{table}");
        let doc = load::load(&text, Format::Yaml, &Limits::default()).expect("test YAML loads");
        let template = Template::from_document(&doc)
            .expect("valid template")
            .expect("has Resources");
        let options = RuleOptions::default();
        let view = ResourceView {
            template: &template,
            resource: &template.resources[0],
            options: &options,
        };
        layers(&view)
    }

    fn conditional_on(state: &LayerState, what: &str) -> bool {
        state.reason().is_some_and(|why| why.contains(what))
    }

    #[test]
    fn a_fully_protected_table_holds_every_layer_but_backup() {
        let l = layers_of("    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      DeletionProtectionEnabled: true\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n");
        assert!(l.retained_on_delete.holds() && l.retained_on_replace.holds());
        assert!(l.deletion_protection.holds() && l.pitr.holds());
        assert_eq!(l.backup_plan, LayerState::No);
    }

    #[test]
    fn a_policy_retained_on_one_branch_is_conditional_with_the_other_branch_as_reason() {
        let l = layers_of("    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n    UpdateReplacePolicy: !If [IsProd, Delete, Delete]\n");
        assert!(
            conditional_on(
                &l.retained_on_delete,
                "`Delete` when condition `IsProd` is false"
            ),
            "{:?}",
            l.retained_on_delete
        );
        // Delete in every branch holds in no case.
        assert_eq!(l.retained_on_replace, LayerState::No);
    }

    #[test]
    fn a_parameter_chosen_flag_is_conditional_and_a_missing_one_is_no() {
        let l = layers_of("    Type: AWS::DynamoDB::Table\n    Properties:\n      DeletionProtectionEnabled: !If [IsProd, true, false]\n");
        assert!(
            conditional_on(&l.deletion_protection, "condition `IsProd` is false"),
            "{:?}",
            l.deletion_protection
        );
        assert_eq!(l.pitr, LayerState::No);
        assert_eq!(l.retained_on_delete, LayerState::No);
    }

    #[test]
    fn one_unprotected_replica_is_no_and_one_conditional_replica_is_conditional() {
        let table = |second: &str| {
            format!("    Type: AWS::DynamoDB::GlobalTable\n    Properties:\n      Replicas:\n        - Region: eu-west-1\n          DeletionProtectionEnabled: true\n        - Region: us-east-1\n{second}")
        };
        let l = layers_of(&table("          DeletionProtectionEnabled: false\n"));
        assert_eq!(l.deletion_protection, LayerState::No);
        let l = layers_of(&table(
            "          DeletionProtectionEnabled: !If [IsProd, true, false]\n",
        ));
        assert!(conditional_on(
            &l.deletion_protection,
            "replica `us-east-1`"
        ));
    }

    #[test]
    fn a_simple_table_has_no_deletion_protection_layer() {
        let l = layers_of("    Type: AWS::Serverless::SimpleTable\n");
        assert_eq!(l.deletion_protection, LayerState::No);
    }
}
