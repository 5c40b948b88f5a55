//! The IAM oracle: a generator of templates with tables and identity policies, and a
//! brute-force concrete IAM evaluator, written from AWS's policy-evaluation documentation
//! and independent of `src/model/iam` (it imports nothing from ddb-guard but the checker
//! it judges, in [`run_guard`]). `tests/it/iam_oracle.rs` states the property and runs it.
//!
//! The concrete evaluator fixes one deployment at a time (every parameter, pseudo parameter
//! and so every CloudFormation condition the template reads), computes each policy
//! document's statements as plain strings, and asks IAM's question for each guarded action
//! on each candidate ARN under each request context: is there an `Allow` statement that
//! applies, and no `Deny` statement that applies? (Explicit deny wins; no allow is an
//! implicit deny.) A statement applies when its `Action` matches the action (or its
//! `NotAction` does not), its `Resource` matches the ARN (or its `NotResource` does not)
//! and its `Condition` holds in the context. Matching is a whole-string glob where `*` is
//! any run of characters (also `:` and `/`: "if the `*` is the last character of a segment
//! it can expand beyond the colon boundaries") and `?` one character; action names
//! compare without case, ARNs with case.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------
// The template model
// ---------------------------------------------------------------------------------------

/// A string-valued CloudFormation expression.
#[derive(Clone, Debug)]
pub enum Str {
    Lit(String),
    /// `Ref` of a parameter, a pseudo parameter or a table (its name).
    Ref(String),
    /// `Fn::GetAtt [T, Arn]` of a table.
    Arn(String),
    /// `Fn::Sub` (or, when `join`, the same string as `Fn::Join ["", ...]`).
    Sub {
        parts: Vec<Part>,
        join: bool,
    },
    If(String, Box<Str>, Box<Str>),
    NoValue,
}

#[derive(Clone, Debug)]
pub enum Part {
    Text(String),
    /// `${Name}`: a parameter, a pseudo parameter or a table's `Ref`.
    Var(String),
    /// `${T.Arn}`.
    ArnOf(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A table name.
    Name,
    /// A whole resource ARN (pattern).
    Arn,
    /// An environment word conditions compare.
    Env,
    /// An IAM action.
    Action,
    /// The action name after a service prefix (`dynamodb:${Verb}`).
    Verb,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub allowed: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
pub enum Cond {
    /// `Fn::Equals [Ref NAME, VALUE]` (a parameter or a pseudo parameter).
    Equals(String, String),
    Not(Box<Cond>),
    /// `Condition: NAME`.
    Named(String),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

#[derive(Clone, Debug)]
pub struct Table {
    pub id: String,
    pub name: Option<Str>,
    pub condition: Option<String>,
}

/// An IAM `Condition` block on a statement (one operator, one key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IamCond {
    /// `Bool: {aws:MultiFactorAuthPresent: "true"|"false"}`.
    Mfa(bool),
    /// `StringEquals: {aws:RequestedRegion: [...]}`.
    RegionIn(Vec<String>),
    /// `StringLike: {aws:PrincipalTag/team: PATTERN}`.
    TeamLike(String),
}

#[derive(Clone, Debug)]
pub struct Statement {
    /// The statement is `Fn::If [when, STATEMENT, AWS::NoValue]`.
    pub when: Option<String>,
    pub effect: Str,
    pub not_action: bool,
    pub actions: Vec<Str>,
    /// A one-item list is written as a plain value.
    pub action_scalar: bool,
    pub not_resource: bool,
    pub resources: Vec<Str>,
    pub resource_scalar: bool,
    pub condition: Option<IamCond>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Policy,
    ManagedPolicy,
    RolePolicy,
    Role,
    User,
    Group,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub id: String,
    pub kind: PolicyKind,
    pub condition: Option<String>,
    /// One document for the policy types; one per inline policy for roles and users.
    pub documents: Vec<Vec<Statement>>,
    /// `Statement` written as one mapping when the document has one statement.
    pub statement_scalar: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Template {
    pub params: Vec<Param>,
    pub conditions: Vec<(String, Cond)>,
    pub tables: Vec<Table>,
    pub policies: Vec<Policy>,
}

// ---------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------

pub const PARTITIONS: &[&str] = &["aws", "aws-cn"];
pub const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];
pub const ACCOUNTS: &[&str] = &["111111111111", "222222222222"];
pub const STACKS: &[&str] = &["app", "Ordering"];
const PSEUDO: &[&str] = &[
    "AWS::Partition",
    "AWS::Region",
    "AWS::AccountId",
    "AWS::StackName",
];

const NAMES: &[&str] = &["Orders", "Archive", "OrdersV2"];
/// What a parameter without `AllowedValues` takes, by kind: values that match and values
/// that miss each pattern the generator writes.
const FREE_NAMES: &[&str] = &["Orders", "Archive", "Zed"];
const ARN_VALUES: &[&str] = &[
    "*",
    "arn:aws:dynamodb:us-east-1:111111111111:table/Orders",
    "arn:aws:dynamodb:*:*:table/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:dynamodb:*:*:table/Archive/stream/*",
    "arn:aws:backup:*:*:*",
];
const ENV_VALUES: &[&str] = &["prod", "dev", "test"];
const VERB_VALUES: &[&str] = &["DeleteTable", "Delete*", "GetItem", "*", "UpdateTable"];
const ACTION_VALUES: &[&str] = &[
    "dynamodb:DeleteTable",
    "dynamodb:GetItem",
    "dynamodb:*",
    "backup:DeleteBackupSelection",
    "s3:GetObject",
];

const ACTION_WORDS: &[&str] = &[
    "dynamodb:DeleteTable",
    "DynamoDB:deletetable",
    "dynamodb:Delete*",
    "dynamodb:delete?able",
    "dynamodb:*",
    "*",
    "dynamodb:DeleteItem",
    "dynamodb:Describe*",
    "dynamodb:UpdateTable",
    "dynamodb:Update*",
    "dynamodb:DeleteBackup",
    "backup:Delete*",
    "backup:DeleteBackupSelection",
    "BACKUP:deleterecoverypoint",
    "backup:DeleteBackupVault",
    "backup:*",
    "s3:*",
    "dynamodb:D*",
    "dynamodb:*Table",
];

const RESOURCE_WORDS: &[&str] = &[
    "*",
    "arn:aws:dynamodb:*:*:table/*",
    "arn:aws:dynamodb:us-east-1:111111111111:table/Orders",
    "arn:aws:dynamodb:*:*:table/Ord*",
    "arn:aws:dynamodb:*:*:table/?rders",
    "arn:aws:dynamodb:*:*:table/*/stream/*",
    "arn:aws:dynamodb:*:*:table/*/index/*",
    "arn:aws:dynamodb:eu-west-1:*:table/*",
    "arn:*:dynamodb:*:*:*",
    "arn:aws:dynamodb:*:*:*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:backup:*:*:backup-plan:*",
    "arn:aws:backup:*:*:recovery-point:*",
    "arn:aws:backup:*:*:*",
    "arn:aws:dynamodb:*:*:table/*/backup/*",
    "arn:aws:dynamodb:*:111111111111:table/Archive",
    "arn:aws-cn:dynamodb:*:*:table/*",
    "arn:aws:dynamodb:*:*:table/orders",
    "arn:aws:dynamodb:*:*:table/Orders*",
];

const SUB_RESOURCES: &[&str] = &[
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${T}",
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${N}",
    "arn:aws:dynamodb:*:*:table/${AWS::StackName}-*",
    "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/*",
    "${T.Arn}",
    "${T.Arn}/backup/*",
    "${T.Arn}*",
    "arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-plan:*",
    "arn:aws:dynamodb:us-east-1:${AWS::AccountId}:table/*",
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/${N}*",
];

// ---------------------------------------------------------------------------------------
// Generation from a stream of choices
// ---------------------------------------------------------------------------------------

/// Where the generator's choices come from (proptest's shrinkable bytes). Exhausted input
/// chooses 0, the simplest option, so a shorter input is a simpler template.
pub struct Choices<'a> {
    bytes: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Choices { bytes }
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                usize::from(*b) % n
            }
            None => 0,
        }
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == n - 1
    }

    fn pick(&mut self, items: &[&str]) -> String {
        items[self.below(items.len())].to_string()
    }
}

