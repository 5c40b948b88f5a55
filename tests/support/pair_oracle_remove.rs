//! The pull-request guard's removal oracle: (base, head) template pairs with a brute-force
//! answer to "which tables does deploying the head delete", from a concrete evaluator that
//! shares no code with `ddb_guard::model`.
//!
//! # What is generated
//! Two parameters `P0`, `P1` (`Type: String`, `AllowedValues` a subset of `a b c` or none,
//! a `Default` or none; a default is one of the allowed values), a mapping `M` from some of
//! `a b c` to `{k: x|y}`, up to three conditions built from `Fn::Equals` of a parameter,
//! of `AWS::Region` or of `Fn::FindInMap [M, !Ref P, k]` with a literal, `Fn::Not`,
//! `Fn::And`, `Fn::Or` and `Condition` (of an earlier one), two tables with or without a
//! `Condition`, and a `Fn::ForEach` of tables whose collection is a literal list or
//! `!Ref` to a `CommaDelimitedList` parameter. The head is the base with some of these
//! regenerated: a parameter's `AllowedValues`/`Default`, a condition, the mapping, a
//! table's `Condition`, a table dropped, the loop's collection.
//!
//! # The concrete evaluator
//! A deployment passes each parameter a value from `a b c d` or leaves it out (the
//! revision's `Default`), passes the list parameter one of a few lists or leaves it out,
//! and runs in Region `us-east-1`, `eu-west-1` or `ap-south-1` (which no condition names). A revision cannot take a deployment
//! that passes a value outside its `AllowedValues` or leaves out a parameter with no
//! `Default`; a map lookup of a missing key fails it. A table (each copy of the loop)
//! exists when it has no `Condition` or its condition is true.
//!
//! # Ground truth
//! Deploying the head deletes table `T` when some deployment the head takes does not
//! produce `T`, and either the base takes the same deployment and produces `T`, or the
//! base cannot take it (the change allowed a new value) and produces `T` in some
//! deployment it takes: the stack was deployed with that one, and the update may pass the
//! new value. A deployment the base can take but that does not produce `T` deletes
//! nothing: the base could already be deployed without it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Bytes as a stream of small choices (0 once exhausted).
pub struct Choices<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Choices<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        Choices { bytes, at: 0 }
    }
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b as usize % n.max(1)
    }
    fn flip(&mut self) -> bool {
        self.pick(2) == 1
    }
}

