//! The change-set view over a loaded document: what `aws cloudformation
//! describe-change-set` prints, typed, with the byte span of every value a finding or an
//! error may point at.
//!
//! Field names and enum values are AWS's (`DescribeChangeSet` output, `Change`,
//! `ResourceChange`, `ResourceChangeDetail`, `ResourceTargetDefinition`). An enum value
//! this module does not know (AWS adds one later) is an error, never a default: the gate
//! cannot judge what it cannot name. Unknown *keys* are ignored, since AWS adds fields
//! that say nothing about what happens to a table. `BeforeContext`/`AfterContext` are
//! JSON encoded as strings; they are decoded here with the same JSON loader.

use crate::load::{self, Document, FileError, Format, Limits, NodeId, NodeKind, ScalarStyle};
use crate::source::Span;

/// A value with the span of the node it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

macro_rules! aws_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value AWS documents, in its documentation's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The field this value is read from, for messages.
            pub const FIELD: &'static str = $field;
        }
    };
}

aws_enum!(
    /// `ResourceChange.Action`.
    Action, "Action", {
    Add = "Add", Modify = "Modify", Remove = "Remove", Import = "Import",
    Dynamic = "Dynamic", SyncWithActual = "SyncWithActual",
});
aws_enum!(
    /// `ResourceChange.Replacement`.
    Replacement, "Replacement", {
    True = "True", False = "False", Conditional = "Conditional",
});
aws_enum!(
    /// `ResourceChange.PolicyAction`: what the resource's `DeletionPolicy` or
    /// `UpdateReplacePolicy` makes CloudFormation do.
    PolicyAction, "PolicyAction", {
    Delete = "Delete", Retain = "Retain", Snapshot = "Snapshot",
    ReplaceAndDelete = "ReplaceAndDelete", ReplaceAndRetain = "ReplaceAndRetain",
    ReplaceAndSnapshot = "ReplaceAndSnapshot",
});
aws_enum!(
    /// `ResourceChange.Scope[]` and `ResourceTargetDefinition.Attribute`.
    Attribute, "Scope", {
    Properties = "Properties", Metadata = "Metadata", CreationPolicy = "CreationPolicy",
    UpdatePolicy = "UpdatePolicy", DeletionPolicy = "DeletionPolicy",
    UpdateReplacePolicy = "UpdateReplacePolicy", Tags = "Tags",
});
aws_enum!(
    /// `ResourceTargetDefinition.RequiresRecreation`.
    RequiresRecreation, "RequiresRecreation", {
    Never = "Never", Conditionally = "Conditionally", Always = "Always",
});
aws_enum!(
    /// `ResourceTargetDefinition.AttributeChangeType`.
    AttributeChangeType, "AttributeChangeType", {
    Add = "Add", Remove = "Remove", Modify = "Modify", SyncWithActual = "SyncWithActual",
});
aws_enum!(
    /// `ResourceChangeDetail.Evaluation`.
    Evaluation, "Evaluation", {
    Static = "Static", Dynamic = "Dynamic",
});
aws_enum!(
    /// `ResourceChangeDetail.ChangeSource`.
    ChangeSource, "ChangeSource", {
    ResourceReference = "ResourceReference", ParameterReference = "ParameterReference",
    ResourceAttribute = "ResourceAttribute", DirectModification = "DirectModification",
    Automatic = "Automatic", NoModification = "NoModification",
});
aws_enum!(
    /// The change set's `Status`.
    Status, "Status", {
    CreatePending = "CREATE_PENDING", CreateInProgress = "CREATE_IN_PROGRESS",
    CreateComplete = "CREATE_COMPLETE", DeletePending = "DELETE_PENDING",
    DeleteInProgress = "DELETE_IN_PROGRESS", DeleteComplete = "DELETE_COMPLETE",
    DeleteFailed = "DELETE_FAILED", Failed = "FAILED",
});
aws_enum!(
    /// The change set's `ExecutionStatus`.
    ExecutionStatus, "ExecutionStatus", {
    Unavailable = "UNAVAILABLE", Available = "AVAILABLE",
    ExecuteInProgress = "EXECUTE_IN_PROGRESS", ExecuteComplete = "EXECUTE_COMPLETE",
    ExecuteFailed = "EXECUTE_FAILED", Obsolete = "OBSOLETE",
});