struct Scope<'t> {
    params: &'t [Param],
    conditions: Vec<String>,
    tables: Vec<String>,
}

impl Scope<'_> {
    fn param(&self, c: &mut Choices, kind: ParamKind) -> Option<String> {
        let names: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.name.as_str())
            .collect();
        (!names.is_empty()).then(|| c.pick(&names))
    }

    fn condition(&self, c: &mut Choices) -> Option<String> {
        let names: Vec<&str> = self.conditions.iter().map(String::as_str).collect();
        (!names.is_empty()).then(|| c.pick(&names))
    }

    fn table(&self, c: &mut Choices) -> Option<String> {
        let names: Vec<&str> = self.tables.iter().map(String::as_str).collect();
        (!names.is_empty()).then(|| c.pick(&names))
    }
}

fn values(kind: ParamKind) -> &'static [&'static str] {
    match kind {
        ParamKind::Name => FREE_NAMES,
        ParamKind::Arn => ARN_VALUES,
        ParamKind::Env => ENV_VALUES,
        ParamKind::Action => ACTION_VALUES,
        ParamKind::Verb => VERB_VALUES,
    }
}

fn param(c: &mut Choices, i: usize) -> Param {
    let kind = [
        ParamKind::Env,
        ParamKind::Name,
        ParamKind::Arn,
        ParamKind::Action,
        ParamKind::Verb,
    ][c.below(5)];
    let allowed = c.one_in(2).then(|| {
        let all = values(kind);
        let n = c.range(1, 2);
        let mut picked: Vec<String> = Vec::new();
        for _ in 0..n {
            let v = c.pick(all);
            if !picked.contains(&v) {
                picked.push(v);
            }
        }
        picked
    });
    Param {
        name: format!("P{i}"),
        kind,
        allowed,
    }
}

fn cond(c: &mut Choices, params: &[Param], earlier: &[String]) -> Cond {
    let envs: Vec<&Param> = params.iter().filter(|p| p.kind == ParamKind::Env).collect();
    match c.below(5) {
        1 if !earlier.is_empty() => {
            let names: Vec<&str> = earlier.iter().map(String::as_str).collect();
            Cond::Not(Box::new(Cond::Named(c.pick(&names))))
        }
        2 => Cond::Equals("AWS::Region".into(), c.pick(REGIONS)),
        3 if earlier.len() >= 2 => {
            let names: Vec<&str> = earlier.iter().map(String::as_str).collect();
            let parts = vec![Cond::Named(c.pick(&names)), Cond::Named(c.pick(&names))];
            if c.one_in(2) {
                Cond::And(parts)
            } else {
                Cond::Or(parts)
            }
        }
        4 => Cond::Equals("AWS::StackName".into(), c.pick(STACKS)),
        _ if !envs.is_empty() => {
            let p = envs[c.below(envs.len())];
            let eq = Cond::Equals(p.name.clone(), c.pick(&ENV_VALUES[..2]));
            if c.one_in(3) {
                Cond::Not(Box::new(eq))
            } else {
                eq
            }
        }
        _ => Cond::Equals("AWS::AccountId".into(), c.pick(ACCOUNTS)),
    }
}

fn table_name(c: &mut Choices, s: &Scope) -> Option<Str> {
    match c.below(6) {
        0 => None,
        1 => Some(Str::Lit(c.pick(NAMES))),
        2 => Some(match s.param(c, ParamKind::Name) {
            Some(p) => Str::Ref(p),
            None => Str::Lit(c.pick(NAMES)),
        }),
        3 => Some(Str::Sub {
            parts: vec![
                Part::Var("AWS::StackName".into()),
                Part::Text("-orders".into()),
            ],
            join: c.one_in(2),
        }),
        4 => {
            let cond = s.condition(c);
            let yes = Str::Lit(c.pick(NAMES));
            match cond {
                Some(cond) => {
                    let no = if c.one_in(2) {
                        Str::NoValue
                    } else {
                        Str::Lit(c.pick(NAMES))
                    };
                    Some(Str::If(cond, Box::new(yes), Box::new(no)))
                }
                None => Some(yes),
            }
        }
        _ => Some(Str::Lit(c.pick(NAMES))),
    }
}

/// `${...}` text into parts; `T`, `N` and `T.Arn` stand for a table and a name parameter.
fn sub_parts(c: &mut Choices, s: &Scope, text: &str) -> Option<Vec<Part>> {
    let table = s.table(c);
    let name = s.param(c, ParamKind::Name);
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let end = rest[start..].find('}')? + start;
        let var = &rest[start + 2..end];
        parts.push(match var {
            "T" => Part::Var(table.clone()?),
            "T.Arn" => Part::ArnOf(table.clone()?),
            "N" => Part::Var(name.clone()?),
            other => Part::Var(other.to_string()),
        });
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Some(parts)
}