const VALUES: [&str; 3] = ["a", "b", "c"];
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
/// The Regions a deployment runs in: the ones conditions name, and one none names.
const DEPLOYED_REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-south-1"];
const LISTS: [&[&str]; 3] = [&["a", "b"], &["a"], &["b", "c"]];

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub allowed: Option<Vec<&'static str>>,
    pub default: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Param(usize, &'static str),
    Region(&'static str),
    Map(usize, &'static str),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Named(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Collection {
    Literal(Vec<&'static str>),
    /// `!Ref Tenants`, a `CommaDelimitedList` with this `Default` (or none).
    Parameter(Option<Vec<&'static str>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    pub params: [Param; 2],
    pub map: Vec<(&'static str, &'static str)>,
    pub conds: Vec<Cond>,
    /// `Table0`, `Table1`: present, and its `Condition`.
    pub tables: [Option<Option<usize>>; 2],
    pub each: Option<Collection>,
}

fn gen_param(c: &mut Choices) -> Param {
    let allowed = c.flip().then(|| {
        let mut v: Vec<&str> = VALUES.iter().copied().filter(|_| c.flip()).collect();
        if v.is_empty() {
            v.push(VALUES[c.pick(3)]);
        }
        v
    });
    let default = match &allowed {
        Some(a) if c.flip() => Some(a[c.pick(a.len())]),
        None if c.flip() => Some(VALUES[c.pick(3)]),
        _ => None,
    };
    Param { allowed, default }
}

fn gen_cond(c: &mut Choices, index: usize, depth: usize) -> Cond {
    let leaf = depth >= 2 || c.pick(3) == 0;
    if leaf {
        return match c.pick(if index > 0 { 4 } else { 3 }) {
            0 => Cond::Param(c.pick(2), VALUES[c.pick(3)]),
            1 => Cond::Region(REGIONS[c.pick(2)]),
            2 => Cond::Map(c.pick(2), ["x", "y"][c.pick(2)]),
            _ => Cond::Named(c.pick(index)),
        };
    }
    match c.pick(3) {
        0 => Cond::Not(Box::new(gen_cond(c, index, depth + 1))),
        1 => Cond::And(
            Box::new(gen_cond(c, index, depth + 1)),
            Box::new(gen_cond(c, index, depth + 1)),
        ),
        _ => Cond::Or(
            Box::new(gen_cond(c, index, depth + 1)),
            Box::new(gen_cond(c, index, depth + 1)),
        ),
    }
}

fn gen_map(c: &mut Choices) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for k in VALUES {
        if c.pick(4) != 0 {
            out.push((k, ["x", "y"][c.pick(2)]));
        }
    }
    out
}

fn gen_collection(c: &mut Choices) -> Collection {
    match c.pick(3) {
        0 => Collection::Parameter(c.flip().then(|| LISTS[c.pick(3)].to_vec())),
        _ => Collection::Literal(LISTS[c.pick(3)].to_vec()),
    }
}

fn gen_table(c: &mut Choices, conds: usize) -> Option<Option<usize>> {
    if c.pick(6) == 0 {
        return None;
    }
    Some((conds > 0 && c.flip()).then(|| c.pick(conds)))
}

pub fn generate(c: &mut Choices) -> (Side, Side) {
    let conds_len = 1 + c.pick(3);
    let mut conds = Vec::new();
    for i in 0..conds_len {
        conds.push(gen_cond(c, i, 0));
    }
    let base = Side {
        params: [gen_param(c), gen_param(c)],
        map: gen_map(c),
        tables: [
            Some((c.flip()).then(|| c.pick(conds_len))),
            gen_table(c, conds_len),
        ],
        conds,
        each: c.flip().then(|| gen_collection(c)),
    };
    let mut head = base.clone();
    for _ in 0..1 + c.pick(3) {
        match c.pick(6) {
            0 => {
                let i = c.pick(2);
                head.params[i] = gen_param(c);
            }
            1 => {
                let i = c.pick(head.conds.len());
                head.conds[i] = gen_cond(c, i, 0);
            }
            2 => head.map = gen_map(c),
            3 => {
                let i = c.pick(2);
                head.tables[i] = gen_table(c, head.conds.len());
            }
            4 => head.each = c.flip().then(|| gen_collection(c)),
            _ => {
                let i = c.pick(2);
                head.tables[i] = None;
            }
        }
    }
    (base, head)
}

// ---------------------------------------------------------------------------------------
// Rendering

fn render_cond(c: &Cond) -> String {
    match c {
        Cond::Param(p, v) => format!("{{\"Fn::Equals\": [{{\"Ref\": \"P{p}\"}}, \"{v}\"]}}"),
        Cond::Region(r) => format!("{{\"Fn::Equals\": [{{\"Ref\": \"AWS::Region\"}}, \"{r}\"]}}"),
        Cond::Map(p, v) => format!(
            "{{\"Fn::Equals\": [{{\"Fn::FindInMap\": [\"M\", {{\"Ref\": \"P{p}\"}}, \"k\"]}}, \"{v}\"]}}"
        ),
        Cond::Not(a) => format!("{{\"Fn::Not\": [{}]}}", render_cond(a)),
        Cond::And(a, b) => format!("{{\"Fn::And\": [{}, {}]}}", render_cond(a), render_cond(b)),
        Cond::Or(a, b) => format!("{{\"Fn::Or\": [{}, {}]}}", render_cond(a), render_cond(b)),
        Cond::Named(i) => format!("{{\"Condition\": \"C{i}\"}}"),
    }
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The side as a JSON template (every value quoted: no YAML typing in play).
pub fn render(side: &Side) -> String {
    let mut params = Vec::new();
    for (i, p) in side.params.iter().enumerate() {
        let mut fields = vec!["\"Type\": \"String\"".to_string()];
        if let Some(a) = &p.allowed {
            fields.push(format!("\"AllowedValues\": {}", list(a)));
        }
        if let Some(d) = p.default {
            fields.push(format!("\"Default\": \"{d}\""));
        }
        params.push(format!("\"P{i}\": {{{}}}", fields.join(", ")));
    }
    if let Some(Collection::Parameter(default)) = &side.each {
        let mut fields = vec!["\"Type\": \"CommaDelimitedList\"".to_string()];
        if let Some(d) = default {
            fields.push(format!("\"Default\": \"{}\"", d.join(",")));
        }
        params.push(format!("\"Tenants\": {{{}}}", fields.join(", ")));
    }
    let map: Vec<String> = side
        .map
        .iter()
        .map(|(k, v)| format!("\"{k}\": {{\"k\": \"{v}\"}}"))
        .collect();
    let conds: Vec<String> = side
        .conds
        .iter()
        .enumerate()
        .map(|(i, c)| format!("\"C{i}\": {}", render_cond(c)))
        .collect();
    let mut resources = vec!["\"Queue\": {\"Type\": \"AWS::SQS::Queue\"}".to_string()];
    for (i, t) in side.tables.iter().enumerate() {
        if let Some(cond) = t {
            let c = cond.map_or(String::new(), |c| format!(", \"Condition\": \"C{c}\""));
            resources.push(format!(
                "\"Table{i}\": {{\"Type\": \"AWS::DynamoDB::Table\"{c}}}"
            ));
        }
    }
    if let Some(each) = &side.each {
        let collection = match each {
            Collection::Literal(items) => list(items),
            Collection::Parameter(_) => "{\"Ref\": \"Tenants\"}".to_string(),
        };
        resources.push(format!(
            "\"Fn::ForEach::Tenants\": [\"T\", {collection}, {{\"${{T}}Tenant\": {{\"Type\": \"AWS::DynamoDB::Table\"}}}}]"
        ));
    }
    let mut sections = vec![
        "\"AWSTemplateFormatVersion\": \"2010-09-09\"".to_string(),
        "\"Transform\": \"AWS::LanguageExtensions\"".to_string(),
        format!("\"Parameters\": {{{}}}", params.join(", ")),
    ];
    if !map.is_empty() {
        sections.push(format!("\"Mappings\": {{\"M\": {{{}}}}}", map.join(", ")));
    }
    sections.push(format!("\"Conditions\": {{{}}}", conds.join(", ")));
    sections.push(format!("\"Resources\": {{{}}}", resources.join(", ")));
    format!("{{\n{}\n}}\n", sections.join(",\n"))
}

// ---------------------------------------------------------------------------------------
// The concrete evaluator

/// One deployment: each parameter passed (`Some`) or left out, the list parameter passed
/// (an index into `LISTS`) or left out, the Region.
#[derive(Clone, Copy, Debug)]
pub struct Deployment {
    pub params: [Option<&'static str>; 2],
    pub tenants: Option<usize>,
    pub region: &'static str,
}

pub fn deployments() -> Vec<Deployment> {
    let choices: Vec<Option<&str>> = std::iter::once(None)
        .chain(["a", "b", "c", "d"].into_iter().map(Some))
        .collect();
    let mut out = Vec::new();
    for p0 in &choices {
        for p1 in &choices {
            for tenants in [None, Some(0), Some(1), Some(2)] {
                for region in DEPLOYED_REGIONS {
                    out.push(Deployment {
                        params: [*p0, *p1],
                        tenants,
                        region,
                    });
                }
            }
        }
    }
    out
}

/// Why a revision produces no answer for a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// It cannot take the deployment (a value outside `AllowedValues`, no `Default`).
    Invalid,
    /// A map lookup of a missing key fails it.
    Lookup,
}

/// What decides whether a table exists: the parameters and Region its `Condition` reads,
/// or the list parameter for a copy of the loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub params: [bool; 2],
    pub region: bool,
    pub tenants: bool,
}

fn cond_reads(side: &Side, c: &Cond, r: &mut Reads, depth: usize) {
    if depth > 16 {
        return;
    }
    match c {
        Cond::Param(p, _) | Cond::Map(p, _) => r.params[*p] = true,
        Cond::Region(_) => r.region = true,
        Cond::Not(a) => cond_reads(side, a, r, depth + 1),
        Cond::And(a, b) | Cond::Or(a, b) => {
            cond_reads(side, a, r, depth + 1);
            cond_reads(side, b, r, depth + 1);
        }
        Cond::Named(i) => {
            if let Some(n) = side.conds.get(*i) {
                cond_reads(side, n, r, depth + 1)
            }
        }
    }
}

fn table_index(table: &str) -> Option<usize> {
    table.strip_prefix("Table")?.parse().ok()
}

fn reads(side: &Side, table: &str) -> Reads {
    let mut r = Reads::default();
    match table_index(table) {
        Some(i) => {
            if let Some(Some(Some(c))) = side.tables.get(i) {
                if let Some(cond) = side.conds.get(*c) {
                    cond_reads(side, cond, &mut r, 0);
                }
            }
        }
        None => r.tenants = matches!(side.each, Some(Collection::Parameter(_))),
    }
    r
}

/// The value a side takes for parameter `i` under `d`.
fn value(side: &Side, i: usize, d: &Deployment) -> Result<&'static str, Fail> {
    let p = &side.params[i];
    let v = d.params[i].or(p.default).ok_or(Fail::Invalid)?;
    if p.allowed.as_ref().is_some_and(|a| !a.contains(&v)) {
        return Err(Fail::Invalid);
    }
    Ok(v)
}

fn eval(side: &Side, c: &Cond, d: &Deployment, depth: usize) -> Result<bool, Fail> {
    if depth > 16 {
        return Err(Fail::Lookup);
    }
    Ok(match c {
        Cond::Param(p, lit) => value(side, *p, d)? == *lit,
        Cond::Region(r) => d.region == *r,
        Cond::Map(p, lit) => {
            let key = value(side, *p, d)?;
            match side.map.iter().find(|(k, _)| *k == key) {
                Some((_, val)) => val == lit,
                None => return Err(Fail::Lookup),
            }
        }
        Cond::Not(a) => !eval(side, a, d, depth + 1)?,
        Cond::And(a, b) => {
            let x = eval(side, a, d, depth + 1)?;
            let y = eval(side, b, d, depth + 1)?;
            x && y
        }
        Cond::Or(a, b) => {
            let x = eval(side, a, d, depth + 1)?;
            let y = eval(side, b, d, depth + 1)?;
            x || y
        }
        Cond::Named(i) => eval(side, side.conds.get(*i).ok_or(Fail::Lookup)?, d, depth + 1)?,
    })
}

/// Whether `side` produces `table` under `d`, judged on what decides it (`r`): the
/// parameters it reads must be values the side takes; the others do not matter.
pub fn exists(side: &Side, table: &str, d: &Deployment, r: &Reads) -> Result<bool, Fail> {
    for i in 0..2 {
        if r.params[i] {
            value(side, i, d)?;
        }
    }
    match table_index(table) {
        Some(i) => match side.tables.get(i) {
            Some(Some(None)) => Ok(true),
            Some(Some(Some(c))) => eval(side, side.conds.get(*c).ok_or(Fail::Lookup)?, d, 0),
            _ => Ok(false),
        },
        None => {
            let item = table.strip_suffix("Tenant").unwrap_or(table);
            match &side.each {
                None => Ok(false),
                Some(Collection::Literal(items)) => Ok(items.contains(&item)),
                Some(Collection::Parameter(default)) => {
                    let items: Vec<&str> = match d.tenants {
                        Some(i) => LISTS[i].to_vec(),
                        None => default.clone().ok_or(Fail::Invalid)?,
                    };
                    Ok(items.contains(&item))
                }
            }
        }
    }
}

/// Every table name either side can produce.
pub fn names(base: &Side, head: &Side) -> Vec<String> {
    let mut out = Vec::new();
    for side in [base, head] {
        for (i, t) in side.tables.iter().enumerate() {
            if t.is_some() {
                out.push(format!("Table{i}"));
            }
        }
        if side.each.is_some() {
            out.extend(VALUES.iter().map(|v| format!("{v}Tenant")));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The ground truth for one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truth {
    pub deleted: bool,
    /// No map lookup failed on either side, for any deployment.
    pub exact: bool,
}

/// The head deletes `table` if a stack deployed from the base with `e` (where it exists)
/// is updated with `d` (where it does not), and either the update keeps the deployment's
/// values (`d` and `e` agree on what decides the table), or the change forced other
/// values (the head cannot take `e`'s), or it offered new ones (the base could not take
/// `d`'s).
pub fn judge(base: &Side, head: &Side, table: &str) -> Truth {
    let all = deployments();
    let (rb, rh) = (reads(base, table), reads(head, table));
    let r = Reads {
        params: [rb.params[0] || rh.params[0], rb.params[1] || rh.params[1]],
        region: rb.region || rh.region,
        tenants: rb.tenants || rh.tenants,
    };
    let at_base: Vec<Result<bool, Fail>> = all.iter().map(|d| exists(base, table, d, &r)).collect();
    let at_head: Vec<Result<bool, Fail>> = all.iter().map(|d| exists(head, table, d, &r)).collect();
    let exact = !at_base
        .iter()
        .chain(&at_head)
        .any(|x| *x == Err(Fail::Lookup));
    let agree = |d: &Deployment, e: &Deployment| {
        (0..2).all(|i| !r.params[i] || d.params[i] == e.params[i])
            && (!r.region || d.region == e.region)
            && (!r.tenants || d.tenants == e.tenants)
    };
    // Validity is judged on what decides the table only (see `exists`).
    let forced = |i: usize| at_head[i] == Err(Fail::Invalid);
    let offered = |j: usize| at_base[j] == Err(Fail::Invalid);
    for (i, e) in all.iter().enumerate() {
        if at_base[i] != Ok(true) {
            continue;
        }
        for (j, d) in all.iter().enumerate() {
            if at_head[j] != Ok(false) {
                continue;
            }
            if agree(d, e) || forced(i) || offered(j) {
                return Truth {
                    deleted: true,
                    exact,
                };
            }
        }
    }
    Truth {
        deleted: false,
        exact,
    }
}

/// What `ddb-guard diff` (in process) reports for the pair: (rule, resource) of every
/// DDB020 finding, or the error when the file fails (which fails closed for every table).
pub fn guard(base: &str, head: &str) -> Result<Vec<String>, String> {
    let settings = ddb_guard::check::Settings::default();
    let checker = ddb_guard::check::Checker::new(settings);
    let base_file = ddb_guard::base_revision::BaseFile {
        name: "old/template.json".to_string(),
        path: PathBuf::from("template.json"),
        display: "template.json".to_string(),
        bytes: Ok(base.as_bytes().to_vec()),
        files: Default::default(),
    };
    let report = checker.check_pair_bytes(
        "template.json",
        Path::new("template.json"),
        head.as_bytes(),
        &base_file,
    );
    if let Some(e) = report.errors.first() {
        return Err(e.message.clone());
    }
    Ok(report
        .findings
        .iter()
        .filter(|f| f.code == "DDB020")
        .map(|f| f.resource.clone())
        .collect())
}