/// The resource types that hold DynamoDB data in a change set (the SAM transform has
/// already turned `AWS::Serverless::SimpleTable` into `AWS::DynamoDB::Table`).
pub const TABLE_TYPES: &[&str] = &["AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"];

/// A nested stack's resource type.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// One page of `describe-change-set` output.
#[derive(Clone, Debug)]
pub struct ChangeSetPage {
    /// The whole top-level object.
    pub span: Span,
    pub change_set_id: Option<Spanned<String>>,
    pub change_set_name: Option<String>,
    pub stack_name: Option<String>,
    pub status: Option<Spanned<Status>>,
    pub status_reason: Option<String>,
    pub execution_status: Option<Spanned<ExecutionStatus>>,
    /// Present when more pages follow.
    pub next_token: Option<Spanned<String>>,
    pub include_nested_stacks: Option<bool>,
    pub parent_change_set_id: Option<Spanned<String>>,
    pub changes: Vec<ResourceChange>,
}

impl ChangeSetPage {
    /// The id by which pages are grouped and nested sets are matched: `ChangeSetId`, or,
    /// for output without one, the stack and change-set names.
    pub fn key(&self) -> String {
        match &self.change_set_id {
            Some(id) => id.value.clone(),
            None => format!(
                "{}/{}",
                self.stack_name.as_deref().unwrap_or(""),
                self.change_set_name.as_deref().unwrap_or("")
            ),
        }
    }

    /// Whether this is a `FAILED` change set that CloudFormation refused because it holds
    /// no changes (`The submitted information didn't contain changes...`, or `No updates
    /// are to be performed.`).
    pub fn failed_without_changes(&self) -> bool {
        let failed = self
            .status
            .as_ref()
            .is_some_and(|s| s.value == Status::Failed);
        let reason = self.status_reason.as_deref().unwrap_or("").to_lowercase();
        failed
            && self.changes.is_empty()
            && (reason.contains("didn't contain changes")
                || reason.contains("did not contain changes")
                || reason.contains("no updates are to be performed"))
    }
}

/// `Changes[].ResourceChange`.
#[derive(Clone, Debug)]
pub struct ResourceChange {
    /// The `ResourceChange` object: where findings about it point.
    pub span: Span,
    pub action: Spanned<Action>,
    pub logical_id: Spanned<String>,
    pub physical_id: Option<String>,
    pub resource_type: Spanned<String>,
    pub replacement: Option<Spanned<Replacement>>,
    pub policy_action: Option<Spanned<PolicyAction>>,
    pub scope: Vec<Spanned<Attribute>>,
    pub details: Vec<Detail>,
    /// The nested change set of an `AWS::CloudFormation::Stack`.
    pub change_set_id: Option<Spanned<String>>,
    pub before: Option<Context>,
    pub after: Option<Context>,
}

impl ResourceChange {
    pub fn is_table(&self) -> bool {
        TABLE_TYPES.contains(&self.resource_type.value.as_str())
    }

    pub fn is_stack(&self) -> bool {
        self.resource_type.value == STACK_TYPE
    }

    pub fn in_scope(&self, attribute: Attribute) -> bool {
        self.scope.iter().any(|s| s.value == attribute)
            || self
                .details
                .iter()
                .any(|d| d.target.attribute.as_ref().map(|a| a.value) == Some(attribute))
    }
}

/// `ResourceChangeDetail`.
#[derive(Clone, Debug)]
pub struct Detail {
    pub span: Span,
    pub target: Target,
    pub evaluation: Option<Evaluation>,
    pub change_source: Option<ChangeSource>,
    pub causing_entity: Option<String>,
}

/// `ResourceTargetDefinition`.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub attribute: Option<Spanned<Attribute>>,
    pub name: Option<String>,
    pub path: Option<String>,
    pub requires_recreation: Option<RequiresRecreation>,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    pub change_type: Option<AttributeChangeType>,
}