fn resource(c: &mut Choices, s: &Scope, depth: usize) -> Str {
    match c.below(7) {
        1 | 2 if !s.tables.is_empty() => {
            if c.one_in(2) {
                Str::Arn(s.table(c).unwrap_or_default())
            } else {
                let text = c.pick(SUB_RESOURCES);
                match sub_parts(c, s, &text) {
                    Some(parts) => Str::Sub {
                        parts,
                        join: c.one_in(3),
                    },
                    None => Str::Lit(c.pick(RESOURCE_WORDS)),
                }
            }
        }
        3 => match s.param(c, ParamKind::Arn) {
            Some(p) => Str::Ref(p),
            None => Str::Lit(c.pick(RESOURCE_WORDS)),
        },
        4 if depth == 0 => match s.condition(c) {
            Some(cond) => {
                let yes = resource(c, s, depth + 1);
                let no = if c.one_in(2) {
                    Str::NoValue
                } else {
                    resource(c, s, depth + 1)
                };
                if c.one_in(2) {
                    Str::If(cond, Box::new(no), Box::new(yes))
                } else {
                    Str::If(cond, Box::new(yes), Box::new(no))
                }
            }
            None => Str::Lit(c.pick(RESOURCE_WORDS)),
        },
        _ => Str::Lit(c.pick(RESOURCE_WORDS)),
    }
}

fn action(c: &mut Choices, s: &Scope, depth: usize) -> Str {
    match c.below(9) {
        3 => match s.param(c, ParamKind::Verb) {
            Some(p) => Str::Sub {
                parts: vec![Part::Text(c.pick(&["dynamodb:", "backup:"])), Part::Var(p)],
                join: c.one_in(2),
            },
            None => Str::Lit(c.pick(ACTION_WORDS)),
        },
        1 => match s.param(c, ParamKind::Action) {
            Some(p) => Str::Ref(p),
            None => Str::Lit(c.pick(ACTION_WORDS)),
        },
        2 if depth == 0 => match s.condition(c) {
            Some(cond) => {
                let yes = action(c, s, depth + 1);
                let no = if c.one_in(2) {
                    Str::NoValue
                } else {
                    action(c, s, depth + 1)
                };
                Str::If(cond, Box::new(yes), Box::new(no))
            }
            None => Str::Lit(c.pick(ACTION_WORDS)),
        },
        _ => Str::Lit(c.pick(ACTION_WORDS)),
    }
}

fn iam_condition(c: &mut Choices) -> Option<IamCond> {
    match c.below(8) {
        0 => Some(IamCond::Mfa(c.one_in(2))),
        1 => Some(IamCond::RegionIn(vec![c.pick(REGIONS)])),
        2 => Some(IamCond::TeamLike(c.pick(&["ops", "d*", "*"]))),
        _ => None,
    }
}

fn statement(c: &mut Choices, s: &Scope) -> Statement {
    let when = if c.one_in(5) { s.condition(c) } else { None };
    let effect = match c.below(9) {
        0..=3 => Str::Lit("Allow".into()),
        4..=7 => Str::Lit("Deny".into()),
        _ => match s.condition(c) {
            Some(cond) => {
                let (a, b) = (Str::Lit("Allow".into()), Str::Lit("Deny".into()));
                if c.one_in(2) {
                    Str::If(cond, Box::new(a), Box::new(b))
                } else {
                    Str::If(cond, Box::new(b), Box::new(a))
                }
            }
            None => Str::Lit("Allow".into()),
        },
    };
    let not_action = c.one_in(6);
    let actions = (0..c.range(1, 3)).map(|_| action(c, s, 0)).collect();
    let action_scalar = c.one_in(2);
    let not_resource = c.one_in(6);
    let resources = (0..c.range(1, 3)).map(|_| resource(c, s, 0)).collect();
    let resource_scalar = c.one_in(2);
    let condition = iam_condition(c);
    Statement {
        when,
        effect,
        not_action,
        actions,
        action_scalar,
        not_resource,
        resources,
        resource_scalar,
        condition,
    }
}

pub fn generate(c: &mut Choices) -> Template {
    let params: Vec<Param> = (0..c.range(0, 3)).map(|i| param(c, i)).collect();
    let mut conditions: Vec<(String, Cond)> = Vec::new();
    for i in 0..c.range(0, 3) {
        let earlier: Vec<String> = conditions.iter().map(|(n, _)| n.clone()).collect();
        conditions.push((format!("C{i}"), cond(c, &params, &earlier)));
    }
    let mut scope = Scope {
        params: &params,
        conditions: conditions.iter().map(|(n, _)| n.clone()).collect(),
        tables: Vec::new(),
    };
    let mut tables = Vec::new();
    for i in 0..c.range(1, 2) {
        let name = table_name(c, &scope);
        let condition = if c.one_in(5) {
            scope.condition(c)
        } else {
            None
        };
        tables.push(Table {
            id: format!("Table{i}"),
            name,
            condition,
        });
    }
    scope.tables = tables.iter().map(|t| t.id.clone()).collect();
    let mut policies = Vec::new();
    for i in 0..c.range(1, 2) {
        let kind = [
            PolicyKind::Policy,
            PolicyKind::ManagedPolicy,
            PolicyKind::Role,
            PolicyKind::User,
            PolicyKind::Policy,
            PolicyKind::ManagedPolicy,
            PolicyKind::Role,
            PolicyKind::RolePolicy,
            PolicyKind::Group,
        ][c.below(9)];
        let condition = if c.one_in(6) {
            scope.condition(c)
        } else {
            None
        };
        let documents_count = match kind {
            PolicyKind::Role | PolicyKind::User | PolicyKind::Group => c.range(1, 2),
            _ => 1,
        };
        let documents = (0..documents_count)
            .map(|_| (0..c.range(1, 4)).map(|_| statement(c, &scope)).collect())
            .collect();
        policies.push(Policy {
            id: format!("Policy{i}"),
            kind,
            condition,
            documents,
            statement_scalar: c.one_in(3),
        });
    }
    Template {
        params,
        conditions,
        tables,
        policies,
    }
}

// ---------------------------------------------------------------------------------------
// Rendering (JSON: one reading of every scalar)
// ---------------------------------------------------------------------------------------

