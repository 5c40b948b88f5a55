//! Ground truth for DDB022 (table-replaced) on generated (base, head) template pairs.
//!
//! It shares no code with `ddb_guard`: a pair is generated as two small trees of one
//! table, rendered to YAML, and evaluated *concretely* here, one assignment of parameter
//! values at a time, the way CloudFormation resolves a template before it compares the
//! deployed properties with the new ones. A table is replaced when some assignment that
//! both revisions allow (each parameter takes a value in both `AllowedValues` lists: an
//! update keeps the stack's parameter values) gives it another `TableName`, key schema
//! (attribute names and key types, in order), or `AttributeType` for an attribute that is
//! a key at both revisions. Either revision may be an `AWS::Serverless::SimpleTable`,
//! judged as the table SAM makes of it (its `PrimaryKey`, or `id` of type `String`, as
//! one HASH key); the mutations switch between the two forms with the same shape or
//! another key. A `TableName` may read `!GetAtt Gen.Value` of a custom resource `Gen`
//! (also inside `Fn::Sub`), which returns `gen-<Suffix>`: an edit of its `Suffix` changes
//! the name it returns. The guard is run as the real binary (`ddb-guard diff`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A small deterministic generator (xorshift), so a proptest seed is a whole pair.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Which kind of value an expression stands for (its literal pool and mapping field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Name,
    Key,
    Type,
}

impl Role {
    fn words(self) -> &'static [&'static str] {
        match self {
            Role::Name => &["orders", "ledger", "orders-v2"],
            Role::Key => &["id", "pk", "sk"],
            Role::Type => &["S", "N", "B"],
        }
    }
    fn field(self) -> &'static str {
        match self {
            Role::Name => "name",
            Role::Key => "key",
            Role::Type => "type",
        }
    }
}