/// A decoded `BeforeContext` or `AfterContext`, with the span of the string it was
/// decoded from.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub span: Span,
    pub value: Value,
}

impl Context {
    /// `Properties.<path...>` of the context, as CloudFormation writes resource state.
    pub fn property(&self, path: &[&str]) -> Option<&Value> {
        let mut value = self.value.get("Properties")?;
        for key in path {
            value = value.get(key)?;
        }
        Some(value)
    }
}

/// A JSON value decoded from a context string.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// `true` or `"true"` (any case), as CloudFormation accepts booleans.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// Read one page of `describe-change-set` output from a loaded JSON document.
pub fn read_page(doc: &Document, limits: &Limits) -> Result<ChangeSetPage, FileError> {
    let Some(root) = doc.root else {
        return Err(FileError::new("the file is empty, not a change set").with_help(HELP_DESCRIBE));
    };
    let r = Reader { doc, limits };
    if doc.map(root).is_none() {
        return Err(FileError::at(
            "not a change set: the top level is not a JSON object",
            doc.span(root),
            "expected the object `describe-change-set` prints",
        )
        .with_help(HELP_DESCRIBE));
    }
    let changes_node = doc.get_value(root, "Changes");
    let looks_like = changes_node.is_some()
        || doc.get(root, "ChangeSetId").is_some()
        || doc.get(root, "ChangeSetName").is_some();
    if !looks_like {
        let what = if doc.get(root, "Resources").is_some() {
            "not a change set: this looks like a CloudFormation template (it has `Resources`); check it with `ddb-guard check`"
        } else {
            "not a change set: the object has no `Changes`, `ChangeSetId` or `ChangeSetName`"
        };
        return Err(FileError::at(what, r.key_or_node(root), "top level").with_help(HELP_DESCRIBE));
    }
    let mut changes = Vec::new();
    if let Some(node) = changes_node {
        for item in r.seq(node, "Changes")? {
            changes.push(r.change(*item)?);
        }
    }
    Ok(ChangeSetPage {
        span: doc.span(root),
        change_set_id: r.opt_string(root, "ChangeSetId")?,
        change_set_name: r.opt_string(root, "ChangeSetName")?.map(|s| s.value),
        stack_name: r.opt_string(root, "StackName")?.map(|s| s.value),
        status: r.opt_enum(
            root,
            "Status",
            Status::parse,
            Status::ALL.iter().map(|v| v.as_str()),
        )?,
        status_reason: r.opt_string(root, "StatusReason")?.map(|s| s.value),
        execution_status: r.opt_enum(
            root,
            "ExecutionStatus",
            ExecutionStatus::parse,
            ExecutionStatus::ALL.iter().map(|v| v.as_str()),
        )?,
        next_token: r.opt_string(root, "NextToken")?,
        include_nested_stacks: r.opt_bool(root, "IncludeNestedStacks")?,
        parent_change_set_id: r.opt_string(root, "ParentChangeSetId")?,
        changes,
    })
}

const HELP_DESCRIBE: &str = "give the JSON that `aws cloudformation describe-change-set --stack-name STACK --change-set-name NAME --output json` prints";

struct Reader<'a, 's> {
    doc: &'a Document<'s>,
    limits: &'a Limits,
}

impl Reader<'_, '_> {
    /// The span of a node, or of its first line for a large object (a label on a whole
    /// object is hard to read).
    fn key_or_node(&self, node: NodeId) -> Span {
        let span = self.doc.span(node);
        Span::new(span.start, span.start + 1)
    }

    fn seq(&self, node: NodeId, field: &str) -> Result<&[NodeId], FileError> {
        self.doc.seq(node).ok_or_else(|| {
            FileError::at(
                format!("`{field}` must be a list"),
                self.doc.span(node),
                "not a list",
            )
        })
    }

    fn map(&self, node: NodeId, field: &str) -> Result<NodeId, FileError> {
        match self.doc.map(node) {
            Some(_) => Ok(node),
            None => Err(FileError::at(
                format!("`{field}` must be an object"),
                self.doc.span(node),
                "not an object",
            )),
        }
    }