fn render_str(s: &Str) -> Value {
    match s {
        Str::Lit(t) => json!(t),
        Str::Ref(n) => json!({ "Ref": n }),
        Str::Arn(t) => json!({ "Fn::GetAtt": [t, "Arn"] }),
        Str::Sub { parts, join: false } => {
            let text: String = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Var(v) => format!("${{{v}}}"),
                    Part::ArnOf(t) => format!("${{{t}.Arn}}"),
                })
                .collect();
            json!({ "Fn::Sub": text })
        }
        Str::Sub { parts, join: true } => {
            let pieces: Vec<Value> = parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => json!(t),
                    Part::Var(v) => json!({ "Ref": v }),
                    Part::ArnOf(t) => json!({ "Fn::GetAtt": [t, "Arn"] }),
                })
                .collect();
            json!({ "Fn::Join": ["", pieces] })
        }
        Str::If(c, a, b) => json!({ "Fn::If": [c, render_str(a), render_str(b)] }),
        Str::NoValue => json!({ "Ref": "AWS::NoValue" }),
    }
}

fn render_cond(c: &Cond) -> Value {
    match c {
        Cond::Equals(n, v) => json!({ "Fn::Equals": [{ "Ref": n }, v] }),
        Cond::Not(c) => json!({ "Fn::Not": [render_cond(c)] }),
        Cond::Named(n) => json!({ "Condition": n }),
        Cond::And(cs) => json!({ "Fn::And": cs.iter().map(render_cond).collect::<Vec<_>>() }),
        Cond::Or(cs) => json!({ "Fn::Or": cs.iter().map(render_cond).collect::<Vec<_>>() }),
    }
}

fn render_list(items: &[Str], scalar: bool) -> Value {
    if scalar && items.len() == 1 {
        render_str(&items[0])
    } else {
        Value::Array(items.iter().map(render_str).collect())
    }
}

fn render_iam_condition(c: &IamCond) -> Value {
    match c {
        IamCond::Mfa(b) => json!({ "Bool": { "aws:MultiFactorAuthPresent": b.to_string() } }),
        IamCond::RegionIn(rs) => json!({ "StringEquals": { "aws:RequestedRegion": rs } }),
        IamCond::TeamLike(p) => json!({ "StringLike": { "aws:PrincipalTag/team": p } }),
    }
}

fn render_statement(s: &Statement) -> Value {
    let mut m = Map::new();
    m.insert("Effect".into(), render_str(&s.effect));
    let action_key = if s.not_action { "NotAction" } else { "Action" };
    m.insert(action_key.into(), render_list(&s.actions, s.action_scalar));
    let resource_key = if s.not_resource {
        "NotResource"
    } else {
        "Resource"
    };
    m.insert(
        resource_key.into(),
        render_list(&s.resources, s.resource_scalar),
    );
    if let Some(c) = &s.condition {
        m.insert("Condition".into(), render_iam_condition(c));
    }
    match &s.when {
        Some(c) => json!({ "Fn::If": [c, Value::Object(m), { "Ref": "AWS::NoValue" }] }),
        None => Value::Object(m),
    }
}

fn render_document(statements: &[Statement], scalar: bool) -> Value {
    let statement = if scalar && statements.len() == 1 {
        render_statement(&statements[0])
    } else {
        Value::Array(statements.iter().map(render_statement).collect())
    };
    json!({ "Version": "2012-10-17", "Statement": statement })
}

/// The two renderings ddb-guard reads: JSON, and YAML with short-form tags.
pub use super::soundness_oracle::Format;

pub fn render(t: &Template, format: Format) -> String {
    let doc = document(t);
    match format {
        Format::Json => serde_json::to_string_pretty(&doc).unwrap_or_default(),
        Format::Yaml => {
            let mut out = String::new();
            yaml_block(&doc, 0, &mut out);
            out
        }
    }
}

const SHORT_TAGS: &[(&str, &str)] = &[
    ("Ref", "!Ref"),
    ("Fn::GetAtt", "!GetAtt"),
    ("Fn::Sub", "!Sub"),
    ("Fn::Join", "!Join"),
    ("Fn::If", "!If"),
    ("Fn::Equals", "!Equals"),
    ("Fn::Not", "!Not"),
    ("Fn::And", "!And"),
    ("Fn::Or", "!Or"),
];

/// A value in YAML flow style; an intrinsic function as its short-form tag (`!GetAtt` in
/// its dotted string form). JSON's string escapes are YAML's double-quoted escapes.
fn yaml_flow(v: &Value) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    match v {
        Value::Object(m) if m.len() == 1 => {
            let (k, arg) = m
                .iter()
                .next()
                .map(|(k, a)| (k.as_str(), a))
                .unwrap_or(("", v));
            if let Some((_, tag)) = SHORT_TAGS.iter().find(|(name, _)| *name == k) {
                return match (k, arg) {
                    ("Fn::GetAtt", Value::Array(a)) if a.len() == 2 => {
                        let parts: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                        format!("{tag} {}", quoted(&parts.join(".")))
                    }
                    _ => format!("{tag} {}", yaml_flow(arg)),
                };
            }
            format!("{{{}: {}}}", quoted(k), yaml_flow(arg))
        }
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), yaml_flow(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(yaml_flow).collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(s) => quoted(s),
        other => other.to_string(),
    }
}

/// Mappings that are not intrinsic functions in block style, everything else in flow
/// style.
fn yaml_block(v: &Value, indent: usize, out: &mut String) {
    let Value::Object(m) = v else {
        return;
    };
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(k);
        out.push(':');
        let intrinsic = matches!(v, Value::Object(inner) if inner.len() == 1
            && inner.keys().any(|k| k == "Condition" || SHORT_TAGS.iter().any(|(n, _)| n == k)));
        match v {
            Value::Object(inner) if !inner.is_empty() && !intrinsic => {
                out.push('\n');
                yaml_block(v, indent + 2, out);
            }
            _ => {
                out.push(' ');
                out.push_str(&yaml_flow(v));
                out.push('\n');
            }
        }
    }
}

