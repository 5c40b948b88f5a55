//! Fix builders shared by rules, so that every rule that sets an attribute or a property
//! writes it the same way and declares the same tree change for the engine to verify.
//!
//! DDB001/DDB002 use [`set_attribute`] for their insertions. [`set_property`] is the
//! building block for the guardrail rules' unsafe fixes (`DeletionProtectionEnabled:
//! true`, `PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}`): a rule
//! calls it with [`Applicability::Unsafe`] and attaches the result to its finding.

use super::edit::TextEdits;
use crate::finding::{Applicability, Change, Fix, FixValue};
use crate::load::{Document, NodeId};

/// Set attribute `key` (beside `Type`) of the resource whose mapping is `map` to `value`:
/// replace the value if the attribute exists, else insert it right after `Type`.
pub fn set_attribute(
    doc: &Document,
    map: NodeId,
    key: &str,
    value: FixValue,
    applicability: Applicability,
    description: String,
) -> Option<Fix> {
    let edit = match doc.get(map, key) {
        Some(entry) => doc.replace_value(entry, &value)?,
        None => doc.insert_entry_after(map, doc.get(map, "Type")?, key, &value)?,
    };
    Some(Fix {
        applicability,
        description,
        edits: vec![edit],
        changes: vec![Change {
            map: doc.span(map),
            key: key.to_string(),
            value: Some(value),
        }],
    })
}

/// Set property `key` to `value`: replace the value if the property exists, else append
/// it after the last property; a resource without `Properties` gets `Properties: {key:
/// value}` after `Type`. `None` when `Properties` is empty or not a mapping.
pub fn set_property(
    doc: &Document,
    map: NodeId,
    key: &str,
    value: FixValue,
    applicability: Applicability,
    description: String,
) -> Option<Fix> {
    let Some(properties) = doc.get(map, "Properties") else {
        let wrapped = FixValue::Map(vec![(key.to_string(), value)]);
        return set_attribute(doc, map, "Properties", wrapped, applicability, description);
    };
    let edit = match doc.get(properties.value, key) {
        Some(entry) => doc.replace_value(entry, &value)?,
        None => {
            let last = *doc.map(properties.value)?.last()?;
            doc.insert_entry_after(properties.value, last, key, &value)?
        }
    };
    Some(Fix {
        applicability,
        description,
        edits: vec![edit],
        changes: vec![Change {
            map: doc.span(properties.value),
            key: key.to_string(),
            value: Some(value),
        }],
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::fix_engine;
    use crate::load::{self, Format, Limits};
    use crate::model::Template;

    /// Build the `DeletionProtectionEnabled: true` fix for the first resource of `text`,
    /// apply it through the engine's verification, and return the fixed text.
    fn protect(text: &str, format: Format) -> String {
        let doc = load::load(text, format, &Limits::default()).unwrap();
        let template = Template::from_document(&doc).unwrap().unwrap();
        let fix = set_property(
            &doc,
            template.resources[0].node,
            "PointInTimeRecoverySpecification",
            FixValue::Map(vec![(
                "PointInTimeRecoveryEnabled".into(),
                FixValue::Bool(true),
            )]),
            Applicability::Unsafe,
            "enable point-in-time recovery".into(),
        )
        .unwrap();
        let name = match format {
            Format::Yaml => "t.yaml",
            Format::Json => "t.json",
        };
        fix_engine::apply_verified(Path::new(name), text, &doc, &[&fix], &Limits::default())
            .unwrap()
    }

    #[test]
    fn a_property_is_appended_after_the_last_nested_property() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema:\n        - AttributeName: id\n          KeyType: HASH\n    DeletionPolicy: Retain\n";
        assert_eq!(
            protect(text, Format::Yaml),
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema:\n        - AttributeName: id\n          KeyType: HASH\n      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n    DeletionPolicy: Retain\n"
        );
    }

    #[test]
    fn an_existing_property_has_its_value_replaced() {
        let text = "{\n \"Resources\": {\n  \"T\": {\n   \"Type\": \"AWS::DynamoDB::Table\",\n   \"Properties\": {\n    \"PointInTimeRecoverySpecification\": {\"PointInTimeRecoveryEnabled\": false}\n   }\n  }\n }\n}\n";
        assert_eq!(
            protect(text, Format::Json),
            "{\n \"Resources\": {\n  \"T\": {\n   \"Type\": \"AWS::DynamoDB::Table\",\n   \"Properties\": {\n    \"PointInTimeRecoverySpecification\": {\"PointInTimeRecoveryEnabled\": true}\n   }\n  }\n }\n}\n"
        );
    }

    #[test]
    fn a_resource_without_properties_gets_a_properties_mapping() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n";
        assert_eq!(
            protect(text, Format::Yaml),
            "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}}\n"
        );
    }
}