    fn opt_string(&self, map: NodeId, key: &str) -> Result<Option<Spanned<String>>, FileError> {
        let Some(node) = self.doc.get_value(map, key) else {
            return Ok(None);
        };
        if self.doc.is_null(node) {
            return Ok(None);
        }
        match self.doc.scalar(node) {
            Some(s) if s.style == ScalarStyle::Quoted => Ok(Some(Spanned {
                value: s.text.to_string(),
                span: self.doc.span(node),
            })),
            _ => Err(FileError::at(
                format!("`{key}` must be a string"),
                self.doc.span(node),
                "not a string",
            )),
        }
    }

    fn string(&self, map: NodeId, key: &str, what: &str) -> Result<Spanned<String>, FileError> {
        self.opt_string(map, key)?.ok_or_else(|| {
            FileError::at(
                format!("{what} has no `{key}`"),
                self.key_or_node(map),
                format!("`{key}` missing"),
            )
            .with_help("the change set may be truncated or edited; fetch it again with `aws cloudformation describe-change-set`")
        })
    }

    fn opt_bool(&self, map: NodeId, key: &str) -> Result<Option<bool>, FileError> {
        let Some(node) = self.doc.get_value(map, key) else {
            return Ok(None);
        };
        match self.doc.scalar(node) {
            _ if self.doc.is_null(node) => Ok(None),
            Some(s) if s.style == ScalarStyle::Plain && s.text == "true" => Ok(Some(true)),
            Some(s) if s.style == ScalarStyle::Plain && s.text == "false" => Ok(Some(false)),
            _ => Err(FileError::at(
                format!("`{key}` must be true or false"),
                self.doc.span(node),
                "not a boolean",
            )),
        }
    }

    fn opt_enum<T>(
        &self,
        map: NodeId,
        key: &str,
        parse: fn(&str) -> Option<T>,
        known: impl Iterator<Item = &'static str>,
    ) -> Result<Option<Spanned<T>>, FileError> {
        let Some(text) = self.opt_string(map, key)? else {
            return Ok(None);
        };
        match parse(&text.value) {
            Some(value) => Ok(Some(Spanned {
                value,
                span: text.span,
            })),
            None => Err(unknown_value(key, &text, known)),
        }
    }

    fn change(&self, item: NodeId) -> Result<ResourceChange, FileError> {
        let item = self.map(item, "Changes[]")?;
        if let Some(kind) = self.opt_string(item, "Type")? {
            if kind.value != "Resource" {
                return Err(unknown_value("Type", &kind, ["Resource"].into_iter()));
            }
        }
        let Some(node) = self.doc.get_value(item, "ResourceChange") else {
            return Err(FileError::at(
                "a change has no `ResourceChange`",
                self.key_or_node(item),
                "`ResourceChange` missing",
            )
            .with_help("the change set may be truncated or edited; fetch it again with `aws cloudformation describe-change-set`"));
        };
        let rc = self.map(node, "ResourceChange")?;
        let what = "a `ResourceChange`";
        let action_text = self.string(rc, "Action", what)?;
        let action = Action::parse(&action_text.value).ok_or_else(|| {
            unknown_value(
                "Action",
                &action_text,
                Action::ALL.iter().map(|v| v.as_str()),
            )
        })?;
        let mut scope = Vec::new();
        if let Some(list) = self.doc.get_value(rc, "Scope") {
            for entry in self.seq(list, "Scope")? {
                let text = match self.doc.scalar(*entry) {
                    Some(s) if s.style == ScalarStyle::Quoted => Spanned {
                        value: s.text.to_string(),
                        span: self.doc.span(*entry),
                    },
                    _ => {
                        return Err(FileError::at(
                            "`Scope` entries must be strings",
                            self.doc.span(*entry),
                            "not a string",
                        ))
                    }
                };
                let value = Attribute::parse(&text.value).ok_or_else(|| {
                    unknown_value("Scope", &text, Attribute::ALL.iter().map(|v| v.as_str()))
                })?;
                scope.push(Spanned {
                    value,
                    span: text.span,
                });
            }
        }
        let mut details = Vec::new();
        if let Some(list) = self.doc.get_value(rc, "Details") {
            for entry in self.seq(list, "Details")? {
                details.push(self.detail(*entry)?);
            }
        }
        Ok(ResourceChange {
            span: self.doc.span(rc),
            action: Spanned {
                value: action,
                span: action_text.span,
            },
            logical_id: self.string(rc, "LogicalResourceId", what)?,
            physical_id: self.opt_string(rc, "PhysicalResourceId")?.map(|s| s.value),
            resource_type: self.string(rc, "ResourceType", what)?,
            replacement: self.opt_enum(
                rc,
                "Replacement",
                Replacement::parse,
                Replacement::ALL.iter().map(|v| v.as_str()),
            )?,
            policy_action: self.opt_enum(
                rc,
                "PolicyAction",
                PolicyAction::parse,
                PolicyAction::ALL.iter().map(|v| v.as_str()),
            )?,
            scope,
            details,
            change_set_id: self.opt_string(rc, "ChangeSetId")?,
            before: self.context(rc, "BeforeContext")?,
            after: self.context(rc, "AfterContext")?,
        })
    }