fn document(t: &Template) -> Value {
    let mut params = Map::new();
    for p in &t.params {
        let mut m = Map::new();
        m.insert("Type".into(), json!("String"));
        if let Some(allowed) = &p.allowed {
            m.insert("AllowedValues".into(), json!(allowed));
        }
        params.insert(p.name.clone(), Value::Object(m));
    }
    let mut conditions = Map::new();
    for (n, c) in &t.conditions {
        conditions.insert(n.clone(), render_cond(c));
    }
    let mut resources = Map::new();
    for table in &t.tables {
        let mut props = Map::new();
        if let Some(name) = &table.name {
            props.insert("TableName".into(), render_str(name));
        }
        props.insert("BillingMode".into(), json!("PAY_PER_REQUEST"));
        props.insert(
            "AttributeDefinitions".into(),
            json!([{ "AttributeName": "pk", "AttributeType": "S" }]),
        );
        props.insert(
            "KeySchema".into(),
            json!([{ "AttributeName": "pk", "KeyType": "HASH" }]),
        );
        props.insert("DeletionProtectionEnabled".into(), json!(true));
        props.insert(
            "PointInTimeRecoverySpecification".into(),
            json!({ "PointInTimeRecoveryEnabled": true }),
        );
        let mut r = Map::new();
        r.insert("Type".into(), json!("AWS::DynamoDB::Table"));
        if let Some(c) = &table.condition {
            r.insert("Condition".into(), json!(c));
        }
        r.insert("DeletionPolicy".into(), json!("Retain"));
        r.insert("UpdateReplacePolicy".into(), json!("Retain"));
        r.insert("Properties".into(), Value::Object(props));
        resources.insert(table.id.clone(), Value::Object(r));
    }
    for p in &t.policies {
        let docs: Vec<Value> = p
            .documents
            .iter()
            .map(|d| render_document(d, p.statement_scalar))
            .collect();
        let (type_name, props) = match p.kind {
            PolicyKind::Policy => (
                "AWS::IAM::Policy",
                json!({ "PolicyName": "p", "Roles": ["existing-role"], "PolicyDocument": docs[0] }),
            ),
            PolicyKind::ManagedPolicy => (
                "AWS::IAM::ManagedPolicy",
                json!({ "PolicyDocument": docs[0] }),
            ),
            PolicyKind::RolePolicy => (
                "AWS::IAM::RolePolicy",
                json!({ "PolicyName": "p", "RoleName": "existing-role", "PolicyDocument": docs[0] }),
            ),
            PolicyKind::Role | PolicyKind::User | PolicyKind::Group => {
                let inline: Vec<Value> = docs
                    .iter()
                    .enumerate()
                    .map(
                        |(i, d)| json!({ "PolicyName": format!("inline{i}"), "PolicyDocument": d }),
                    )
                    .collect();
                if p.kind == PolicyKind::Role {
                    (
                        "AWS::IAM::Role",
                        json!({
                            "AssumeRolePolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [{
                                    "Effect": "Allow",
                                    "Principal": { "Service": "lambda.amazonaws.com" },
                                    "Action": "sts:AssumeRole"
                                }]
                            },
                            "Policies": inline
                        }),
                    )
                } else if p.kind == PolicyKind::User {
                    ("AWS::IAM::User", json!({ "Policies": inline }))
                } else {
                    ("AWS::IAM::Group", json!({ "Policies": inline }))
                }
            }
        };
        let mut r = Map::new();
        r.insert("Type".into(), json!(type_name));
        if let Some(c) = &p.condition {
            r.insert("Condition".into(), json!(c));
        }
        r.insert("Properties".into(), props);
        resources.insert(p.id.clone(), Value::Object(r));
    }
    let mut doc = Map::new();
    doc.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    if !params.is_empty() {
        doc.insert("Parameters".into(), Value::Object(params));
    }
    if !conditions.is_empty() {
        doc.insert("Conditions".into(), Value::Object(conditions));
    }
    doc.insert("Resources".into(), Value::Object(resources));
    Value::Object(doc)
}

// ---------------------------------------------------------------------------------------
// One deployment: CloudFormation, concretely
// ---------------------------------------------------------------------------------------

/// The values of one deployment: every parameter and pseudo parameter the template reads.
pub type Deployment = BTreeMap<String, String>;

/// The deployment cannot be created (a `Ref` to a table that does not exist, ...).
#[derive(Debug)]
pub struct Failed;

enum V {
    Text(String),
    NoValue,
}

struct Stack<'t> {
    t: &'t Template,
    d: &'t Deployment,
}

impl Stack<'_> {
    fn truth(&self, c: &Cond) -> Result<bool, Failed> {
        Ok(match c {
            Cond::Equals(n, v) => self.d.get(n).ok_or(Failed)? == v,
            Cond::Not(c) => !self.truth(c)?,
            Cond::Named(n) => self.truth_of(n)?,
            Cond::And(cs) => {
                let mut all = true;
                for c in cs {
                    all &= self.truth(c)?;
                }
                all
            }
            Cond::Or(cs) => {
                let mut any = false;
                for c in cs {
                    any |= self.truth(c)?;
                }
                any
            }
        })
    }

    fn truth_of(&self, name: &str) -> Result<bool, Failed> {
        let (_, c) = self
            .t
            .conditions
            .iter()
            .find(|(n, _)| n == name)
            .ok_or(Failed)?;
        self.truth(c)
    }

    fn exists(&self, table: &Table) -> Result<bool, Failed> {
        match &table.condition {
            Some(c) => self.truth_of(c),
            None => Ok(true),
        }
    }

    fn table(&self, id: &str) -> Result<&Table, Failed> {
        let table = self.t.tables.iter().find(|t| t.id == id).ok_or(Failed)?;
        // A reference to a resource its condition left out fails the deployment.
        if self.exists(table)? {
            Ok(table)
        } else {
            Err(Failed)
        }
    }

    /// The physical name: `TableName`, or the name CloudFormation generates.
    fn table_name(&self, table: &Table) -> Result<String, Failed> {
        let generated = || {
            format!(
                "{}-{}-1A2B3C4D5E6F",
                self.pseudo("AWS::StackName"),
                table.id
            )
        };
        match &table.name {
            None => Ok(generated()),
            Some(e) => match self.eval(e)? {
                V::Text(s) => Ok(s),
                V::NoValue => Ok(generated()),
            },
        }
    }

    fn pseudo(&self, name: &str) -> String {
        self.d.get(name).cloned().unwrap_or_default()
    }

    fn arn(&self, id: &str) -> Result<String, Failed> {
        let table = self.table(id)?;
        Ok(format!(
            "arn:{}:dynamodb:{}:{}:table/{}",
            self.pseudo("AWS::Partition"),
            self.pseudo("AWS::Region"),
            self.pseudo("AWS::AccountId"),
            self.table_name(table)?
        ))
    }

    fn reference(&self, name: &str) -> Result<String, Failed> {
        if let Some(v) = self.d.get(name) {
            return Ok(v.clone());
        }
        let table = self.table(name)?;
        self.table_name(table)
    }

    fn eval(&self, e: &Str) -> Result<V, Failed> {
        Ok(match e {
            Str::Lit(s) => V::Text(s.clone()),
            Str::Ref(n) => V::Text(self.reference(n)?),
            Str::Arn(t) => V::Text(self.arn(t)?),
            Str::Sub { parts, .. } => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => out.push_str(t),
                        Part::Var(v) => out.push_str(&self.reference(v)?),
                        Part::ArnOf(t) => out.push_str(&self.arn(t)?),
                    }
                }
                V::Text(out)
            }
            Str::If(c, a, b) => {
                if self.truth_of(c)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Str::NoValue => V::NoValue,
        })
    }

    /// A list's items, `AWS::NoValue` removed.
    fn list(&self, items: &[Str]) -> Result<Vec<String>, Failed> {
        let mut out = Vec::new();
        for i in items {
            if let V::Text(s) = self.eval(i)? {
                out.push(s);
            }
        }
        Ok(out)
    }
}

