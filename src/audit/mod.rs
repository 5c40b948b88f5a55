//! `ddb-guard audit`: the guardrails of a live AWS account, read-only.
//!
//! [`collect`] reads the account through a [`collect::Source`] into a
//! [`snapshot::Snapshot`] (the AWS SDK implements the source in `aws`, under the cargo
//! feature `audit`); [`analyze`] turns the snapshot into the findings of `check` and the
//! rows of `inventory`, through their own per-file path. The analysis builds in every
//! configuration, so its tests run on recorded responses without the SDK.

pub mod analyze;
#[cfg(feature = "audit")]
pub mod aws;
pub mod collect;
#[cfg(test)]
mod recorded;
pub mod snapshot;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::collect::OPERATIONS;

    /// The JSON policy of docs/audit.md's "read-only policy" section.
    fn documented_actions() -> BTreeSet<String> {
        let doc = include_str!("../../docs/audit.md");
        let section = doc
            .split("## The read-only policy it needs")
            .nth(1)
            .expect("docs/audit.md has the policy section");
        let block = section
            .split("```json")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("the section holds a JSON block");
        let policy: serde_json::Value = serde_json::from_str(block).expect("the policy is JSON");
        let statements = policy["Statement"].as_array().expect("statements");
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Allow");
        statements[0]["Action"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| a.as_str().expect("an action is a string").to_string())
            .collect()
    }

    #[test]
    fn the_documented_policy_grants_exactly_the_operations() {
        let operations: BTreeSet<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
        assert_eq!(documented_actions(), operations);
        // Only reads: no action that writes, deletes or tags.
        for op in OPERATIONS {
            let action = op.split(':').nth(1).unwrap_or_default();
            assert!(
                ["Describe", "Get", "List"]
                    .iter()
                    .any(|p| action.starts_with(p)),
                "{op} is not a read"
            );
        }
    }

    /// Every SDK call in src/audit/aws.rs, as `service:Action`: the client accessors are
    /// `self.dynamodb(region)`, `self.cloudformation(region)`, `self.backup(region)`,
    /// `self.iam`, `self.organizations` and `self.sts`, each followed by the operation.
    fn sdk_calls() -> BTreeSet<String> {
        let code: String = include_str!("aws.rs")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut calls = BTreeSet::new();
        for (accessor, service) in [
            ("self.dynamodb(region).", "dynamodb"),
            ("self.cloudformation(region).", "cloudformation"),
            ("self.backup(region).", "backup"),
            ("self.iam.", "iam"),
            ("self.organizations.", "organizations"),
            ("self.sts.", "sts"),
            ("self.account.", "account"),
        ] {
            for (at, _) in code.match_indices(accessor) {
                let rest = &code[at + accessor.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let pascal: String = name
                    .split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect();
                calls.insert(format!("{service}:{pascal}"));
            }
        }
        calls
    }

    #[test]
    fn the_sdk_source_calls_only_the_documented_operations() {
        let mut calls = sdk_calls();
        // Needs no permission: it says who the caller is.
        assert!(calls.remove("sts:GetCallerIdentity"));
        let operations: BTreeSet<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
        assert_eq!(calls, operations);
        // No client is reached any other way.
        let code = include_str!("aws.rs");
        for service in [
            "dynamodb",
            "cloudformation",
            "backup",
            "iam",
            "organizations",
            "sts",
            "account",
        ] {
            let made = code
                .matches(&format!("aws_sdk_{service}::Client::from_conf"))
                .count();
            assert_eq!(made, 1, "aws_sdk_{service} clients are made in one place");
        }
    }
}