    fn detail(&self, node: NodeId) -> Result<Detail, FileError> {
        let node = self.map(node, "Details[]")?;
        let target = match self.doc.get_value(node, "Target") {
            Some(t) => {
                let t = self.map(t, "Target")?;
                Target {
                    attribute: self.opt_enum(
                        t,
                        "Attribute",
                        Attribute::parse,
                        Attribute::ALL.iter().map(|v| v.as_str()),
                    )?,
                    name: self.opt_string(t, "Name")?.map(|s| s.value),
                    path: self.opt_string(t, "Path")?.map(|s| s.value),
                    requires_recreation: self
                        .opt_enum(
                            t,
                            "RequiresRecreation",
                            RequiresRecreation::parse,
                            RequiresRecreation::ALL.iter().map(|v| v.as_str()),
                        )?
                        .map(|s| s.value),
                    before_value: self.opt_string(t, "BeforeValue")?.map(|s| s.value),
                    after_value: self.opt_string(t, "AfterValue")?.map(|s| s.value),
                    change_type: self
                        .opt_enum(
                            t,
                            "AttributeChangeType",
                            AttributeChangeType::parse,
                            AttributeChangeType::ALL.iter().map(|v| v.as_str()),
                        )?
                        .map(|s| s.value),
                }
            }
            None => Target::default(),
        };
        Ok(Detail {
            span: self.doc.span(node),
            target,
            evaluation: self
                .opt_enum(
                    node,
                    "Evaluation",
                    Evaluation::parse,
                    Evaluation::ALL.iter().map(|v| v.as_str()),
                )?
                .map(|s| s.value),
            change_source: self
                .opt_enum(
                    node,
                    "ChangeSource",
                    ChangeSource::parse,
                    ChangeSource::ALL.iter().map(|v| v.as_str()),
                )?
                .map(|s| s.value),
            causing_entity: self.opt_string(node, "CausingEntity")?.map(|s| s.value),
        })
    }

    /// Decode a context string with the JSON loader. A context that does not decode (AWS
    /// truncates large values) is an error: what it hides may be the table's protection.
    fn context(&self, rc: NodeId, key: &str) -> Result<Option<Context>, FileError> {
        let Some(text) = self.opt_string(rc, key)? else {
            return Ok(None);
        };
        let decoded = load::load(&text.value, Format::Json, self.limits).map_err(|e| {
            let at = e
                .span
                .and_then(|s| text.value.get(..s.start))
                .map(|before| format!(" at character {} of the decoded text", before.chars().count() + 1))
                .unwrap_or_default();
            FileError::at(
                format!("`{key}` is not valid JSON{at}: {}", e.message),
                text.span,
                "cannot decode this string",
            )
            .with_help("the value may be truncated; describe the change set again, or without `--include-property-values`")
        })?;
        let Some(root) = decoded.root else {
            return Err(FileError::at(
                format!("`{key}` is empty"),
                text.span,
                "empty context",
            ));
        };
        if decoded.map(root).is_none() {
            return Err(FileError::at(
                format!("`{key}` must encode a JSON object"),
                text.span,
                "not an object",
            ));
        }
        Ok(Some(Context {
            span: text.span,
            value: owned(&decoded, root),
        }))
    }
}