/// A statement as IAM receives it.
#[derive(Clone, Debug)]
pub struct Concrete {
    pub allow: bool,
    pub not_action: bool,
    pub actions: Vec<String>,
    pub not_resource: bool,
    pub resources: Vec<String>,
    pub condition: Option<IamCond>,
}

/// The documents of one policy resource in one deployment: `None` when the resource does
/// not exist; a document IAM refuses (no action or no resource left) grants nothing and
/// is left out.
fn documents(s: &Stack, p: &Policy) -> Result<Option<Vec<Vec<Concrete>>>, Failed> {
    if let Some(c) = &p.condition {
        if !s.truth_of(c)? {
            return Ok(None);
        }
    }
    let mut out = Vec::new();
    'documents: for d in &p.documents {
        let mut statements = Vec::new();
        for st in d {
            if let Some(c) = &st.when {
                if !s.truth_of(c)? {
                    continue;
                }
            }
            let allow = match s.eval(&st.effect)? {
                V::Text(e) if e == "Allow" => true,
                V::Text(e) if e == "Deny" => false,
                _ => continue 'documents,
            };
            let actions = s.list(&st.actions)?;
            let resources = s.list(&st.resources)?;
            if actions.is_empty() || resources.is_empty() {
                continue 'documents;
            }
            statements.push(Concrete {
                allow,
                not_action: st.not_action,
                actions,
                not_resource: st.not_resource,
                resources,
                condition: st.condition.clone(),
            });
        }
        out.push(statements);
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------
// IAM, concretely
// ---------------------------------------------------------------------------------------

/// `*` any run of characters, `?` one character; everything else itself. Backtracking on
/// the last `*`, the classic linear-space glob.
pub fn glob(pattern: &str, text: &str, fold_case: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The request context a condition reads; `None` is a key absent from the request.
#[derive(Clone, Debug)]
pub struct Context {
    pub mfa: Option<bool>,
    pub region: &'static str,
    pub team: Option<&'static str>,
}

pub fn contexts() -> Vec<Context> {
    let mut out = Vec::new();
    for mfa in [None, Some(true), Some(false)] {
        for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
            for team in [None, Some("ops"), Some("dev")] {
                out.push(Context { mfa, region, team });
            }
        }
    }
    out
}

/// Condition operators as the IAM reference defines them: `Bool` and `StringLike` on an
/// absent key are false; `StringEquals` with a list holds when any value equals.
fn holds(c: &IamCond, ctx: &Context) -> bool {
    match c {
        IamCond::Mfa(b) => ctx.mfa == Some(*b),
        IamCond::RegionIn(rs) => rs.iter().any(|r| r == ctx.region),
        IamCond::TeamLike(p) => ctx.team.is_some_and(|t| glob(p, t, false)),
    }
}

fn applies(s: &Concrete, action: &str, arn: &str, ctx: &Context) -> bool {
    let action_hit = s.actions.iter().any(|a| glob(a, action, true));
    let resource_hit = s.resources.iter().any(|r| glob(r, arn, false));
    action_hit != s.not_action
        && resource_hit != s.not_resource
        && s.condition.as_ref().is_none_or(|c| holds(c, ctx))
}

/// IAM's decision for one request against one document.
pub fn allowed(doc: &[Concrete], action: &str, arn: &str, ctx: &Context) -> bool {
    let (allows, denies): (Vec<&Concrete>, Vec<&Concrete>) = doc.iter().partition(|s| s.allow);
    allows.iter().any(|s| applies(s, action, arn, ctx))
        && !denies.iter().any(|s| applies(s, action, arn, ctx))
}

// ---------------------------------------------------------------------------------------
// The guarded actions and candidate ARNs (from the rules' documentation)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Table,
    TableBackup,
    RecoveryPoint,
    Vault,
    Plan,
}

/// Each rule's actions and the ARN shapes IAM authorizes them against, as
/// docs/rules/DDB010.md, DDB011.md and DDB012.md list them.
/// A guarded action and the shapes of the ARNs it acts on.
pub type Guarded = (&'static str, &'static [Shape]);

pub const RULES: &[(&str, &[Guarded])] = &[
    ("DDB010", &[("dynamodb:DeleteTable", &[Shape::Table])]),
    (
        "DDB011",
        &[
            ("dynamodb:DeleteBackup", &[Shape::TableBackup]),
            (
                "backup:DeleteRecoveryPoint",
                &[Shape::RecoveryPoint, Shape::TableBackup],
            ),
            ("backup:DeleteBackupVault", &[Shape::Vault]),
            ("backup:DeleteBackupSelection", &[Shape::Plan]),
            ("backup:DeleteBackupPlan", &[Shape::Plan]),
        ],
    ),
    ("DDB012", &[("dynamodb:UpdateTable", &[Shape::Table])]),
];

/// Field values to try: a fixed set, plus what each pattern of the deployment spells with
/// its wildcards replaced (by nothing, by `zz`), so that an ARN matching one pattern and
/// missing another is among the candidates whenever the patterns are of the kinds the
/// generator writes.
#[derive(Default)]
struct Vocabulary {
    regions: BTreeSet<String>,
    accounts: BTreeSet<String>,
    names: BTreeSet<String>,
    ids: BTreeSet<String>,
}

fn fillings(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    for star in ["", "zz", "Orders"] {
        out.push(pattern.replace('*', star).replace('?', "O"));
    }
    out
}