pub const ENV_VALUES: [&str; 3] = ["prod", "dev", "test"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Lit(String),
    /// `!Sub "text"`: the same text.
    SubLit(String),
    /// `!Join ["", [a, b]]`: `a` + `b`.
    JoinLit(String, String),
    /// `!Sub "prefix${Env}"`.
    SubEnv(String),
    /// `!Join ["-", [prefix, !Ref Env]]`.
    JoinEnv(String),
    If(String, Box<Expr>, Box<Expr>),
    /// `!FindInMap [M, !Ref Env, field]`.
    FindInMap(Role),
    /// `!GetAtt Gen.Value`: the custom resource returns `gen-<Suffix>`.
    Gen,
    /// `!Sub "${Gen.Value}-suffix"`.
    SubGen(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `!Equals [!Ref Env, value]` (operands swapped when the flag is set).
    EnvIs(String, bool),
    Not(String),
    And(String, String),
    Or(String, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub allowed: Vec<String>,
    /// Conditions in order; each refers only to earlier ones.
    pub conditions: Vec<(String, Cond)>,
    /// Env value -> field -> value.
    pub mapping: BTreeMap<String, BTreeMap<String, String>>,
    pub table_name: Option<Expr>,
    /// (attribute name, key type) in order.
    pub keys: Vec<(Expr, &'static str)>,
    /// (attribute name, its type), in the written order.
    pub definitions: Vec<(String, Expr)>,
    /// An `AWS::Serverless::SimpleTable` instead: its `PrimaryKey` (`Name`, `Type` as SAM
    /// spells it), or none for SAM's default; `keys` and `definitions` are then unused.
    pub simple: Option<Option<(String, String)>>,
    /// The `Suffix` property of custom resource `Gen`.
    pub gen_suffix: String,
}

/// SAM's spelling of an attribute type, and back.
const SAM_TYPES: [(&str, &str); 3] = [("String", "S"), ("Number", "N"), ("Binary", "B")];

fn sam_type(rng: &mut Rng) -> String {
    SAM_TYPES[rng.below(3)].0.to_string()
}

fn primary_key(rng: &mut Rng) -> Option<(String, String)> {
    rng.chance(60)
        .then(|| (rng.pick(Role::Key.words()).to_string(), sam_type(rng)))
}

fn expr(rng: &mut Rng, role: Role, conditions: usize, depth: usize) -> Expr {
    let word = |rng: &mut Rng| rng.pick(role.words()).to_string();
    match rng.below(if depth == 0 { 3 } else { 7 }) {
        0 | 1 => Expr::Lit(word(rng)),
        2 => Expr::FindInMap(role),
        3 if conditions > 0 => Expr::If(
            format!("C{}", rng.below(conditions)),
            Box::new(expr(rng, role, conditions, depth - 1)),
            Box::new(expr(rng, role, conditions, depth - 1)),
        ),
        4 if role == Role::Name => Expr::SubEnv(format!("{}-", word(rng))),
        5 if role == Role::Name => Expr::JoinEnv(word(rng)),
        6 if role == Role::Name && rng.chance(50) => Expr::Gen,
        6 if role == Role::Name => Expr::SubGen(word(rng)),
        _ => Expr::Lit(word(rng)),
    }
}

fn cond(rng: &mut Rng, earlier: usize) -> Cond {
    let env = |rng: &mut Rng| rng.pick(&ENV_VALUES).to_string();
    let c = |rng: &mut Rng| format!("C{}", rng.below(earlier));
    match rng.below(if earlier == 0 { 1 } else { 4 }) {
        0 => Cond::EnvIs(env(rng), rng.chance(30)),
        1 => Cond::Not(c(rng)),
        2 => Cond::And(c(rng), c(rng)),
        _ => Cond::Or(c(rng), c(rng)),
    }
}

pub fn generate(rng: &mut Rng) -> Template {
    let n_conditions = rng.below(4);
    let conditions = (0..n_conditions)
        .map(|i| (format!("C{i}"), cond(rng, i)))
        .collect();
    let mut mapping = BTreeMap::new();
    for env in ENV_VALUES {
        let mut fields = BTreeMap::new();
        for role in [Role::Name, Role::Key, Role::Type] {
            fields.insert(role.field().to_string(), rng.pick(role.words()).to_string());
        }
        mapping.insert(env.to_string(), fields);
    }
    let allowed = if rng.chance(80) {
        vec!["prod".to_string(), "dev".to_string()]
    } else {
        vec!["prod".to_string()]
    };
    let table_name = rng
        .chance(80)
        .then(|| expr(rng, Role::Name, n_conditions, 2));
    let mut keys = vec![(expr(rng, Role::Key, n_conditions, 2), "HASH")];
    if rng.chance(40) {
        keys.push((expr(rng, Role::Key, n_conditions, 1), "RANGE"));
    }
    let definitions = Role::Key
        .words()
        .iter()
        .map(|k| (k.to_string(), expr(rng, Role::Type, n_conditions, 1)))
        .collect();
    let simple = rng.chance(20).then(|| primary_key(rng));
    let gen_suffix = rng.pick(&GEN_SUFFIXES).to_string();
    Template {
        allowed,
        conditions,
        mapping,
        table_name,
        keys,
        definitions,
        simple,
        gen_suffix,
    }
}

const GEN_SUFFIXES: [&str; 2] = ["a", "b"];

/// The same value written another way.
fn respell(rng: &mut Rng, e: &Expr) -> Expr {
    match e {
        Expr::Lit(w) if w.len() > 1 => {
            if rng.chance(50) {
                Expr::SubLit(w.clone())
            } else {
                let cut = 1 + rng.below(w.len() - 1);
                Expr::JoinLit(w[..cut].to_string(), w[cut..].to_string())
            }
        }
        Expr::If(c, a, b) => Expr::If(
            c.clone(),
            Box::new(respell(rng, a)),
            Box::new(respell(rng, b)),
        ),
        other => other.clone(),
    }
}

/// A head revision: a few edits of the base, some of which keep every value (another
/// spelling, reordered definitions, an extra allowed value, swapped `Fn::Equals`
/// operands) and some of which may change values in some cases (a mapping value, a
/// condition's definition, an expression).
pub fn mutate(rng: &mut Rng, base: &Template) -> Template {
    let mut t = base.clone();
    let n = t.conditions.len();
    for _ in 0..1 + rng.below(3) {
        match rng.below(11) {
            0 => {
                let env = rng.pick(&ENV_VALUES).to_string();
                let role = [Role::Name, Role::Key, Role::Type][rng.below(3)];
                if let Some(fields) = t.mapping.get_mut(&env) {
                    fields.insert(role.field().to_string(), rng.pick(role.words()).to_string());
                }
            }
            1 if n > 0 => {
                let i = rng.below(n);
                t.conditions[i].1 = cond(rng, i);
            }
            2 => {
                t.table_name = rng.chance(85).then(|| expr(rng, Role::Name, n, 2));
            }
            3 => {
                let i = rng.below(t.keys.len());
                t.keys[i].0 = expr(rng, Role::Key, n, 1);
            }
            4 => {
                let i = rng.below(t.definitions.len());
                t.definitions[i].1 = expr(rng, Role::Type, n, 1);
            }
            5 => {
                if let Some(name) = &t.table_name {
                    t.table_name = Some(respell(rng, name));
                }
                for k in &mut t.keys {
                    k.0 = respell(rng, &k.0);
                }
            }
            6 => t.definitions.reverse(),
            8 => {
                t.gen_suffix = GEN_SUFFIXES
                    .iter()
                    .find(|x| **x != t.gen_suffix)
                    .map_or_else(String::new, |x| (*x).to_string());
            }
            9 | 10 => match &t.simple {
                // The table SAM makes, written out (the same shape), or another key.
                Some(pk) if rng.chance(60) => {
                    let (name, ty) = pk
                        .clone()
                        .unwrap_or(("id".to_string(), "String".to_string()));
                    let short = SAM_TYPES.iter().find(|x| x.0 == ty).map_or("S", |x| x.1);
                    t.keys = vec![(Expr::Lit(name.clone()), "HASH")];
                    for (n, e) in &mut t.definitions {
                        if *n == name {
                            *e = Expr::Lit(short.to_string());
                        }
                    }
                    t.simple = None;
                }
                Some(_) => t.simple = Some(primary_key(rng)),
                None => match (t.keys.as_slice(), rng.chance(50)) {
                    ([(Expr::Lit(name), _)], true) => {
                        let ty = t.definitions.iter().find(|(n, _)| n == name).and_then(
                            |(_, e)| match e {
                                Expr::Lit(x) => SAM_TYPES.iter().find(|y| y.1 == x),
                                _ => None,
                            },
                        );
                        if let Some((long, short)) = ty {
                            let default = name == "id" && *short == "S" && rng.chance(50);
                            t.simple =
                                Some((!default).then(|| (name.clone(), (*long).to_string())));
                        }
                    }
                    _ => t.simple = Some(primary_key(rng)),
                },
            },
            7 => {
                if !t.allowed.contains(&"test".to_string()) {
                    t.allowed.push("test".to_string());
                }
            }
            _ => {
                for (_, c) in &mut t.conditions {
                    if let Cond::EnvIs(_, swapped) = c {
                        *swapped = !*swapped;
                    }
                }
            }
        }
    }
    t
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

fn render_expr(e: &Expr) -> String {
    match e {
        Expr::Lit(w) => w.clone(),
        Expr::SubLit(w) => format!("!Sub \"{w}\""),
        Expr::JoinLit(a, b) => format!("!Join [\"\", [\"{a}\", \"{b}\"]]"),
        Expr::SubEnv(p) => format!("!Sub \"{p}${{Env}}\""),
        Expr::JoinEnv(p) => format!("!Join [\"-\", [\"{p}\", !Ref Env]]"),
        Expr::If(c, a, b) => format!("!If [{c}, {}, {}]", render_expr(a), render_expr(b)),
        Expr::FindInMap(role) => format!("!FindInMap [M, !Ref Env, {}]", role.field()),
        Expr::Gen => "!GetAtt Gen.Value".to_string(),
        Expr::SubGen(w) => format!("!Sub \"${{Gen.Value}}-{w}\""),
    }
}

fn render_cond(c: &Cond) -> String {
    match c {
        Cond::EnvIs(v, false) => format!("!Equals [!Ref Env, {v}]"),
        Cond::EnvIs(v, true) => format!("!Equals [{v}, !Ref Env]"),
        Cond::Not(x) => format!("!Not [!Condition {x}]"),
        Cond::And(x, y) => format!("!And [!Condition {x}, !Condition {y}]"),
        Cond::Or(x, y) => format!("!Or [!Condition {x}, !Condition {y}]"),
    }
}

pub fn render(t: &Template) -> String {
    let mut s = String::new();
    if t.simple.is_some() {
        s.push_str("Transform: AWS::Serverless-2016-10-31\n");
    }
    let _ = writeln!(
        s,
        "Parameters:\n  Env:\n    Type: String\n    AllowedValues: [{}]",
        t.allowed.join(", ")
    );
    if !t.conditions.is_empty() {
        s.push_str("Conditions:\n");
        for (name, c) in &t.conditions {
            let _ = writeln!(s, "  {name}: {}", render_cond(c));
        }
    }
    s.push_str("Mappings:\n  M:\n");
    for (env, fields) in &t.mapping {
        let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(s, "    {env}: {{{}}}", f.join(", "));
    }
    let gen = format!(
        "  Gen:\n    Type: Custom::Name\n    Properties:\n      ServiceToken: arn:aws:lambda:us-east-1:111111111111:function:name\n      Suffix: {}\n",
        t.gen_suffix
    );
    if let Some(pk) = &t.simple {
        s.push_str("Resources:\n");
        s.push_str(&gen);
        s.push_str("  T:\n    Type: AWS::Serverless::SimpleTable\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n");
        if let Some(name) = &t.table_name {
            let _ = writeln!(s, "      TableName: {}", render_expr(name));
        }
        if let Some((name, ty)) = pk {
            let _ = writeln!(
                s,
                "      PrimaryKey:\n        Name: {name}\n        Type: {ty}"
            );
        }
        if t.table_name.is_none() && pk.is_none() {
            s.push_str("      Tags: {team: data}\n");
        }
        return s;
    }
    s.push_str("Resources:\n");
    s.push_str(&gen);
    s.push_str("  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n");
    if let Some(name) = &t.table_name {
        let _ = writeln!(s, "      TableName: {}", render_expr(name));
    }
    s.push_str("      KeySchema:\n");
    for (name, kind) in &t.keys {
        let _ = writeln!(
            s,
            "        - AttributeName: {}\n          KeyType: {kind}",
            render_expr(name)
        );
    }
    s.push_str("      AttributeDefinitions:\n");
    for (name, ty) in &t.definitions {
        let _ = writeln!(
            s,
            "        - AttributeName: {name}\n          AttributeType: {}",
            render_expr(ty)
        );
    }
    s
}

// ---------------------------------------------------------------------------------------
// Concrete evaluation
// ---------------------------------------------------------------------------------------

fn holds(t: &Template, name: &str, env: &str) -> bool {
    let Some((i, (_, c))) = t
        .conditions
        .iter()
        .enumerate()
        .find(|(_, (n, _))| n == name)
    else {
        return false;
    };
    let earlier = |x: &str| {
        let sub = Template {
            conditions: t.conditions[..i].to_vec(),
            ..t.clone()
        };
        holds(&sub, x, env)
    };
    match c {
        Cond::EnvIs(v, _) => v == env,
        Cond::Not(x) => !earlier(x),
        Cond::And(x, y) => earlier(x) && earlier(y),
        Cond::Or(x, y) => earlier(x) || earlier(y),
    }
}

fn value(t: &Template, e: &Expr, env: &str) -> String {
    match e {
        Expr::Lit(w) | Expr::SubLit(w) => w.clone(),
        Expr::JoinLit(a, b) => format!("{a}{b}"),
        Expr::SubEnv(p) => format!("{p}{env}"),
        Expr::JoinEnv(p) => format!("{p}-{env}"),
        Expr::If(c, a, b) => {
            if holds(t, c, env) {
                value(t, a, env)
            } else {
                value(t, b, env)
            }
        }
        Expr::FindInMap(role) => t.mapping[env][role.field()].clone(),
        Expr::Gen => format!("gen-{}", t.gen_suffix),
        Expr::SubGen(w) => format!("gen-{}-{w}", t.gen_suffix),
    }
}

/// What CloudFormation compares for a replacement, in one assignment.
#[derive(Debug, PartialEq, Eq)]
struct Resolved {
    table_name: Option<String>,
    keys: Vec<(String, &'static str)>,
    types: BTreeMap<String, String>,
}

fn resolved(t: &Template, env: &str) -> Resolved {
    let table_name = t.table_name.as_ref().map(|e| value(t, e, env));
    if let Some(pk) = &t.simple {
        // SAM: `PrimaryKey.Name`/`Type` (String, Number, Binary -> S, N, B), `id`/`S`
        // without it, one HASH key.
        let (name, ty) = pk
            .clone()
            .unwrap_or(("id".to_string(), "String".to_string()));
        let short = SAM_TYPES.iter().find(|x| x.0 == ty).map_or("?", |x| x.1);
        return Resolved {
            table_name,
            keys: vec![(name.clone(), "HASH")],
            types: [(name, short.to_string())].into_iter().collect(),
        };
    }
    let keys: Vec<(String, &'static str)> =
        t.keys.iter().map(|(e, k)| (value(t, e, env), *k)).collect();
    let types = keys
        .iter()
        .filter_map(|(name, _)| {
            t.definitions
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, ty)| (name.clone(), value(t, ty, env)))
        })
        .collect();
    Resolved {
        table_name,
        keys,
        types,
    }
}

/// The assignments in which the table is replaced (empty: no replacement).
pub fn replaced_under(base: &Template, head: &Template) -> Vec<String> {
    ENV_VALUES
        .iter()
        .filter(|env| {
            base.allowed.iter().any(|a| a == *env) && head.allowed.iter().any(|a| a == *env)
        })
        .filter(|env| {
            let (b, h) = (resolved(base, env), resolved(head, env));
            b.table_name != h.table_name
                || b.keys != h.keys
                || b.types
                    .iter()
                    .any(|(k, v)| h.types.get(k).is_some_and(|w| w != v))
        })
        .map(|env| env.to_string())
        .collect()
}