fn unknown_value(
    field: &str,
    text: &Spanned<String>,
    known: impl Iterator<Item = &'static str>,
) -> FileError {
    let known: Vec<String> = known.map(|k| format!("`{k}`")).collect();
    FileError::at(
        format!(
            "unknown `{field}` value `{}`: ddb-guard cannot tell what it does to a table",
            text.value
        ),
        text.span,
        "unknown value",
    )
    .with_help(format!(
        "the values ddb-guard knows are {}; a newer ddb-guard may know this one",
        known.join(", ")
    ))
}

/// The owned value of a decoded node. Recursion is bounded by the loader's depth limit.
fn owned(doc: &Document, node: NodeId) -> Value {
    match &doc.node(node).kind {
        NodeKind::Map(entries) => Value::Object(
            doc.entries(*entries)
                .iter()
                .map(|e| (doc.key(e).to_string(), owned(doc, e.value)))
                .collect(),
        ),
        NodeKind::Seq(items) => {
            Value::Array(doc.items(*items).iter().map(|i| owned(doc, *i)).collect())
        }
        NodeKind::Scalar(s) => match (s.style, &*s.text) {
            (ScalarStyle::Quoted, text) => Value::String(text.to_string()),
            (_, "true") => Value::Bool(true),
            (_, "false") => Value::Bool(false),
            (_, "null") => Value::Null,
            (_, number) => Value::Number(number.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Result<ChangeSetPage, FileError> {
        let doc = load::load(text, Format::Json, &Limits::default())?;
        read_page(&doc, &Limits::default())
    }

    #[test]
    fn every_documented_enum_value_reads_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        for p in PolicyAction::ALL {
            assert_eq!(PolicyAction::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Action::ALL.len(), 6);
        assert_eq!(PolicyAction::ALL.len(), 6);
        assert_eq!(Attribute::ALL.len(), 7);
        assert_eq!(ChangeSource::ALL.len(), 6);
    }

    #[test]
    fn contexts_are_decoded_from_their_strings() {
        let p = page(r#"{"ChangeSetId":"arn:x","Changes":[{"Type":"Resource","ResourceChange":{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table","BeforeContext":"{\"Properties\":{\"DeletionProtectionEnabled\":true}}"}}]}"#).unwrap();
        let before = p.changes[0].before.as_ref().unwrap();
        assert!(before
            .property(&["DeletionProtectionEnabled"])
            .unwrap()
            .is_true());
    }

    #[test]
    fn an_unknown_action_is_an_error_at_its_value() {
        let text = r#"{"ChangeSetId":"arn:x","Changes":[{"ResourceChange":{"Action":"Obliterate","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table"}}]}"#;
        let e = page(text).unwrap_err();
        assert!(
            e.message.contains("unknown `Action` value `Obliterate`"),
            "{}",
            e.message
        );
        let span = e.span.unwrap();
        assert_eq!(&text[span.start..span.end], "\"Obliterate\"");
    }

    #[test]
    fn a_truncated_context_is_an_error() {
        let text = r#"{"ChangeSetId":"arn:x","Changes":[{"ResourceChange":{"Action":"Modify","LogicalResourceId":"T","ResourceType":"AWS::DynamoDB::Table","AfterContext":"{\"Properties\":{\"Dele"}}]}"#;
        let e = page(text).unwrap_err();
        assert!(
            e.message.contains("`AfterContext` is not valid JSON"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_template_is_not_a_change_set() {
        let e = page(r#"{"Resources":{}}"#).unwrap_err();
        assert!(e.message.contains("looks like a CloudFormation template"));
    }
}