fn vocabulary(deployment: &Deployment, names: &[String], docs: &[Vec<Concrete>]) -> Vocabulary {
    let mut v = Vocabulary::default();
    v.regions.extend(REGIONS.iter().map(|s| s.to_string()));
    v.regions.insert("ap-south-1".into());
    v.accounts.extend(ACCOUNTS.iter().map(|s| s.to_string()));
    v.accounts.insert("999999999999".into());
    v.names.extend(NAMES.iter().map(|s| s.to_string()));
    v.names.insert("Zed".into());
    v.names.extend(names.iter().cloned());
    v.ids.insert("01700000000000-a1b2c3d4".into());
    if let Some(r) = deployment.get("AWS::Region") {
        v.regions.insert(r.clone());
    }
    if let Some(a) = deployment.get("AWS::AccountId") {
        v.accounts.insert(a.clone());
    }
    for s in docs.iter().flatten() {
        for r in &s.resources {
            for filled in fillings(r) {
                let fields: Vec<&str> = filled.splitn(6, ':').collect();
                if fields.len() < 6 {
                    continue;
                }
                // A Region or account a pattern spells without wildcards (a request
                // names real ones).
                let plain = |f: &str| !f.is_empty() && !f.contains(['*', '?']);
                let written: Vec<&str> = r.splitn(6, ':').collect();
                if written.len() == 6 && plain(written[3]) {
                    v.regions.insert(fields[3].to_string());
                }
                if written.len() == 6 && plain(written[4]) {
                    v.accounts.insert(fields[4].to_string());
                }
                let rest = fields[5];
                if let Some(name) = rest.strip_prefix("table/") {
                    let mut it = name.split('/');
                    if let Some(n) = it.next().filter(|n| !n.is_empty()) {
                        v.names.insert(n.to_string());
                    }
                    if let (Some("backup"), Some(id)) = (it.next(), it.next()) {
                        if !id.is_empty() {
                            v.ids.insert(id.to_string());
                        }
                    }
                }
                for prefix in ["recovery-point:", "backup-vault:", "backup-plan:"] {
                    if let Some(id) = rest.strip_prefix(prefix).filter(|i| !i.is_empty()) {
                        v.ids.insert(id.to_string());
                    }
                }
            }
        }
    }
    v
}

fn candidates(partition: &str, shape: Shape, v: &Vocabulary) -> Vec<String> {
    let mut out = Vec::new();
    for r in &v.regions {
        for a in &v.accounts {
            match shape {
                Shape::Table => v
                    .names
                    .iter()
                    .for_each(|n| out.push(format!("arn:{partition}:dynamodb:{r}:{a}:table/{n}"))),
                Shape::TableBackup => v.names.iter().for_each(|n| {
                    v.ids.iter().for_each(|id| {
                        out.push(format!(
                            "arn:{partition}:dynamodb:{r}:{a}:table/{n}/backup/{id}"
                        ))
                    })
                }),
                Shape::RecoveryPoint => v.ids.iter().for_each(|id| {
                    out.push(format!(
                        "arn:{partition}:backup:{r}:{a}:recovery-point:{id}"
                    ))
                }),
                Shape::Vault => v.names.iter().chain(&v.ids).for_each(|n| {
                    out.push(format!("arn:{partition}:backup:{r}:{a}:backup-vault:{n}"))
                }),
                Shape::Plan => v.ids.iter().for_each(|id| {
                    out.push(format!("arn:{partition}:backup:{r}:{a}:backup-plan:{id}"))
                }),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Deployments
// ---------------------------------------------------------------------------------------

fn walk_str(e: &Str, out: &mut BTreeSet<String>, t: &Template) {
    match e {
        Str::Lit(_) | Str::NoValue => {}
        Str::Ref(n) => read_name(n, out, t),
        Str::Arn(id) => read_arn(id, out, t),
        Str::Sub { parts, .. } => {
            for p in parts {
                match p {
                    Part::Text(_) => {}
                    Part::Var(n) => read_name(n, out, t),
                    Part::ArnOf(id) => read_arn(id, out, t),
                }
            }
        }
        Str::If(c, a, b) => {
            read_condition(c, out, t);
            walk_str(a, out, t);
            walk_str(b, out, t);
        }
    }
}

fn read_name(n: &str, out: &mut BTreeSet<String>, t: &Template) {
    if let Some(table) = t.tables.iter().find(|x| x.id == n) {
        read_table(table, out, t);
    } else {
        out.insert(n.to_string());
    }
}

fn read_arn(id: &str, out: &mut BTreeSet<String>, t: &Template) {
    for p in ["AWS::Partition", "AWS::Region", "AWS::AccountId"] {
        out.insert(p.to_string());
    }
    read_name(id, out, t);
}

fn read_table(table: &Table, out: &mut BTreeSet<String>, t: &Template) {
    if let Some(c) = &table.condition {
        read_condition(c, out, t);
    }
    match &table.name {
        Some(e) => {
            walk_str(e, out, t);
            out.insert("AWS::StackName".into()); // `AWS::NoValue` in a branch
        }
        None => {
            out.insert("AWS::StackName".into());
        }
    }
}

fn read_condition(name: &str, out: &mut BTreeSet<String>, t: &Template) {
    fn walk(c: &Cond, out: &mut BTreeSet<String>, t: &Template) {
        match c {
            Cond::Equals(n, _) => {
                out.insert(n.clone());
            }
            Cond::Not(c) => walk(c, out, t),
            Cond::Named(n) => read_condition(n, out, t),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| walk(c, out, t)),
        }
    }
    if let Some((_, c)) = t.conditions.iter().find(|(n, _)| n == name) {
        walk(c, out, t);
    }
}

/// The names of the parameters and pseudo parameters a policy's grants depend on.
fn reads(t: &Template, p: &Policy) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.insert("AWS::Partition".to_string()); // the partition of every request's ARN
    if let Some(c) = &p.condition {
        read_condition(c, &mut out, t);
    }
    for s in p.documents.iter().flatten() {
        if let Some(c) = &s.when {
            read_condition(c, &mut out, t);
        }
        walk_str(&s.effect, &mut out, t);
        s.actions.iter().for_each(|e| walk_str(e, &mut out, t));
        s.resources.iter().for_each(|e| walk_str(e, &mut out, t));
    }
    out
}

fn domain(t: &Template, name: &str) -> Vec<String> {
    let fixed: &[&str] = match name {
        "AWS::Partition" => PARTITIONS,
        "AWS::Region" => REGIONS,
        "AWS::AccountId" => ACCOUNTS,
        "AWS::StackName" => STACKS,
        _ => match t.params.iter().find(|p| p.name == name) {
            Some(p) => {
                return p
                    .allowed
                    .clone()
                    .unwrap_or_else(|| values(p.kind).iter().map(|s| s.to_string()).collect())
            }
            None => &[],
        },
    };
    fixed.iter().map(|s| s.to_string()).collect()
}

fn deployments(t: &Template, names: &BTreeSet<String>) -> Vec<Deployment> {
    let mut out = vec![Deployment::new()];
    for n in names {
        let values = domain(t, n);
        out = out
            .into_iter()
            .flat_map(|d| {
                values.iter().map(move |v| {
                    let mut d = d.clone();
                    d.insert(n.clone(), v.clone());
                    d
                })
            })
            .collect();
    }
    out
}

// ---------------------------------------------------------------------------------------
// The judgement
// ---------------------------------------------------------------------------------------

/// One policy and one rule: a deployment and request IAM allows, if any.
#[derive(Debug, Default)]
pub struct Verdict {
    pub witness: Option<String>,
    pub deployments: usize,
}

pub fn judge(t: &Template, p: &Policy, rule: &str) -> Verdict {
    let Some((_, actions)) = RULES.iter().find(|(code, _)| *code == rule) else {
        return Verdict::default();
    };
    let names = reads(t, p);
    let all = deployments(t, &names);
    let ctxs = contexts();
    let mut verdict = Verdict {
        witness: None,
        deployments: 0,
    };
    for d in &all {
        let stack = Stack { t, d };
        let Ok(Some(docs)) = documents(&stack, p) else {
            continue;
        };
        verdict.deployments += 1;
        let table_names: Vec<String> = t
            .tables
            .iter()
            .filter_map(|x| stack.table_name(x).ok())
            .collect();
        let vocabulary = vocabulary(d, &table_names, &docs);
        let partition = d.get("AWS::Partition").cloned().unwrap_or_default();
        for (i, doc) in docs.iter().enumerate() {
            for (action, shapes) in actions.iter() {
                // Only a statement that names the action can allow it.
                let named = |s: &Concrete| {
                    s.allow && (s.actions.iter().any(|a| glob(a, action, true)) != s.not_action)
                };
                if !doc.iter().any(named) {
                    continue;
                }
                for shape in shapes.iter() {
                    for arn in candidates(&partition, *shape, &vocabulary) {
                        // Cheap first: some `Allow` matches whatever the request context.
                        let maybe = doc.iter().any(|s| {
                            s.allow
                                && (s.actions.iter().any(|a| glob(a, action, true)) != s.not_action)
                                && (s.resources.iter().any(|r| glob(r, &arn, false))
                                    != s.not_resource)
                        });
                        if !maybe {
                            continue;
                        }
                        if let Some(ctx) = ctxs.iter().find(|c| allowed(doc, action, &arn, c)) {
                            verdict.witness = Some(format!(
                                "in the deployment {d:?}, document {i} of `{}` allows `{action}` on `{arn}` (request context {ctx:?})",
                                p.id
                            ));
                            return verdict;
                        }
                    }
                }
            }
        }
    }
    verdict
}

// ---------------------------------------------------------------------------------------
// ddb-guard, in process
// ---------------------------------------------------------------------------------------

/// What ddb-guard said about one rendering; the file failing (exit 2) fails closed for
/// every policy.
pub use super::soundness_oracle::Guard;

/// `check --select DDB010,DDB011,DDB012` on the rendered template.
pub fn run_guard(text: &str, format: Format) -> Guard {
    let settings = ddb_guard::check::Settings {
        rules: ddb_guard::rules::RULES
            .iter()
            .copied()
            .filter(|r| RULES.iter().any(|(code, _)| *code == r.code))
            .collect(),
        ..ddb_guard::check::Settings::default()
    };
    super::soundness_oracle::run_guard_with(settings, text, format)
}

/// What one template contributed to the counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// (policy, rule) pairs judged.
    pub pairs: usize,
    /// Some deployment allows, and ddb-guard reports (or fails the file).
    pub agreed_grant: usize,
    /// No deployment allows, and ddb-guard reports nothing.
    pub agreed_safe: usize,
    /// No deployment allows, and ddb-guard reports anyway (the precision side; also where
    /// the candidate ARNs missed a witness).
    pub imprecise: usize,
    /// Templates whose file failed (exit 2: every pair fails closed).
    pub failed: usize,
}

impl std::ops::AddAssign for Outcome {
    fn add_assign(&mut self, o: Outcome) {
        self.pairs += o.pairs;
        self.agreed_grant += o.agreed_grant;
        self.agreed_safe += o.agreed_safe;
        self.imprecise += o.imprecise;
        self.failed += o.failed;
    }
}

/// The soundness property on `t`, in both renderings; `Err` describes a violation.
pub fn check(t: &Template) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    let verdicts: Vec<Vec<Verdict>> = t
        .policies
        .iter()
        .map(|p| RULES.iter().map(|(rule, _)| judge(t, p, rule)).collect())
        .collect();
    for format in [Format::Json, Format::Yaml] {
        check_rendering(t, format, &verdicts, &mut outcome)?;
    }
    Ok(outcome)
}

fn check_rendering(
    t: &Template,
    format: Format,
    verdicts: &[Vec<Verdict>],
    outcome: &mut Outcome,
) -> Result<(), String> {
    let text = render(t, format);
    let guard = run_guard(&text, format);
    if guard.failed.is_some() {
        outcome.failed += 1;
    }
    for (p, verdicts) in t.policies.iter().zip(verdicts) {
        for ((rule, _), verdict) in RULES.iter().zip(verdicts) {
            outcome.pairs += 1;
            if guard.failed.is_some() {
                // Fails closed: every policy of the file counts as reported.
                continue;
            }
            let reported = guard
                .findings
                .iter()
                .any(|(code, res)| code == rule && *res == p.id);
            match (&verdict.witness, reported) {
                (Some(witness), false) => {
                    return Err(format!(
                        "UNSOUND ({format:?}): ddb-guard reports no {rule} for `{}`, but {witness}\n{text}",
                        p.id
                    ))
                }
                (Some(_), true) => outcome.agreed_grant += 1,
                (None, true) => {
                    outcome.imprecise += 1;
                    if std::env::var_os("IAM_ORACLE_SHOW_IMPRECISE").is_some() {
                        eprintln!("IMPRECISE ({format:?}): {rule} on `{}`\n{text}", p.id);
                    }
                }
                (None, false) => outcome.agreed_safe += 1,
            }
        }
    }
    Ok(())
}
