//! Test-only: a generator of CloudFormation-, SAM- and Serverless-like YAML texts, dense in
//! the constructs where a YAML scanner goes wrong, and a differential harness that holds a
//! candidate YAML loader to today's reading (saphyr, its libyaml-safer second opinion and the
//! dialect checks: `yaml::saphyr_path`).
//!
//! A faster loader that builds another tree than today's reads another template, and a
//! proof about another template is a wrong proof. Its author's own tests share its author's
//! blind spots, so this generator is written apart from it. Texts are built from a vector
//! of choice bytes (0 is always the simplest choice, so proptest shrinks toward short, plain
//! texts): a realistic skeleton (`AWSTemplateFormatVersion`, `Parameters`, `Conditions`,
//! `Resources` with tables and IAM statements; SAM; `serverless.yml`) or a random mapping,
//! whose values are written in every scalar, collection, tag and comment form, then line
//! endings, whitespace and non-ASCII characters, then, for about a third of the texts,
//! a few random mutations (a character or a line deleted, inserted, duplicated; a line
//! re-indented) so that borderline and invalid texts come too.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tree::{Document, NodeId, NodeKind};
use super::{Aliases, FileError, Format, Limits};
use crate::source::Span;

macro_rules! families {
    ($($name:ident: $what:literal,)*) => {
        /// A construct the generator wrote into a text (recorded as it writes; the tests
        /// check that each is generated, and that the lexical ones really are in the text).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) enum Family { $($name,)* }

        impl Family {
            pub(crate) const ALL: &'static [Family] = &[$(Family::$name,)*];

            pub(crate) fn what(self) -> &'static str {
                match self { $(Family::$name => $what,)* }
            }
        }
    };
}

families! {
    CfnSkeleton: "CloudFormation template skeleton",
    SamSkeleton: "SAM template skeleton",
    ServerlessSkeleton: "serverless.yml skeleton",
    GenericRoot: "random root mapping",
    NonMapRoot: "a root that is not a block mapping",
    Calm: "a calm template: skeleton, plain and quoted scalars, simple blocks",
    MapOddIndent: "nested mapping indented by other than 2",
    SeqUnindented: "block sequence at its key's indentation",
    SeqIndented: "block sequence indented under its key",
    SeqOfSeq: "`- - x`",
    SeqOfMaps: "`- key: v` with sibling keys",
    SeqWideCompact: "`-   key: v` (compact mapping after extra spaces)",
    DashAlone: "`-` alone on its line",
    EmptyValue: "`key:` with no value",
    ExplicitKey: "`? key` / `: value`",
    QuotedKey: "quoted mapping key",
    DuplicateKey: "duplicate mapping key",
    ComplexKey: "flow collection as a key",
    JsonColon: "`\"key\":value` (no space after the colon)",
    PlainIndicators: "plain scalar with `:#-?,[]{}'\"` inside or at an edge",
    QuestionInFlow: "`?` starting a scalar in a flow collection",
    CommentAfterBracket: "comment after a flow collection's opening bracket",
    PlainComment: "plain scalar then ` # comment`",
    PlainMultiline: "multi-line plain scalar",
    PlainSpecial: "plain null, bool, number or date",
    PlainInvalid: "plain scalar that cannot start or end there",
    TrailingSpace: "blanks at the end of a line",
    SingleQuoted: "single-quoted scalar",
    SingleQuoteEscape: "`''` inside single quotes",
    SingleMultiline: "multi-line single-quoted scalar",
    DoubleQuoted: "double-quoted scalar",
    DoubleEscapes: "double-quoted escapes (`\\x41`, `\\u00e9`, `\\n`, `\\\"`)",
    DoubleLineContinuation: "escaped line break in double quotes",
    DoubleMultiline: "multi-line double-quoted scalar",
    DoubleInvalidEscape: "invalid double-quoted escape",
    QuotedUnderIndented: "quoted continuation at or below its key's indentation",
    Literal: "literal block scalar `|`",
    Folded: "folded block scalar `>`",
    ChompStrip: "`-` chomping",
    ChompKeep: "`+` chomping",
    IndentIndicator: "indentation indicator (`|2`, `>1-`)",
    BlockLeadingBlank: "blank lines before a block scalar's text",
    BlockInnerBlank: "blank lines inside a block scalar",
    BlockTrailingBlank: "blank lines after a block scalar's text",
    BlockSpacesLine: "a spaces-only line longer than a block scalar's indentation",
    FoldedMoreIndented: "more-indented lines in a folded scalar",
    BlockHeaderComment: "comment after a block scalar header",
    BlockThenColumn0Comment: "comment at column 0 after a block scalar's text",
    BlockEmpty: "block scalar with no text",
    CommentAfterValue: "comment after a value",
    CommentBetween: "comment line between entries",
    CommentColumn0: "comment at column 0 inside a nested collection",
    CommentAfterKey: "comment after `key:` before a nested collection",
    TagRef: "`!Ref`",
    TagSub: "`!Sub` on a scalar",
    TagSubBlock: "`!Sub |` and other tagged block scalars",
    TagGetAtt: "`!GetAtt a.b` / `!GetAtt [a, b]`",
    TagIf: "`!If [c, a, b]`",
    TagJoin: "`!Join [\"\", [..]]`",
    TagCoreStr: "`!!str`",
    TagCustom: "unknown local tag `!Custom`",
    TagVerbatim: "verbatim tag `!<...>`",
    TagOnBlockCollection: "tag on a block collection (`!If` then `- c`)",
    TagEmpty: "tag with no value",
    FlowNested: "nested flow collections",
    FlowMultiline: "multi-line flow collection",
    FlowTrailingComma: "trailing comma in a flow collection",
    FlowEmpty: "`[]` or `{}`",
    FlowMapInSeq: "`{a: b}` inside a sequence",
    FlowPairInSeq: "`[a: b]` (single-pair mapping in a flow sequence)",
    FlowUnderIndented: "flow continuation at or below its key's indentation",
    FlowKeyOnly: "`{a, b: c}` (key without value)",
    DocStart: "`---`",
    DocEnd: "`...`",
    Directive: "`%YAML` / `%TAG` directive",
    MultiDoc: "a second document",
    BareDocAfterEnd: "a document after `...` with no `---`",
    ContentOnDocStart: "content on the `---` line",
    TagHandle: "a `%TAG` handle used (`!e!x`)",
    ScalarOnNextLine: "`key:` then its scalar on the next line",
    TabAfterDash: "`-` then a tab",
    EmptyKey: "`: v` (empty key)",
    Anchor: "anchor `&a`",
    Alias: "alias `*a`",
    Tab: "tab character",
    Crlf: "CRLF line endings",
    LoneCr: "a lone CR line break",
    NonAscii: "non-ASCII text (é, 日本)",
    Emoji: "character outside the BMP",
    LineSeparator: "U+2028 or U+2029",
    Nel: "U+0085 NEXT LINE",
    Bom: "byte order mark at the start",
    BomInside: "byte order mark after the start",
    LongLine: "a line of several kilobytes",
    NoFinalNewline: "no line break at the end",
    BlankLinesAtEnd: "blank lines at the end",
    MutDeleteChar: "mutation: a character deleted",
    MutInsertChar: "mutation: a character inserted",
    MutDuplicateChar: "mutation: a character doubled",
    MutDeleteLine: "mutation: a line deleted",
    MutDuplicateLine: "mutation: a line doubled",
    MutSwapLines: "mutation: two lines swapped",
    MutIndent: "mutation: a line re-indented",
}

/// One generated text, with the constructs written into it.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub text: String,
    pub families: BTreeSet<Family>,
    /// Random mutations were applied after the text was written.
    pub mutated: bool,
    /// The text may hold constructs no loader accepts (see `Gen::wild`).
    pub wild: bool,
}

/// CloudFormation-, SAM- and Serverless-like YAML texts, mostly valid, dense in the
/// constructs scanners get wrong (see the module comment).
pub(crate) fn yaml_text() -> impl Strategy<Value = String> {
    yaml_sample().prop_map(|sample| sample.text)
}

/// [`yaml_text`] with what went into each text.
pub(crate) fn yaml_sample() -> impl Strategy<Value = Sample> {
    prop::collection::vec(any::<u8>(), 0..3000).prop_map(|bytes| generate(&bytes))
}

/// The text the choice bytes `bytes` describe (deterministic; exhausted bytes read as 0).
pub(crate) fn generate(bytes: &[u8]) -> Sample {
    let mut gen = Gen {
        c: Choices { bytes },
        out: String::new(),
        families: BTreeSet::new(),
        anchors: Vec::new(),
        nodes: 0,
        wild: false,
        exotic: false,
        exotic_left: 2,
        tag_handle: false,
        calm: false,
    };
    gen.wild = gen.c.chance(25);
    gen.exotic = gen.c.chance(12);
    gen.calm = !gen.wild && !gen.exotic && gen.c.chance(25);
    gen.document();
    let mutated = gen.finish();
    Sample {
        text: gen.out,
        families: gen.families,
        mutated,
        wild: gen.wild,
    }
}

struct Choices<'a> {
    bytes: &'a [u8],
}

impl Choices<'_> {
    /// A number in `0..n` (0 when `n <= 1` or the bytes are exhausted).
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let mut value = 0usize;
        let mut range = 1usize;
        while range < n {
            let Some((b, rest)) = self.bytes.split_first() else {
                break;
            };
            self.bytes = rest;
            value = value * 256 + usize::from(*b);
            range = range.saturating_mul(256);
        }
        value % n
    }

    /// True about `percent` times in a hundred (never on a zero byte).
    fn chance(&mut self, percent: u32) -> bool {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                u32::from(*b) * 100 >= (100 - percent.min(100)) * 256
            }
            None => false,
        }
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    /// An index into `weights`, each chosen in proportion to its weight (0 when exhausted).
    fn weighted(&mut self, weights: &[usize]) -> usize {
        let total: usize = weights.iter().sum();
        let mut at = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if at < *w {
                return i;
            }
            at -= w;
        }
        0
    }
}

/// Plain scalars that are ordinary in block and flow context alike.
const PLAIN_SAFE: &[&str] = &[
    "Retain",
    "Delete",
    "Snapshot",
    "AWS::DynamoDB::Table",
    "PAY_PER_REQUEST",
    "id",
    "HASH",
    "Allow",
    "dynamodb:DeleteTable",
    "dynamodb:*",
    "arn:aws:dynamodb:*:*:table/*",
    "MyTable",
    "a b  c",
    "x",
];

/// Plain scalars with indicators inside or at an edge, valid as a block value.
const PLAIN_TRICKY_BLOCK: &[&str] = &[
    "a:b",
    "a#b",
    "-1",
    "-x",
    "--x",
    ":x",
    "http://x",
    "https://example.com/a?b=c#frag",
    "?x",
    "a?",
    "a, b",
    "a,b",
    "a[b]",
    "a]",
    "a{b}",
    "a}",
    "a'b",
    "a\"b",
    "a'",
    "a!b",
    "a&b",
    "a*b",
    "a|b",
    "a>b",
    "a - b",
    "a -",
    "--",
    "---",
    "...",
    "${AWS::StackName}-table",
    "${self:custom.tableName}",
    "${opt:stage, 'dev'}",
    "${file(./x.yml):y}",
    "a\tb",
    "a\t#b",
    "a:\tb",
    "a \t",
];

/// Plain scalars with indicators inside, valid in a flow collection (to YAML 1.2 at least).
const PLAIN_TRICKY_FLOW: &[&str] = &[
    "a:b", "a#b", "-1", "-x", "http://x", "a?", "a'b", "a\"b", "a!b", "a - b", ":x",
];

const PLAIN_SPECIAL: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "~",
    "null",
    "NULL",
    "1e3",
    "0x1F",
    "0o17",
    "012",
    "+1",
    ".inf",
    "-.inf",
    ".NaN",
    "1_000",
    "2010-09-09",
    "1.0",
    "0",
    "1:20",
];

/// Plain scalars a block value cannot be (or cannot end with).
const PLAIN_INVALID: &[&str] = &[
    "x:",
    "::",
    "a: b",
    "- x",
    "-",
    "@x",
    "`x",
    "%x",
    "|x",
    ">x",
    "[a",
    "{a",
    "]",
    "}",
    "*undefined",
    "&",
    ", x",
    "''x",
    "'open",
    "\"open",
    "a #",
    "!",
];

const NON_ASCII: &[&str] = &[
    "é",
    "日本語",
    "naïve café",
    "Ω≈ç√",
    "\u{a0}nbsp",
    "zero\u{200b}width",
];
const EMOJI: &[&str] = &["😀", "x🦀y", "𝔘"];
const LINE_SEPARATORS: &[&str] = &["x\u{2028}y", "x\u{2029}y"];

const KEYS: &[&str] = &[
    "Type",
    "Properties",
    "TableName",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Condition",
    "Statement",
    "Effect",
    "Action",
    "Resource",
    "Value",
    "Description",
    "Default",
    "KeySchema",
    "AttributeName",
    "BillingMode",
    "Fn::If",
    "Ref",
    "Name",
    "Code",
    "ZipFile",
    "Tags",
    "Key",
    "x",
];
const TRICKY_KEYS: &[&str] = &[
    "a:b", "a#b", "-1", "a b", "k?", "http://x", "a,b", "a]", "~", "null", "1", "true", "${x}",
];

const DOUBLE_ESCAPED: &[&str] = &[
    "a\\\"b",
    "\\x41",
    "\\u00e9",
    "\\U0001F600",
    "\\n\\t\\\\",
    "\\/",
    "\\N\\_\\L\\P",
    "\\e\\a\\b\\0\\v\\f\\r\\ ",
    "\\u2028",
    "\\x0a",
    "tab\\there",
];
const DOUBLE_PLAIN: &[&str] = &[
    "",
    "${AWS::Region}",
    "a # b",
    "a: b",
    "'",
    "dynamodb:DeleteTable",
    "é日本",
    "Retain",
    "[a, b]",
    "  spaced  ",
];
const DOUBLE_INVALID: &[&str] = &["\\q", "\\x4", "\\ud800", "\\u", "\\x4G", "\\U110000"];
const SINGLE: &[&str] = &[
    "",
    "a # b",
    "a: b",
    "\\n stays",
    "{x}",
    " lead",
    "trail ",
    "é日本",
    "a\"b",
    "Retain",
    "2010-09-09",
    "-",
];
const SINGLE_ESCAPED: &[&str] = &["it''s", "''", "''''", "a''", "''b"];

const BLOCK_LINES: &[&str] = &[
    "line",
    "import boto3",
    "#not a comment",
    "- not an item",
    "key: not a mapping",
    "{\"json\": [1, 2]}",
    "${AWS::StackName}",
    "日本 é",
    "a  b   ",
    "'quoted' \"text\"",
    "---x",
    "...",
];

const HEADERS: &[&str] = &["|", "|-", "|+", ">", ">-", ">+"];

const INTRINSIC_SCALARS: &[(&str, &str, Family)] = &[
    ("!Ref", "MyTable", Family::TagRef),
    ("!Ref", "AWS::Region", Family::TagRef),
    ("!GetAtt", "MyTable.Arn", Family::TagGetAtt),
    ("!GetAtt", "a.b.c", Family::TagGetAtt),
    (
        "!Sub",
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:*:table/${T}",
        Family::TagSub,
    ),
    ("!Sub", "'${AWS::StackName}-t'", Family::TagSub),
    ("!Sub", "\"${A}\\n\"", Family::TagSub),
    ("!ImportValue", "shared-table", Family::TagCustom),
    ("!Base64", "x", Family::TagCustom),
    ("!GetAZs", "''", Family::TagCustom),
    ("!Condition", "IsProd", Family::TagCustom),
    ("!!str", "123", Family::TagCoreStr),
    ("!!str", "true", Family::TagCoreStr),
    ("!!int", "1", Family::TagCoreStr),
    ("!Custom", "x", Family::TagCustom),
    ("!", "x", Family::TagCustom),
    ("!<tag:yaml.org,2002:str>", "x", Family::TagVerbatim),
    ("!<!Ref>", "x", Family::TagVerbatim),
    ("!!binary", "aGVsbG8=", Family::TagCoreStr),
];

/// What a skeleton asks for at one place; `Any` lets the generator choose.
#[derive(Clone, Debug)]
enum Shape {
    Scalar(&'static str),
    Any,
    Map(Vec<(&'static str, Shape)>),
    Seq(Vec<Shape>),
    /// An intrinsic written with its tag (`!If [..]`) or as a one-key mapping
    /// (`Fn::If: [..]`), around the shape of its argument.
    Call(&'static str, Box<Shape>),
}

fn map(entries: Vec<(&'static str, Shape)>) -> Shape {
    Shape::Map(entries)
}

fn s(text: &'static str) -> Shape {
    Shape::Scalar(text)
}

struct Gen<'c> {
    c: Choices<'c>,
    out: String,
    families: BTreeSet<Family>,
    anchors: Vec<String>,
    /// Nodes written so far, to keep texts small.
    nodes: usize,
    /// This text may hold what no loader accepts (invalid scalars and escapes, anchors,
    /// duplicate and complex keys, lines below their parent): about a quarter of the
    /// texts, so that most of the others load and a candidate loader is compared on trees.
    wild: bool,
    /// This text may hold the characters and constructs YAML 1.1 reads otherwise (U+2028,
    /// NEL, a BOM inside, `?x` in flow): the loader refuses most such texts, so they come
    /// in about one text in eight.
    exotic: bool,
    /// How many more of those characters this text may get (one refused is enough).
    exotic_left: usize,
    /// A `%TAG !e!` directive was written, so `!e!x` tags resolve.
    tag_handle: bool,
    /// A calm text (about one in five): a skeleton in the styles most templates use,
    /// without the traps, so that a loader for that common subset (the fast path) is
    /// compared on many whole trees, not only refused or declined on the dense texts.
    calm: bool,
}

const MAX_DEPTH: usize = 7;
const MAX_NODES: usize = 400;

impl Gen<'_> {
    fn hit(&mut self, family: Family) {
        self.families.insert(family);
    }

    fn pad(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }

    fn line_end(&mut self) {
        if !self.calm && self.c.chance(4) {
            self.hit(Family::TrailingSpace);
            let blanks = self.c.pick(&[" ", "  ", "\t", " \t "]);
            if blanks.contains('\t') {
                self.hit(Family::Tab);
            }
            self.out.push_str(blanks);
        }
        self.out.push('\n');
    }

    fn exhausted(&self) -> bool {
        self.nodes >= MAX_NODES
    }

    // ----- documents -----

    fn document(&mut self) {
        if self.calm {
            self.hit(Family::Calm);
            if self.c.chance(10) {
                self.hit(Family::DocStart);
                self.out.push_str("---\n");
            }
            match self.c.below(3) {
                0 => self.cfn_skeleton(),
                1 => self.sam_skeleton(),
                _ => self.serverless_skeleton(),
            }
            return;
        }
        if self.c.chance(3) {
            self.hit(Family::Bom);
            self.out.push('\u{feff}');
        }
        if self.c.chance(4) {
            self.hit(Family::Directive);
            let directive = self.c.pick(&[
                "%YAML 1.2\n",
                "%YAML 1.1\n",
                "%TAG !e! tag:example.com,2000:\n",
                "%TAG !e! !\n",
                "%TAG !e! !\n",
                "%TAG ! tag:example.com,2000:\n",
                "%TAG !! tag:example.com,2000:\n",
                "%FOO bar\n",
            ]);
            self.tag_handle = directive.starts_with("%TAG !e!");
            self.out.push_str(directive);
            self.out.push_str("---\n");
            self.hit(Family::DocStart);
        } else if self.c.chance(12) {
            self.hit(Family::DocStart);
            let start = self.c.pick(&["---\n", "--- # template\n", "---  \n"]);
            self.out.push_str(start);
        }
        while self.c.chance(20) {
            self.hit(Family::CommentColumn0);
            let comment = self.c.pick(&[
                "# comment\n",
                "#\n",
                "\n",
                "# é 日本 : - [\n",
                "  # indented\n",
            ]);
            self.out.push_str(comment);
        }
        match self.c.weighted(&[4, 2, 2, 3, 1]) {
            0 => self.cfn_skeleton(),
            1 => self.sam_skeleton(),
            2 => self.serverless_skeleton(),
            3 => {
                self.hit(Family::GenericRoot);
                self.block_map(0, false, 0);
            }
            _ => self.non_map_root(),
        }
        if self.c.chance(5) {
            self.hit(Family::DocEnd);
            self.out.push_str(self.c.pick(&["...\n", "... # end\n"]));
            if self.c.chance(30) {
                // YAML 1.2 starts a bare document here; does YAML 1.1?
                self.hit(Family::BareDocAfterEnd);
                self.hit(Family::MultiDoc);
                self.out.push_str(self.c.pick(&[
                    "b: 1\n",
                    "Resources: {}\n",
                    "# c\n",
                    "%YAML 1.2\n---\n",
                ]));
            }
        }
        if self.c.chance(5) {
            self.hit(Family::MultiDoc);
            self.hit(Family::DocStart);
            self.out.push_str("---\n");
            match self.c.below(3) {
                0 => self.block_map(0, false, 2),
                1 => self.out.push_str("Resources: {}\n"),
                _ => {}
            }
        }
        if self.c.chance(8) {
            self.hit(Family::CommentColumn0);
            self.out.push_str("# trailing comment\n");
        }
        if self.c.chance(6) {
            self.hit(Family::BlankLinesAtEnd);
            let blank = self.c.pick(&["\n", "\n\n", "  \n", "\n   "]);
            self.out.push_str(blank);
        }
    }

    fn non_map_root(&mut self) {
        self.hit(Family::NonMapRoot);
        match self.c.below(7) {
            0 => self.block_seq(0, 1),
            1 => {
                let flow = self.flow_node(1, 0, false);
                self.out.push_str(&flow);
                self.line_end();
            }
            2 => {
                self.hit(Family::TagSubBlock);
                self.out.push_str("!Sub ");
                self.block_scalar(0, true);
            }
            3 => self.block_scalar(0, true),
            4 => {
                let scalar = self.inline_scalar(0, false);
                self.out.push_str(&scalar);
                self.line_end();
            }
            5 => {
                self.hit(Family::ContentOnDocStart);
                self.hit(Family::DocStart);
                self.out.push_str("--- ");
                match self.c.below(3) {
                    0 => {
                        let flow = self.flow_node(1, 0, true);
                        self.out.push_str(&flow);
                        self.line_end();
                    }
                    1 => {
                        self.hit(Family::TagSubBlock);
                        self.out.push_str("!Sub ");
                        self.block_scalar(0, false);
                    }
                    _ => self.block_scalar(0, false),
                }
            }
            _ => {}
        }
    }

    fn table_shape(&mut self) -> Shape {
        let policy = || {
            Shape::Call(
                "If",
                Box::new(Shape::Seq(vec![s("IsProd"), s("Retain"), s("Delete")])),
            )
        };
        let deletion = match self.c.below(4) {
            0 => s("Retain"),
            1 => s("Delete"),
            2 => policy(),
            _ => Shape::Any,
        };
        map(vec![
            ("Type", s("AWS::DynamoDB::Table")),
            ("DeletionPolicy", deletion),
            ("UpdateReplacePolicy", s("Retain")),
            (
                "Properties",
                map(vec![
                    ("TableName", Shape::Any),
                    (
                        "AttributeDefinitions",
                        Shape::Seq(vec![map(vec![
                            ("AttributeName", s("id")),
                            ("AttributeType", s("S")),
                        ])]),
                    ),
                    (
                        "KeySchema",
                        Shape::Seq(vec![map(vec![
                            ("AttributeName", s("id")),
                            ("KeyType", s("HASH")),
                        ])]),
                    ),
                    ("BillingMode", s("PAY_PER_REQUEST")),
                    (
                        "DeletionProtectionEnabled",
                        Shape::Call("Equals", Box::new(Shape::Seq(vec![Shape::Any, s("prod")]))),
                    ),
                ]),
            ),
        ])
    }

    fn statement_shape(&mut self) -> Shape {
        let action = match self.c.below(3) {
            0 => Shape::Seq(vec![s("dynamodb:DeleteTable"), s("dynamodb:*"), Shape::Any]),
            1 => s("dynamodb:*"),
            _ => Shape::Any,
        };
        map(vec![
            ("Effect", s("Allow")),
            ("Action", action),
            (
                "Resource",
                Shape::Call("GetAtt", Box::new(s("MyTable.Arn"))),
            ),
        ])
    }

    fn role_shape(&mut self) -> Shape {
        let statement = self.statement_shape();
        let second = self.statement_shape();
        map(vec![
            ("Type", s("AWS::IAM::Role")),
            (
                "Properties",
                map(vec![(
                    "Policies",
                    Shape::Seq(vec![map(vec![
                        ("PolicyName", Shape::Any),
                        (
                            "PolicyDocument",
                            map(vec![
                                ("Version", s("2012-10-17")),
                                ("Statement", Shape::Seq(vec![statement, second])),
                            ]),
                        ),
                    ])]),
                )]),
            ),
        ])
    }

    fn cfn_skeleton(&mut self) {
        self.hit(Family::CfnSkeleton);
        let table = self.table_shape();
        let role = self.role_shape();
        let shape = map(vec![
            ("AWSTemplateFormatVersion", s("2010-09-09")),
            ("Description", Shape::Any),
            (
                "Parameters",
                map(vec![(
                    "Stage",
                    map(vec![
                        ("Type", s("String")),
                        ("Default", s("dev")),
                        ("AllowedValues", Shape::Seq(vec![s("dev"), s("prod")])),
                    ]),
                )]),
            ),
            (
                "Conditions",
                map(vec![(
                    "IsProd",
                    Shape::Call(
                        "Equals",
                        Box::new(Shape::Seq(vec![
                            Shape::Call("Ref", Box::new(s("Stage"))),
                            s("prod"),
                        ])),
                    ),
                )]),
            ),
            (
                "Resources",
                map(vec![
                    ("MyTable", table),
                    ("Role", role),
                    ("Extra", Shape::Any),
                ]),
            ),
            (
                "Outputs",
                map(vec![(
                    "TableArn",
                    map(vec![(
                        "Value",
                        Shape::Call(
                            "Join",
                            Box::new(Shape::Seq(vec![
                                s(""),
                                Shape::Seq(vec![
                                    s("arn:"),
                                    Shape::Call("Ref", Box::new(s("MyTable"))),
                                ]),
                            ])),
                        ),
                    )]),
                )]),
            ),
        ]);
        self.root_shape(&shape);
    }

    fn sam_skeleton(&mut self) {
        self.hit(Family::SamSkeleton);
        let table = self.table_shape();
        let shape = map(vec![
            ("AWSTemplateFormatVersion", s("2010-09-09")),
            ("Transform", s("AWS::Serverless-2016-10-31")),
            (
                "Globals",
                map(vec![(
                    "Function",
                    map(vec![("Runtime", s("python3.12")), ("Timeout", s("30"))]),
                )]),
            ),
            (
                "Resources",
                map(vec![
                    (
                        "Fn",
                        map(vec![
                            ("Type", s("AWS::Serverless::Function")),
                            (
                                "Properties",
                                map(vec![
                                    ("Handler", s("index.handler")),
                                    ("InlineCode", Shape::Any),
                                    (
                                        "Policies",
                                        Shape::Seq(vec![
                                            map(vec![(
                                                "DynamoDBCrudPolicy",
                                                map(vec![(
                                                    "TableName",
                                                    Shape::Call("Ref", Box::new(s("MyTable"))),
                                                )]),
                                            )]),
                                            s("AWSLambdaBasicExecutionRole"),
                                        ]),
                                    ),
                                ]),
                            ),
                        ]),
                    ),
                    ("MyTable", table),
                    (
                        "Simple",
                        map(vec![
                            ("Type", s("AWS::Serverless::SimpleTable")),
                            ("DeletionPolicy", Shape::Any),
                        ]),
                    ),
                ]),
            ),
        ]);
        self.root_shape(&shape);
    }

    fn serverless_skeleton(&mut self) {
        self.hit(Family::ServerlessSkeleton);
        let table = self.table_shape();
        let statement = self.statement_shape();
        let shape = map(vec![
            ("service", s("orders")),
            ("frameworkVersion", s("'3'")),
            (
                "provider",
                map(vec![
                    ("name", s("aws")),
                    ("stage", s("${opt:stage, 'dev'}")),
                    (
                        "iam",
                        map(vec![(
                            "role",
                            map(vec![("statements", Shape::Seq(vec![statement]))]),
                        )]),
                    ),
                ]),
            ),
            (
                "custom",
                map(vec![("tableName", s("${self:service}-${sls:stage}"))]),
            ),
            (
                "functions",
                map(vec![(
                    "hello",
                    map(vec![
                        ("handler", s("handler.hello")),
                        (
                            "events",
                            Shape::Seq(vec![map(vec![("http", s("GET hello"))])]),
                        ),
                    ]),
                )]),
            ),
            (
                "resources",
                map(vec![("Resources", map(vec![("OrdersTable", table)]))]),
            ),
        ]);
        self.root_shape(&shape);
    }

    fn root_shape(&mut self, shape: &Shape) {
        match shape {
            Shape::Map(entries) => self.shape_map(0, false, entries, 0),
            _ => self.value_after_key(0, 0),
        }
    }

    // ----- shapes: skeleton values in random styles -----

    /// The entries of `entries` as a block mapping at `indent` (the first key inline when
    /// `inline_first`: after `- `), with random extra, dropped, repeated or reordered keys.
    fn shape_map(
        &mut self,
        indent: usize,
        inline_first: bool,
        entries: &[(&'static str, Shape)],
        depth: usize,
    ) {
        let mut written: Vec<String> = Vec::new();
        let mut first = true;
        for (key, shape) in entries {
            // Kept unless the choice is near 0, so that shrinking drops skeleton parts.
            if !self.c.chance(96) {
                continue;
            }
            if !(first && inline_first) {
                self.between_entries(indent);
                self.pad(indent);
            }
            first = false;
            self.key_text(key, &mut written);
            self.shape_value_after_key(indent, shape, depth + 1);
            if self.c.chance(4) && !self.exhausted() {
                self.between_entries(indent);
                self.pad(indent);
                let key = self.c.pick(KEYS);
                self.key_text(key, &mut written);
                self.value_after_key(indent, depth + 1);
            }
        }
        if first {
            // Every entry was dropped: keep a mapping.
            if !inline_first {
                self.pad(indent);
            }
            self.out.push_str("Empty:");
            self.line_end();
            self.hit(Family::EmptyValue);
        }
    }

    fn shape_value_after_key(&mut self, indent: usize, shape: &Shape, depth: usize) {
        self.nodes += 1;
        match shape {
            Shape::Any => self.value_after_key(indent, depth),
            Shape::Scalar(text) => {
                if self.c.chance(10) {
                    return self.value_after_key(indent, depth);
                }
                self.out.push(' ');
                let written = self.styled(text, indent);
                self.out.push_str(&written);
                self.after_value();
            }
            Shape::Map(entries) => {
                if self.c.chance(12) && flowable(shape) {
                    self.out.push(' ');
                    let flow = self.shape_flow(shape, indent);
                    self.out.push_str(&flow);
                    self.after_value();
                    return;
                }
                self.comment_after_key();
                let step = self.child_indent();
                self.shape_map(indent + step, false, entries, depth);
            }
            Shape::Seq(items) => {
                if self.c.chance(20) && flowable(shape) {
                    self.out.push(' ');
                    let flow = self.shape_flow(shape, indent);
                    self.out.push_str(&flow);
                    self.after_value();
                    return;
                }
                self.comment_after_key();
                let at = self.seq_indent(indent);
                self.shape_seq(at, items, depth);
            }
            Shape::Call(name, arg) => {
                if self.c.chance(30) {
                    // `Fn::If:` / `Ref:` as a one-key mapping.
                    self.line_end();
                    let step = self.child_indent();
                    self.pad(indent + step);
                    let long = if *name == "Ref" {
                        "Ref".to_string()
                    } else {
                        format!("Fn::{name}")
                    };
                    self.out.push_str(&long);
                    self.out.push(':');
                    self.shape_value_after_key(indent + step, arg, depth + 1);
                    return;
                }
                self.tag_family(name);
                self.out.push_str(" !");
                self.out.push_str(name);
                match &**arg {
                    Shape::Seq(items) if !self.c.chance(25) || !flowable(arg) => {
                        if flowable(arg) && self.c.chance(70) {
                            self.out.push(' ');
                            let flow = self.shape_flow(arg, indent);
                            self.out.push_str(&flow);
                            self.after_value();
                        } else {
                            self.hit(Family::TagOnBlockCollection);
                            self.line_end();
                            let at = self.seq_indent(indent);
                            self.shape_seq(at, items, depth);
                        }
                    }
                    Shape::Scalar(text) => {
                        self.out.push(' ');
                        let written = self.styled(text, indent);
                        self.out.push_str(&written);
                        self.after_value();
                    }
                    other => {
                        self.out.push(' ');
                        let flow = self.shape_flow(other, indent);
                        self.out.push_str(&flow);
                        self.after_value();
                    }
                }
            }
        }
    }

    fn shape_seq(&mut self, indent: usize, items: &[Shape], depth: usize) {
        for item in items {
            // Kept unless the choice is near 0, so that shrinking drops skeleton parts.
            if !self.c.chance(96) {
                continue;
            }
            self.between_entries(indent);
            self.pad(indent);
            self.out.push('-');
            self.nodes += 1;
            match item {
                Shape::Map(entries) => {
                    if self.c.chance(15) {
                        self.line_end();
                        let step = self.child_indent();
                        self.shape_map(indent + step, false, entries, depth + 1);
                    } else {
                        self.hit(Family::SeqOfMaps);
                        let spaces = if self.c.chance(10) {
                            self.hit(Family::SeqWideCompact);
                            3
                        } else {
                            1
                        };
                        self.pad(spaces);
                        self.shape_map(indent + 1 + spaces, true, entries, depth + 1);
                    }
                }
                Shape::Seq(inner) if self.c.chance(50) => {
                    self.hit(Family::SeqOfSeq);
                    self.out.push(' ');
                    self.shape_seq_inline(indent + 2, inner, depth + 1);
                }
                other => {
                    // Reuse the after-key writer: a sequence item is a value after `-`.
                    self.shape_value_after_key(indent, other, depth + 1);
                }
            }
        }
        if self.c.chance(5) && !self.exhausted() {
            self.pad(indent);
            self.out.push('-');
            self.seq_item(indent, depth + 1);
        }
    }

    /// A compact nested sequence (`- - x`): its first item on the current line.
    fn shape_seq_inline(&mut self, indent: usize, items: &[Shape], depth: usize) {
        self.out.push('-');
        let first = items.first().cloned().unwrap_or(Shape::Any);
        self.shape_value_after_key(indent, &first, depth + 1);
        for item in items.iter().skip(1) {
            self.pad(indent);
            self.out.push('-');
            self.shape_value_after_key(indent, item, depth + 1);
        }
    }

    fn shape_flow(&mut self, shape: &Shape, indent: usize) -> String {
        match shape {
            Shape::Scalar(text) => self.styled_flow(text),
            Shape::Any => self.flow_node(2, indent, false),
            Shape::Seq(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.shape_flow(i, indent)).collect();
                self.flow_join('[', ']', parts, indent)
            }
            Shape::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| {
                        let value = self.shape_flow(v, indent);
                        format!("{k}: {value}")
                    })
                    .collect();
                self.flow_join('{', '}', parts, indent)
            }
            Shape::Call(name, arg) => {
                self.tag_family(name);
                let inner = self.shape_flow(arg, indent);
                if self.c.chance(30) {
                    let long = if *name == "Ref" {
                        "Ref".to_string()
                    } else {
                        format!("Fn::{name}")
                    };
                    format!("{{{long}: {inner}}}")
                } else {
                    format!("!{name} {inner}")
                }
            }
        }
    }

    fn tag_family(&mut self, name: &str) {
        let family = match name {
            "Ref" => Family::TagRef,
            "If" => Family::TagIf,
            "Join" => Family::TagJoin,
            "GetAtt" => Family::TagGetAtt,
            "Sub" => Family::TagSub,
            _ => Family::TagCustom,
        };
        self.hit(family);
    }

    /// `text` (a value the skeleton wants) as a plain, quoted or block scalar.
    fn styled(&mut self, text: &str, indent: usize) -> String {
        let weights: &[usize] = if self.calm {
            &[12, 2, 2, 0]
        } else {
            &[12, 3, 3, 1]
        };
        match self.c.weighted(weights) {
            0 => text.to_string(),
            1 if !text.contains('\'') => {
                self.hit(Family::SingleQuoted);
                format!("'{text}'")
            }
            2 if !text.contains(['"', '\\']) => {
                self.hit(Family::DoubleQuoted);
                format!("\"{text}\"")
            }
            3 if !text.is_empty() => {
                // A block scalar whose text is `text`: the caller's newline ends it.
                let header = self.c.pick(&["|-", ">-", "|", ">"]);
                self.block_header_family(header);
                let step = 1 + self.c.below(3);
                let mut block = format!("{header}\n");
                block.push_str(&" ".repeat(indent + step));
                block.push_str(text);
                block
            }
            _ => text.to_string(),
        }
    }

    fn styled_flow(&mut self, text: &str) -> String {
        match self.c.weighted(&[12, 3, 3]) {
            1 if !text.contains('\'') => {
                self.hit(Family::SingleQuoted);
                format!("'{text}'")
            }
            2 if !text.contains(['"', '\\']) => {
                self.hit(Family::DoubleQuoted);
                format!("\"{text}\"")
            }
            _ if text.is_empty() || text.contains([',', '[', ']', '{', '}', '#', '\'']) => {
                format!("\"{text}\"")
            }
            _ => text.to_string(),
        }
    }

    // ----- random nodes -----

    fn child_indent(&mut self) -> usize {
        if self.calm {
            return 2;
        }
        match self.c.weighted(&[10, 2, 2, 2, 1]) {
            0 => 2,
            1 => {
                self.hit(Family::MapOddIndent);
                1
            }
            2 => {
                self.hit(Family::MapOddIndent);
                3
            }
            3 => {
                self.hit(Family::MapOddIndent);
                4
            }
            _ => {
                self.hit(Family::MapOddIndent);
                8
            }
        }
    }

    /// Where a block sequence under a key at `indent` goes: at the key's indentation or
    /// under it.
    fn seq_indent(&mut self, indent: usize) -> usize {
        if self.c.chance(35) {
            self.hit(Family::SeqUnindented);
            indent
        } else {
            self.hit(Family::SeqIndented);
            indent + 1 + self.c.below(4)
        }
    }

    fn between_entries(&mut self, indent: usize) {
        if self.calm {
            if self.c.chance(5) {
                self.hit(Family::CommentBetween);
                self.pad(indent);
                self.out.push_str("# note\n");
            }
            return;
        }
        while self.c.chance(12) {
            match self.c.below(5) {
                0 => {
                    self.hit(Family::CommentBetween);
                    self.pad(indent);
                    self.out.push_str("# between");
                    self.line_end();
                }
                1 => {
                    self.hit(Family::CommentColumn0);
                    self.out.push_str("# column 0");
                    self.line_end();
                }
                2 => {
                    self.hit(Family::CommentBetween);
                    self.pad(indent + 3);
                    self.out.push_str("# deeper: - [ {");
                    self.line_end();
                }
                3 => self.out.push('\n'),
                _ => {
                    self.hit(Family::TrailingSpace);
                    let blanks = indent + self.c.below(6);
                    self.pad(blanks);
                    self.out.push('\n');
                }
            }
        }
    }

    fn comment_after_key(&mut self) {
        if self.c.chance(8) {
            self.hit(Family::CommentAfterKey);
            self.out
                .push_str(self.c.pick(&[" # nested", " #", "  # ü: [x]"]));
        }
        self.line_end();
    }

    fn after_value(&mut self) {
        if self.c.chance(10) {
            self.hit(Family::CommentAfterValue);
            let comments: &[&str] = if self.calm {
                &[" # comment"]
            } else {
                &[" # comment", "  #x", " # a: b", "\t# tab"]
            };
            let comment = self.c.pick(comments);
            if comment.contains('\t') {
                self.hit(Family::Tab);
            }
            self.out.push_str(comment);
        }
        self.line_end();
    }

    /// A key followed by `:` (the value is written by the caller), unlike every key in
    /// `written` (except for a deliberate duplicate in a wild text).
    fn key_text(&mut self, key: &str, written: &mut Vec<String>) {
        if self.wild && !written.is_empty() && self.c.chance(8) {
            self.hit(Family::DuplicateKey);
            let again = written[self.c.below(written.len())].clone();
            self.out.push_str(&again);
            self.out.push(':');
            return;
        }
        if self.wild && self.c.chance(5) {
            self.hit(Family::ComplexKey);
            self.out
                .push_str(self.c.pick(&["[a, b]:", "{a: b}:", "!Ref k:"]));
            return;
        }
        let style = if self.calm {
            0
        } else {
            self.c.weighted(&[40, 2, 2, 2, 1, 1, 1])
        };
        let mut content = match style {
            3 => {
                self.hit(Family::PlainIndicators);
                self.c.pick(TRICKY_KEYS)
            }
            4 => {
                self.hit(Family::NonAscii);
                self.c.pick(NON_ASCII)
            }
            _ => key,
        }
        .to_string();
        while written.contains(&content) {
            content.push('_');
        }
        written.push(content.clone());
        match style {
            1 => {
                self.hit(Family::QuotedKey);
                self.hit(Family::DoubleQuoted);
                self.out.push_str(&format!("\"{content}\":"));
            }
            2 => {
                self.hit(Family::QuotedKey);
                self.hit(Family::SingleQuoted);
                self.out.push_str(&format!("'{content}':"));
            }
            5 => {
                self.out.push_str(&content);
                self.out.push_str(" :");
            }
            6 => {
                // A tab between the colon and the value.
                self.hit(Family::Tab);
                self.out.push_str(&content);
                self.out.push_str(":\t");
            }
            _ => {
                self.out.push_str(&content);
                self.out.push(':');
            }
        }
    }

    /// A block mapping at `indent` with random keys and values.
    fn block_map(&mut self, indent: usize, inline_first: bool, depth: usize) {
        let n = 1 + self.c.below(if depth == 0 { 6 } else { 4 });
        let mut written: Vec<String> = Vec::new();
        for i in 0..n {
            if i > 0 && self.exhausted() {
                break;
            }
            if !(i == 0 && inline_first) {
                self.between_entries(indent);
                self.pad(indent);
            }
            if self.c.chance(3) {
                // `? key` then `: value`.
                self.hit(Family::ExplicitKey);
                let mut key = self.c.pick(KEYS).to_string();
                while written.contains(&key) {
                    key.push('_');
                }
                self.out.push_str("? ");
                self.out.push_str(&key);
                self.line_end();
                self.pad(indent);
                self.out.push(':');
                written.push(key);
                self.value_after_key(indent, depth + 1);
                continue;
            }
            if self.wild && self.c.chance(6) {
                // Valid in a flow mapping only.
                self.hit(Family::JsonColon);
                self.out.push_str("\"j\":");
                let value = self.c.pick(&["v", "[1]", "'q'", ""]);
                self.out.push_str(value);
                self.line_end();
                continue;
            }
            if self.c.chance(1) && !written.iter().any(String::is_empty) {
                self.hit(Family::EmptyKey);
                written.push(String::new());
                self.out.push(':');
                self.value_after_key(indent, depth + 1);
                continue;
            }
            let key = self.c.pick(KEYS);
            self.key_text(key, &mut written);
            self.value_after_key(indent, depth + 1);
        }
    }

    /// The value after `key:` (or after `-`) of a collection at `indent`, through its line
    /// break.
    fn value_after_key(&mut self, indent: usize, depth: usize) {
        self.nodes += 1;
        let deep = depth >= MAX_DEPTH || self.exhausted();
        let weights: &[usize] = if self.calm {
            // Scalars, nested mappings and sequences, one-line flow, simple blocks.
            if deep {
                &[10, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
            } else {
                &[10, 3, 3, 1, 1, 1, 0, 0, 0, 0, 0]
            }
        } else if deep {
            &[10, 0, 0, 2, 2, 2, 0, 1, 1, 1, 0]
        } else {
            &[10, 4, 3, 2, 3, 2, 1, 1, 1, 1, 1]
        };
        match self.c.weighted(weights) {
            0 => {
                self.out.push(' ');
                let scalar = self.inline_scalar(indent, false);
                self.out.push_str(&scalar);
                self.after_value();
            }
            1 => {
                self.comment_after_key();
                let step = self.child_indent();
                self.block_map(indent + step, false, depth);
            }
            2 => {
                self.comment_after_key();
                let at = self.seq_indent(indent);
                self.block_seq(at, depth);
            }
            3 => {
                self.out.push(' ');
                let flow = self.flow_node(depth.max(MAX_DEPTH - 3), indent, true);
                self.out.push_str(&flow);
                self.after_value();
            }
            4 => {
                self.out.push(' ');
                if self.c.chance(30) {
                    self.hit(Family::TagSubBlock);
                    let tag = self
                        .c
                        .pick(&["!Sub ", "!Base64 ", "!Sub\n", "!!str ", "!Custom "]);
                    self.out.push_str(tag);
                    if tag.ends_with('\n') {
                        // The header on a line of its own, indented under the key.
                        self.pad(indent + 2);
                    }
                }
                self.block_scalar(indent, false);
            }
            5 if self.c.chance(40) => {
                self.hit(Family::ScalarOnNextLine);
                if self.c.chance(30) {
                    self.hit(Family::CommentAfterKey);
                    self.out.push_str(" # the value is below");
                }
                self.line_end();
                let more = 1 + self.c.below(3);
                self.pad(indent + more);
                let scalar = self.inline_scalar(indent + more, false);
                self.out.push_str(&scalar);
                self.after_value();
            }
            5 => {
                self.hit(Family::EmptyValue);
                if self.c.chance(20) {
                    self.hit(Family::CommentAfterValue);
                    self.out.push_str(" # nothing");
                }
                self.line_end();
            }
            6 => {
                // A tag on a block collection.
                self.hit(Family::TagOnBlockCollection);
                let (tag, family) = self.c.pick(&[
                    ("!If", Family::TagIf),
                    ("!Join", Family::TagJoin),
                    ("!GetAtt", Family::TagGetAtt),
                    ("!Sub", Family::TagSub),
                    ("!Custom", Family::TagCustom),
                    ("!!map", Family::TagCoreStr),
                ]);
                self.hit(family);
                self.out.push(' ');
                self.out.push_str(tag);
                self.line_end();
                if self.c.chance(50) {
                    let at = self.seq_indent(indent);
                    self.block_seq(at, depth + 1);
                } else {
                    let step = self.child_indent();
                    self.block_map(indent + step, false, depth + 1);
                }
            }
            7 if self.wild => self.anchor_or_alias(indent, depth),
            7 => {
                self.out.push(' ');
                let scalar = self.inline_scalar(indent, false);
                self.out.push_str(&scalar);
                self.after_value();
            }
            8 => {
                self.hit(Family::PlainMultiline);
                self.out.push(' ');
                // A comment, `key: value` or a line at the key's indentation ends the
                // scalar: an error, in wild texts only.
                let (firsts, words, mores): (&[&str], &[&str], &[usize]) = if self.wild {
                    (
                        &["first", "a:b", "x #y"],
                        &["next", "a: b", "- x", "#c", "x # c", "é", "[a]"],
                        &[1, 2, 2, 4, 0],
                    )
                } else {
                    (
                        &["first", "a:b", "-1", "a#b"],
                        &[
                            "next", "- x", "é", "[a]", "a#b", "?x", "{b}", "&x", "*y", "!t", "|",
                            ">", "'q' x", "\"q\"", "%x", "@x", "`x", ",x", ":x", "]", "}", "? x",
                            "--- x",
                        ],
                        &[1, 2, 2, 4],
                    )
                };
                self.out.push_str(self.c.pick(firsts));
                let lines = 1 + self.c.below(3);
                for _ in 0..lines {
                    if self.c.chance(25) {
                        self.out.push('\n');
                    }
                    self.out.push('\n');
                    let more = self.c.pick(mores);
                    self.pad(indent + more);
                    let word = self.c.pick(words);
                    self.out.push_str(word);
                }
                // A comment ends the scalar (valid when no continuation line follows it).
                if !self.wild && self.c.chance(25) {
                    self.hit(Family::CommentAfterValue);
                    self.out.push_str(self.c.pick(&[" # c", "   # a: b", " #"]));
                }
                self.after_value();
            }
            9 => {
                self.out.push(' ');
                let quoted = self.multiline_quoted(indent);
                self.out.push_str(&quoted);
                self.after_value();
            }
            _ => {
                self.hit(Family::LongLine);
                self.out.push(' ');
                let unit = self
                    .c
                    .pick(&["x", "ab ", "dynamodb:GetItem, ", "日本", "é "]);
                let n = 500 + self.c.below(4000);
                let mut long = unit.repeat(n / unit.len() + 1);
                long = long.trim_end().trim_end_matches(',').to_string();
                if self.c.chance(30) {
                    long = format!("\"{}\"", long.replace('"', ""));
                }
                self.out.push_str(&long);
                self.after_value();
            }
        }
    }

    fn anchor_or_alias(&mut self, indent: usize, depth: usize) {
        if self.anchors.is_empty() || self.c.chance(50) {
            self.hit(Family::Anchor);
            let name = format!("a{}", self.anchors.len());
            self.out.push_str(" &");
            self.out.push_str(&name);
            self.anchors.push(name);
            if self.c.chance(50) {
                self.out.push(' ');
                let scalar = self.inline_scalar(indent, false);
                self.out.push_str(&scalar);
                self.after_value();
            } else {
                self.line_end();
                let step = self.child_indent();
                self.block_map(indent + step, false, depth + 1);
            }
        } else {
            self.hit(Family::Alias);
            let name = self.anchors[self.c.below(self.anchors.len())].clone();
            self.out.push_str(" *");
            self.out.push_str(&name);
            self.after_value();
        }
    }

    fn block_seq(&mut self, indent: usize, depth: usize) {
        let n = 1 + self.c.below(4);
        for i in 0..n {
            if i > 0 && self.exhausted() {
                break;
            }
            self.between_entries(indent);
            self.pad(indent);
            self.out.push('-');
            self.seq_item(indent, depth + 1);
        }
    }

    /// An item after its `-` (at column `indent`), through its line break.
    fn seq_item(&mut self, indent: usize, depth: usize) {
        self.nodes += 1;
        let deep = depth >= MAX_DEPTH || self.exhausted();
        let weights: &[usize] = if deep {
            &[6, 1, 0, 0, 0, 1, 1, 1]
        } else {
            &[6, 1, 4, 2, 2, 2, 1, 1]
        };
        match self.c.weighted(weights) {
            1 => {
                self.hit(Family::DashAlone);
                self.line_end();
            }
            2 => {
                self.hit(Family::SeqOfMaps);
                let spaces = if self.c.chance(10) {
                    self.hit(Family::SeqWideCompact);
                    3
                } else {
                    1
                };
                self.pad(spaces);
                self.block_map(indent + 1 + spaces, true, depth);
            }
            3 => {
                self.hit(Family::SeqOfSeq);
                self.out.push_str(" -");
                self.seq_item(indent + 2, depth + 1);
                let more = self.c.below(3);
                for _ in 0..more {
                    self.pad(indent + 2);
                    self.out.push('-');
                    self.seq_item(indent + 2, depth + 1);
                }
            }
            4 => {
                self.hit(Family::DashAlone);
                self.comment_after_key();
                let step = self.child_indent();
                if self.c.chance(50) {
                    self.block_map(indent + step, false, depth);
                } else {
                    self.block_seq(indent + step, depth);
                }
            }
            5 => {
                self.out.push(' ');
                let flow = self.flow_node(depth.max(MAX_DEPTH - 3), indent, true);
                self.out.push_str(&flow);
                self.after_value();
            }
            6 => {
                self.out.push(' ');
                if self.c.chance(30) {
                    self.hit(Family::TagSubBlock);
                    self.out.push_str("!Sub ");
                }
                self.block_scalar(indent, false);
            }
            7 => {
                self.out.push(' ');
                let quoted = self.multiline_quoted(indent);
                self.out.push_str(&quoted);
                self.after_value();
            }
            _ => {
                if self.c.chance(5) {
                    self.hit(Family::TabAfterDash);
                    self.hit(Family::Tab);
                    self.out.push('\t');
                } else {
                    self.out.push(' ');
                }
                let scalar = self.inline_scalar(indent, false);
                self.out.push_str(&scalar);
                self.after_value();
            }
        }
    }

    /// A one-line scalar, possibly tagged.
    fn inline_scalar(&mut self, indent: usize, flow: bool) -> String {
        if self.calm {
            return match self.c.weighted(&[10, 2, 2, 1, 1]) {
                1 => format!("'{}'", self.c.pick(&["Retain", "2012-10-17", "a b", "x"])),
                2 => format!(
                    "\"{}\"",
                    self.c.pick(&["Retain", "${AWS::Region}", "a: b", "x"])
                ),
                3 => format!("!Ref {}", self.c.pick(&["MyTable", "Stage"])),
                4 => format!("!GetAtt {}", self.c.pick(&["MyTable.Arn", "Fn.Arn"])),
                _ => self.c.pick(PLAIN_SAFE).to_string(),
            };
        }
        if self.c.chance(15) {
            let (mut tag, mut value, family) = self.c.pick(INTRINSIC_SCALARS);
            if tag == "!!binary" && !self.wild {
                (tag, value) = ("!!str", "aGVsbG8=");
            }
            if self.tag_handle && self.c.chance(60) {
                self.hit(Family::TagHandle);
                (tag, value) = (self.c.pick(&["!e!Ref", "!e!str", "!e!"]), "x");
            }
            self.hit(family);
            if tag.starts_with("!<") {
                self.hit(Family::TagVerbatim);
            }
            if self.c.chance(if flow { 20 } else { 5 }) {
                self.hit(Family::TagEmpty);
                // In a flow, also with blanks before the `,` or bracket that ends it.
                if flow && self.c.chance(50) {
                    return format!("{tag}{}", self.c.pick(&[" ", "  "]));
                }
                return tag.to_string();
            }
            if flow && !value.starts_with(['"', '\'']) && value.contains([',', '[', ']', '{', '}'])
            {
                return format!("{tag} \"{value}\"");
            }
            return format!("{tag} {value}");
        }
        match self.c.weighted(&[10, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1]) {
            1 => {
                self.hit(Family::PlainIndicators);
                let pool = if flow {
                    PLAIN_TRICKY_FLOW
                } else {
                    PLAIN_TRICKY_BLOCK
                };
                let text = self.c.pick(pool);
                if text.contains('\t') {
                    self.hit(Family::Tab);
                }
                text.to_string()
            }
            2 => {
                self.hit(Family::PlainSpecial);
                self.c.pick(PLAIN_SPECIAL).to_string()
            }
            3 => {
                self.hit(Family::SingleQuoted);
                if self.c.chance(40) {
                    self.hit(Family::SingleQuoteEscape);
                    format!("'{}'", self.c.pick(SINGLE_ESCAPED))
                } else {
                    format!("'{}'", self.c.pick(SINGLE))
                }
            }
            4 => {
                self.hit(Family::DoubleQuoted);
                if self.c.chance(50) {
                    self.hit(Family::DoubleEscapes);
                    format!("\"{}\"", self.c.pick(DOUBLE_ESCAPED))
                } else {
                    format!("\"{}\"", self.c.pick(DOUBLE_PLAIN))
                }
            }
            5 => {
                self.hit(Family::NonAscii);
                self.c.pick(NON_ASCII).to_string()
            }
            6 if !flow => {
                self.hit(Family::PlainComment);
                self.hit(Family::CommentAfterValue);
                format!("{} # c: [x]", self.c.pick(PLAIN_SAFE))
            }
            7 => {
                self.hit(Family::Emoji);
                self.hit(Family::NonAscii);
                self.c.pick(EMOJI).to_string()
            }
            8 if flow && self.exotic && self.c.chance(30) => {
                self.hit(Family::PlainIndicators);
                "?x".to_string()
            }
            8 if self.exotic && self.exotic_left > 0 => {
                self.exotic_left -= 1;
                let text = match self.c.below(4) {
                    0 => {
                        self.hit(Family::Nel);
                        "x\u{85}y".to_string()
                    }
                    1 => {
                        self.hit(Family::BomInside);
                        "x\u{feff}y".to_string()
                    }
                    _ => {
                        self.hit(Family::LineSeparator);
                        self.c.pick(LINE_SEPARATORS).to_string()
                    }
                };
                // Quoted, both dialects keep the character as text.
                if self.c.chance(60) {
                    format!("\"{text}\"")
                } else {
                    text
                }
            }
            9 if !flow && self.wild => {
                self.hit(Family::PlainInvalid);
                self.c.pick(PLAIN_INVALID).to_string()
            }
            10 if self.wild => {
                self.hit(Family::DoubleQuoted);
                self.hit(Family::DoubleInvalidEscape);
                format!("\"{}\"", self.c.pick(DOUBLE_INVALID))
            }
            11 if !flow && self.wild => {
                // A flow collection or quoted scalar that ends the line too early.
                self.hit(Family::PlainInvalid);
                let _ = indent;
                self.c
                    .pick(&["[a, b", "{a: b", "'x", "\"x", "a]", "[a]]"])
                    .to_string()
            }
            _ => self.c.pick(PLAIN_SAFE).to_string(),
        }
    }

    /// A quoted scalar over several lines; continuation lines at `indent + 1..` mostly,
    /// sometimes at or below `indent` (libyaml reads those, saphyr refuses them).
    fn multiline_quoted(&mut self, indent: usize) -> String {
        let single = self.c.chance(40);
        let mut text = String::new();
        text.push(if single { '\'' } else { '"' });
        if single {
            self.hit(Family::SingleQuoted);
            self.hit(Family::SingleMultiline);
        } else {
            self.hit(Family::DoubleQuoted);
            self.hit(Family::DoubleMultiline);
        }
        text.push_str(self.c.pick(&["first", "a # b", "", "x  ", "é"]));
        let lines = 1 + self.c.below(3);
        for _ in 0..lines {
            if !single && self.c.chance(30) {
                self.hit(Family::DoubleLineContinuation);
                text.push('\\');
            }
            text.push('\n');
            if self.c.chance(25) {
                self.hit(Family::BlockInnerBlank);
                text.push('\n');
            }
            let below = if self.wild { 1 } else { 0 };
            let at = match self.c.weighted(&[12, 1, below]) {
                0 => indent + 1 + self.c.below(4),
                1 => {
                    self.hit(Family::QuotedUnderIndented);
                    indent
                }
                _ => {
                    self.hit(Family::QuotedUnderIndented);
                    0
                }
            };
            text.push_str(&" ".repeat(at));
            let word = if single {
                self.c
                    .pick(&["next", "it''s", "  lead", "- x", "# not a comment", "a: b"])
            } else {
                self.c.pick(&[
                    "next",
                    "\\u00e9",
                    "\\\"q\\\"",
                    "  lead",
                    "\\ttab",
                    "- x",
                    "a: b",
                ])
            };
            text.push_str(word);
        }
        text.push(if single { '\'' } else { '"' });
        text
    }

    fn block_header_family(&mut self, header: &str) {
        if header.starts_with('|') {
            self.hit(Family::Literal);
        } else {
            self.hit(Family::Folded);
        }
        if header.contains('-') {
            self.hit(Family::ChompStrip);
        }
        if header.contains('+') {
            self.hit(Family::ChompKeep);
        }
        if header.chars().any(|c| c.is_ascii_digit()) {
            self.hit(Family::IndentIndicator);
        }
    }

    /// A block scalar: its header (the caller wrote what comes before it on the line) and
    /// its lines, for a node whose parent is at `parent` (the text is indented more).
    fn block_scalar(&mut self, parent: usize, at_root: bool) {
        if self.calm {
            let header = self.c.pick(&["|", "|-", ">", ">-"]);
            self.block_header_family(header);
            self.out.push_str(header);
            self.out.push('\n');
            let lines = 1 + self.c.below(4);
            for _ in 0..lines {
                self.pad(parent + 2);
                self.out.push_str(self.c.pick(&[
                    "import boto3",
                    "line",
                    "${AWS::StackName}",
                    "a: b",
                ]));
                self.out.push('\n');
            }
            return;
        }
        let mut header = self.c.pick(HEADERS).to_string();
        let step = match self.c.weighted(&[6, 2, 2, 1]) {
            0 => 2,
            1 => 1,
            2 => 4,
            _ => 3,
        };
        let mut content = parent + step;
        if at_root && self.c.chance(30) {
            // A root block scalar with its text at column 0 (YAML 1.1 reads it otherwise).
            content = 0;
        }
        if self.c.chance(15) && (content > parent || self.wild) {
            let digit = if !self.wild || self.c.chance(80) {
                content.saturating_sub(parent).max(1)
            } else {
                1 + self.c.below(4)
            };
            let digit = digit.min(9);
            if self.c.chance(50) {
                header.insert_str(1, &digit.to_string());
            } else {
                header.push_str(&digit.to_string());
            }
        }
        self.block_header_family(&header);
        self.out.push_str(&header);
        if self.c.chance(8) {
            self.hit(Family::BlockHeaderComment);
            self.out.push_str(" # header comment");
        }
        self.out.push('\n');
        if self.c.chance(6) {
            self.hit(Family::BlockEmpty);
            return;
        }
        if self.c.chance(15) {
            self.hit(Family::BlockLeadingBlank);
            self.out.push('\n');
            if self.c.chance(30) {
                self.hit(Family::BlockSpacesLine);
                self.pad(content.saturating_sub(1));
                self.out.push('\n');
            }
        }
        let lines = 1 + self.c.below(4);
        for i in 0..lines {
            if i > 0 && self.c.chance(15) {
                self.hit(Family::BlockInnerBlank);
                if self.c.chance(30) {
                    self.hit(Family::BlockSpacesLine);
                    self.pad(content + 2);
                }
                self.out.push('\n');
            }
            self.pad(content);
            if i > 0 && self.c.chance(15) {
                if header.starts_with('>') {
                    self.hit(Family::FoldedMoreIndented);
                }
                let more = 1 + self.c.below(3);
                self.pad(more);
            }
            if self.c.chance(4) {
                self.hit(Family::Tab);
                self.out.push('\t');
            }
            let line = self.c.pick(BLOCK_LINES);
            self.out.push_str(line);
            self.out.push('\n');
        }
        if self.c.chance(20) {
            self.hit(Family::BlockTrailingBlank);
            self.out.push('\n');
            if self.c.chance(40) {
                self.hit(Family::BlockSpacesLine);
                self.pad(content + 1);
                self.out.push('\n');
            }
        }
        if self.c.chance(8) {
            self.hit(Family::BlockThenColumn0Comment);
            self.hit(Family::CommentColumn0);
            self.out.push_str("# after the block\n");
            if self.c.chance(30) {
                self.out.push('\n');
            }
        }
    }

    /// A flow node (`depth` bounds its nesting; `indent` is the indentation of the block
    /// collection it stands in, for multi-line forms). `top`: it is the value itself.
    fn flow_node(&mut self, depth: usize, indent: usize, top: bool) -> String {
        self.nodes += 1;
        let leaf = depth >= MAX_DEPTH || self.exhausted();
        let choice = if leaf && !top {
            0
        } else {
            self.c.weighted(&[4, 3, 3, 1])
        };
        match choice {
            1 => {
                let n = self.c.below(4);
                let mut parts = Vec::new();
                for _ in 0..n {
                    let item = match self.c.weighted(&[12, 2, 2, 1, 1]) {
                        3 => {
                            self.hit(Family::FlowPairInSeq);
                            format!("{}:", self.c.pick(KEYS))
                        }
                        4 => {
                            self.hit(Family::ExplicitKey);
                            let v = self.flow_node(depth + 1, indent, false);
                            format!("? {} : {v}", self.c.pick(KEYS))
                        }
                        1 => {
                            self.hit(Family::FlowMapInSeq);
                            let k = self.c.pick(KEYS);
                            let v = self.flow_node(depth + 1, indent, false);
                            format!("{{{k}: {v}}}")
                        }
                        2 => {
                            self.hit(Family::FlowPairInSeq);
                            let k = self.c.pick(KEYS);
                            let v = self.flow_node(depth + 1, indent, false);
                            match self.c.below(4) {
                                1 => {
                                    self.hit(Family::QuotedKey);
                                    format!("\"{k}\": {v}")
                                }
                                2 => {
                                    self.hit(Family::QuotedKey);
                                    format!("'{k}' : {v}")
                                }
                                3 => format!("{k} : {v}"),
                                _ => format!("{k}: {v}"),
                            }
                        }
                        _ => self.flow_node(depth + 1, indent, false),
                    };
                    parts.push(item);
                }
                if depth + 1 < MAX_DEPTH && parts.iter().any(|p| p.starts_with(['[', '{'])) {
                    self.hit(Family::FlowNested);
                }
                self.flow_join('[', ']', parts, indent)
            }
            2 => {
                let n = self.c.below(4);
                let mut parts = Vec::new();
                let mut keys: Vec<String> = Vec::new();
                for _ in 0..n {
                    let mut key = match self.c.weighted(&[6, 1, 1]) {
                        1 => {
                            self.hit(Family::QuotedKey);
                            format!("\"{}\"", self.c.pick(KEYS))
                        }
                        2 => {
                            self.hit(Family::PlainIndicators);
                            self.c.pick(&["a:b", "http://x", "-k", "a#b"]).to_string()
                        }
                        _ => self.c.pick(KEYS).to_string(),
                    };
                    let bare = key.trim_matches('"').to_string();
                    if keys.contains(&bare) && !self.wild {
                        key = format!("{bare}{}", keys.len());
                    }
                    keys.push(key.trim_matches('"').to_string());
                    if self.c.chance(8) {
                        self.hit(Family::FlowKeyOnly);
                        parts.push(key);
                        continue;
                    }
                    let value = self.flow_node(depth + 1, indent, false);
                    if key.starts_with('"') && self.c.chance(30) {
                        self.hit(Family::JsonColon);
                        parts.push(format!("{key}:{value}"));
                    } else {
                        parts.push(format!("{key}: {value}"));
                    }
                }
                if parts.iter().any(|p| p.contains(['[', '{'])) {
                    self.hit(Family::FlowNested);
                }
                self.flow_join('{', '}', parts, indent)
            }
            3 => {
                let (tag, family) = self.c.pick(&[
                    ("!If", Family::TagIf),
                    ("!Join", Family::TagJoin),
                    ("!GetAtt", Family::TagGetAtt),
                    ("!Equals", Family::TagCustom),
                    ("!Select", Family::TagCustom),
                    ("!Custom", Family::TagCustom),
                ]);
                self.hit(family);
                let n = 1 + self.c.below(3);
                let parts = (0..n)
                    .map(|_| self.flow_node(depth + 1, indent, false))
                    .collect();
                let inner = self.flow_join('[', ']', parts, indent);
                format!("{tag} {inner}")
            }
            _ if !top && self.exotic && self.c.chance(3) => {
                // `?` starting a flow scalar: an explicit key to YAML 1.1 only.
                self.hit(Family::QuestionInFlow);
                self.c
                    .pick(&["?x", "?DeletionPolicy: Delete", "? k", "?"])
                    .to_string()
            }
            _ => {
                let scalar = self.inline_scalar(indent, !top);
                if scalar.starts_with('!') && !scalar.contains(' ') {
                    // A lone tag then `,` makes libyaml-safer panic (`yaml_fallback::can_read`):
                    // keep the text out of that known hole, so that a finding here is news.
                    format!("{scalar} x")
                } else {
                    scalar
                }
            }
        }
    }

    fn flow_join(&mut self, open: char, close: char, parts: Vec<String>, indent: usize) -> String {
        if parts.is_empty() {
            self.hit(Family::FlowEmpty);
            return format!("{open}{}{close}", if self.c.chance(20) { " " } else { "" });
        }
        let multiline = !self.calm && self.c.chance(20);
        let mut text = String::new();
        text.push(open);
        // Continuation lines at the key's indentation (or at column 0) are for wild texts;
        // a closing bracket there is what libyaml (and so the fallback) accepts.
        let separator_indent = |gen: &mut Self, closing: bool| -> usize {
            let (at, below) = if gen.wild {
                (1, 1)
            } else {
                (usize::from(closing), 0)
            };
            match gen.c.weighted(&[12, at, below]) {
                0 => indent + 1 + gen.c.below(4),
                1 => {
                    gen.hit(Family::FlowUnderIndented);
                    indent
                }
                _ => {
                    gen.hit(Family::FlowUnderIndented);
                    0
                }
            }
        };
        if multiline {
            self.hit(Family::FlowMultiline);
        }
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if multiline {
                if self.c.chance(15) {
                    self.hit(Family::CommentAfterValue);
                    text.push_str(" # in flow");
                    if i == 0 {
                        self.hit(Family::CommentAfterBracket);
                        if self.exotic && self.c.chance(50) {
                            // The first item after the comment starts with `?`.
                            self.hit(Family::QuestionInFlow);
                            text.push('\n');
                            text.push_str(&" ".repeat(indent + 2));
                            text.push_str(if open == '{' { "?k: v," } else { "?x," });
                        }
                    }
                }
                text.push('\n');
                let at = separator_indent(self, false);
                text.push_str(&" ".repeat(at));
            } else if i > 0 || self.c.chance(20) {
                text.push(' ');
            }
            text.push_str(part);
        }
        if self.c.chance(12) {
            self.hit(Family::FlowTrailingComma);
            text.push(',');
        }
        if multiline && self.c.chance(60) {
            text.push('\n');
            let at = separator_indent(self, true);
            text.push_str(&" ".repeat(at));
        }
        text.push(close);
        text
    }

    // ----- the whole text -----

    /// Line endings, the final line break and mutations; whether the text was mutated.
    fn finish(&mut self) -> bool {
        if self.calm {
            return false;
        }
        if self.c.chance(10) {
            self.hit(Family::NoFinalNewline);
            while self.out.ends_with('\n') {
                self.out.pop();
            }
        }
        let mutated = self.c.chance(33);
        if mutated {
            let n = 1 + self.c.below(3);
            for _ in 0..n {
                self.mutate();
            }
        }
        match self.c.weighted(&[20, 2, 1, 1]) {
            1 if self.out.contains('\n') => {
                self.hit(Family::Crlf);
                self.out = self.out.replace('\n', "\r\n");
            }
            2 => {
                // Some lines only.
                let mut text = String::with_capacity(self.out.len());
                for line in self.out.split_inclusive('\n') {
                    if line.ends_with('\n') && self.c.chance(50) {
                        self.families.insert(Family::Crlf);
                        text.push_str(&line[..line.len() - 1]);
                        text.push_str("\r\n");
                    } else {
                        text.push_str(line);
                    }
                }
                self.out = text;
            }
            3 => {
                if let Some(at) = self.out.find('\n') {
                    self.hit(Family::LoneCr);
                    self.out.replace_range(at..at + 1, "\r");
                }
            }
            _ => {}
        }
        if self.out.contains('\t') {
            self.hit(Family::Tab);
        }
        mutated
    }

    fn mutate(&mut self) {
        if self.out.is_empty() {
            self.out.push('x');
        }
        let boundaries: Vec<usize> = self.out.char_indices().map(|(at, _)| at).collect();
        let at = boundaries[self.c.below(boundaries.len())];
        let line_start = self.out[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.out[at..]
            .find('\n')
            .map_or(self.out.len(), |i| at + i + 1);
        match self.c.below(7) {
            0 => {
                self.hit(Family::MutDeleteChar);
                let len = self.out[at..].chars().next().map_or(0, char::len_utf8);
                self.out.replace_range(at..at + len, "");
            }
            1 => {
                self.hit(Family::MutInsertChar);
                let c = self.c.pick(&[
                    ' ', '\t', ':', '-', '#', '\'', '"', '[', ']', '{', '}', ',', '\n', '|', '>',
                    '!', '&', '*', '?', 'é', '\r', '%', '@', '\\', '\u{2028}',
                ]);
                self.out.insert(at, c);
            }
            2 => {
                self.hit(Family::MutDuplicateChar);
                if let Some(c) = self.out[at..].chars().next() {
                    self.out.insert(at, c);
                }
            }
            3 => {
                self.hit(Family::MutDeleteLine);
                self.out.replace_range(line_start..line_end, "");
            }
            4 => {
                self.hit(Family::MutDuplicateLine);
                let mut line = self.out[line_start..line_end].to_string();
                if !line.ends_with('\n') {
                    line.push('\n');
                    self.out.push('\n');
                }
                self.out.insert_str(line_start, &line);
            }
            5 => {
                self.hit(Family::MutSwapLines);
                if line_end < self.out.len() {
                    let next_end = self.out[line_end..]
                        .find('\n')
                        .map_or(self.out.len(), |i| line_end + i + 1);
                    let first = self.out[line_start..line_end].to_string();
                    let mut second = self.out[line_end..next_end].to_string();
                    if !second.ends_with('\n') {
                        second.push('\n');
                    }
                    self.out
                        .replace_range(line_start..next_end, &format!("{second}{first}"));
                }
            }
            _ => {
                self.hit(Family::MutIndent);
                let indent = self.out[line_start..line_end].len()
                    - self.out[line_start..line_end].trim_start_matches(' ').len();
                match self.c.below(4) {
                    0 => self.out.insert(line_start, ' '),
                    1 => self.out.insert_str(line_start, "  "),
                    2 if indent > 0 => self.out.replace_range(line_start..line_start + 1, ""),
                    _ => self.out.insert(line_start, '\t'),
                }
            }
        }
    }
}

/// Whether a skeleton shape can be written as flow (every part can).
fn flowable(shape: &Shape) -> bool {
    match shape {
        Shape::Scalar(_) | Shape::Any => true,
        Shape::Map(entries) => entries.iter().all(|(_, v)| flowable(v)),
        Shape::Seq(items) => items.iter().all(flowable),
        Shape::Call(_, arg) => flowable(arg),
    }
}

// ----- the differential harness -----

/// Today's YAML reading of a whole file (BOM included), through saphyr, its libyaml-safer
/// second opinion and the dialect checks, whatever `load` does first: what a candidate
/// loader must match.
pub(crate) fn reference_load<'s>(
    text: &'s str,
    limits: &Limits,
    aliases: Aliases,
) -> Result<Document<'s>, FileError> {
    let bom = "\u{feff}";
    let (body, base) = match text.strip_prefix(bom) {
        Some(rest) => (rest, bom.len()),
        None => (text, 0),
    };
    let mut doc = super::yaml::saphyr_path(body, base, limits, aliases)?;
    doc.text = text;
    doc.format = Format::Yaml;
    Ok(doc)
}

/// Panics with a readable difference unless `candidate` (a loader under test) reads `text`
/// exactly as today's reading does: the same tree (structure, keys, scalar text and style,
/// tags, every span, node ids), the same document fields, or the same error. `None` from
/// the candidate is a decline and always fine.
pub(crate) fn assert_same_document(
    text: &str,
    candidate: impl for<'s> Fn(&'s str) -> Option<Result<Document<'s>, FileError>>,
) {
    if let Err(difference) = same_document(text, &Limits::default(), Aliases::Refuse, candidate) {
        panic!("{difference}");
    }
}

/// What [`differential`] saw on the generated texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Agreement {
    pub texts: usize,
    /// The candidate read the text or refused it, exactly as today's reading does.
    pub compared: usize,
    /// The candidate declined (`None`).
    pub declined: usize,
}

/// `candidate` against today's reading on `cases` texts from [`yaml_text`]. On the first
/// difference, proptest shrinks the text and this panics with the minimal text and the
/// difference ([`same_document`]); otherwise it returns what it saw, so that a caller can
/// also require the candidate to decline rarely.
pub(crate) fn differential(
    cases: u32,
    candidate: impl for<'s> Fn(&'s str) -> Option<Result<Document<'s>, FileError>>,
) -> Agreement {
    use proptest::test_runner::{Config, TestCaseError, TestError, TestRng, TestRunner};
    use std::cell::Cell;
    let seen = Cell::new(Agreement::default());
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the one caller is a test of this harness itself (does it find and
    // shrink a planted difference?), whose minimal text must not depend on the draw. The
    // generators' own proptests keep drawing fresh texts on every run.
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&yaml_text(), |text| {
        let declined = Cell::new(false);
        let outcome = same_document(&text, &Limits::default(), Aliases::Refuse, |t| {
            let read = candidate(t);
            declined.set(read.is_none());
            read
        });
        let mut counts = seen.get();
        counts.texts += 1;
        if declined.get() {
            counts.declined += 1;
        } else {
            counts.compared += 1;
        }
        seen.set(counts);
        outcome.map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => seen.get(),
        Err(TestError::Fail(_, text)) => {
            // The choice bytes shrink poorly (a byte less reshapes all that follows), so
            // the text is reduced as text: lines, then characters.
            let differs = |t: &str| {
                same_document(t, &Limits::default(), Aliases::Refuse, &candidate).is_err()
            };
            let minimal = minimize(&text, differs);
            let reason = same_document(&minimal, &Limits::default(), Aliases::Refuse, &candidate)
                .err()
                .unwrap_or_default();
            panic!(
                "the candidate loader differs from today's on a generated text \
                 ({} bytes; reduced to {} bytes):\nminimal: {minimal:?}\n{reason}",
                text.len(),
                minimal.len()
            )
        }
        Err(error) => panic!("differential: {error}"),
    }
}

/// A smaller text on which `differs` still holds: greedy removal of lines, then of single
/// characters (for texts short enough), until no removal keeps it.
pub(crate) fn minimize(text: &str, differs: impl Fn(&str) -> bool) -> String {
    let mut text = text.to_string();
    loop {
        let before = text.len();
        // Chunks of lines, halving down to one line.
        let mut chunk = text.split_inclusive('\n').count().div_ceil(2).max(1);
        loop {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let mut at = 0;
            let mut kept = None;
            while at < lines.len() {
                let candidate: String = lines[..at]
                    .iter()
                    .chain(lines.iter().skip(at + chunk))
                    .copied()
                    .collect();
                if differs(&candidate) {
                    kept = Some(candidate);
                    break;
                }
                at += chunk;
            }
            match kept {
                Some(smaller) => text = smaller,
                None if chunk == 1 => break,
                None => chunk = chunk.div_ceil(2),
            }
        }
        if text.len() <= 400 {
            let mut at = 0;
            while at < text.len() {
                let mut smaller = text.clone();
                smaller.remove(at);
                if differs(&smaller) {
                    text = smaller;
                } else {
                    at += text[at..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
        if text.len() == before {
            return text;
        }
    }
}

/// [`assert_same_document`] as a value: the first difference, described, or `Ok`.
pub(crate) fn same_document(
    text: &str,
    limits: &Limits,
    aliases: Aliases,
    candidate: impl for<'s> Fn(&'s str) -> Option<Result<Document<'s>, FileError>>,
) -> Result<(), String> {
    let Some(got) = candidate(text) else {
        return Ok(());
    };
    let want = reference_load(text, limits, aliases);
    let difference = match (&want, &got) {
        (Ok(want), Ok(got)) => diff_documents(text, want, got),
        (Err(want), Err(got)) if want == got => None,
        (Err(want), Err(got)) => Some(format!(
            "both refuse the text, with different errors:\n  today: {}\n  candidate: {}",
            describe_error(text, want),
            describe_error(text, got)
        )),
        (Err(want), Ok(_)) => Some(format!(
            "today's loader refuses the text, the candidate reads it:\n  today: {}",
            describe_error(text, want)
        )),
        (Ok(_), Err(got)) => Some(format!(
            "today's loader reads the text, the candidate refuses it:\n  candidate: {}",
            describe_error(text, got)
        )),
    };
    match difference {
        None => Ok(()),
        Some(difference) => Err(format!("{difference}\ntext: {text:?}")),
    }
}

fn describe_error(text: &str, error: &FileError) -> String {
    let mut out = format!("{:?}", error.message);
    if let Some(span) = error.span {
        out.push_str(&format!(" at {}", locate(text, span)));
        out.push('\n');
        out.push_str(&excerpt(text, span));
    }
    out
}

/// Byte span with its line and column (1-based, in characters).
fn locate(text: &str, span: Span) -> String {
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(
        "{}..{} (line {line}, column {column})",
        span.start, span.end
    )
}

/// The lines around `span`, with a marker under it.
fn excerpt(text: &str, span: Span) -> String {
    let start = span.start.min(text.len());
    let Some(before) = text.get(..start) else {
        return format!(
            "    (span {}..{} is not on a character boundary)\n",
            span.start, span.end
        );
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let previous_start = text[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut out = String::new();
    if line_start > 0 {
        out.push_str(&format!(
            "    | {:?}\n",
            &text[previous_start..line_start - 1]
        ));
    }
    let line = &text[line_start..line_end];
    out.push_str(&format!("    | {line:?}\n"));
    // `{:?}` of the line: the marker counts the escaped width of what precedes the span.
    let lead = format!("{:?}", &text[line_start..start]).len() - 1;
    let width = text
        .get(start..span.end.min(line_end).max(start))
        .map_or(1, |s| format!("{s:?}").len().saturating_sub(2).max(1));
    out.push_str(&format!(
        "    | {}{}\n",
        " ".repeat(lead),
        "^".repeat(width)
    ));
    out
}

fn describe_node(doc: &Document, id: NodeId) -> String {
    let node = doc.node(id);
    let tag = node
        .tag
        .as_deref()
        .map(|t| format!("<{t}> "))
        .unwrap_or_default();
    let kind = match &node.kind {
        NodeKind::Map(entries) => format!("mapping of {} entries", entries.len()),
        NodeKind::Seq(items) => format!("sequence of {} items", items.len()),
        NodeKind::Scalar(s) => format!("{:?} scalar {:?}", s.style, s.text),
    };
    format!("{tag}{kind} at {}", locate(doc.text, node.span))
}

/// The first difference between today's document `want` and the candidate's `got` for
/// `text`, described: the path to the first differing node (in document order), both
/// nodes, and the text around it. Then the arena, the node ids and the document fields.
pub(crate) fn diff_documents(text: &str, want: &Document, got: &Document) -> Option<String> {
    if !std::ptr::eq(want.text, got.text) && want.text != got.text {
        return Some("the documents index different texts".to_string());
    }
    if want.format != got.format {
        return Some(format!(
            "format: today {:?}, candidate {:?}",
            want.format, got.format
        ));
    }
    let roots_want: Vec<NodeId> = want.root.iter().chain(&want.more_roots).copied().collect();
    let roots_got: Vec<NodeId> = got.root.iter().chain(&got.more_roots).copied().collect();
    if want.root.is_some() != got.root.is_some() || roots_want.len() != roots_got.len() {
        return Some(format!(
            "documents: today {} root(s) (first document {}), candidate {} (first document {})",
            roots_want.len(),
            if want.root.is_some() {
                "not empty"
            } else {
                "empty"
            },
            roots_got.len(),
            if got.root.is_some() {
                "not empty"
            } else {
                "empty"
            },
        ));
    }
    // Node pairs in document order, with their paths.
    let mut pairs: Vec<(NodeId, NodeId)> = Vec::new();
    let mut stack: Vec<(NodeId, NodeId, String)> = roots_want
        .iter()
        .zip(&roots_got)
        .enumerate()
        .rev()
        .map(|(i, (w, g))| (*w, *g, format!("document {i}")))
        .collect();
    while let Some((w, g, path)) = stack.pop() {
        pairs.push((w, g));
        let (nw, ng) = (want.node(w), got.node(g));
        let differs = |what: &str| {
            Some(format!(
                "first difference at {path}: {what}\n  today:     {}\n  candidate: {}\n{}",
                describe_node(want, w),
                describe_node(got, g),
                excerpt(text, nw.span)
            ))
        };
        if nw.tag != ng.tag {
            return differs("tag");
        }
        match (&nw.kind, &ng.kind) {
            (NodeKind::Scalar(sw), NodeKind::Scalar(sg)) => {
                if sw.text != sg.text {
                    return differs("scalar text");
                }
                if sw.style != sg.style {
                    return differs("scalar style");
                }
            }
            (NodeKind::Seq(iw), NodeKind::Seq(ig)) => {
                let (iw, ig) = (want.items(*iw), got.items(*ig));
                if iw.len() != ig.len() {
                    return differs("number of items");
                }
                for (i, (x, y)) in iw.iter().zip(ig).enumerate().rev() {
                    stack.push((*x, *y, format!("{path}[{i}]")));
                }
            }
            (NodeKind::Map(ew), NodeKind::Map(eg)) => {
                let (ew, eg) = (want.entries(*ew), got.entries(*eg));
                if ew.len() != eg.len() {
                    return differs("number of entries");
                }
                for (ew, eg) in ew.iter().zip(eg).rev() {
                    let key = want
                        .scalar(ew.key)
                        .map_or("?".into(), |s| s.text.to_string());
                    stack.push((ew.value, eg.value, format!("{path}.{key:?}")));
                    stack.push((ew.key, eg.key, format!("{path} key {key:?}")));
                }
            }
            _ => return differs("kind of node"),
        }
        if nw.span != ng.span {
            return differs("span");
        }
    }
    // The same tree: now the arena and the document's other fields.
    if let Some((w, g)) = pairs.iter().find(|(w, g)| w != g) {
        return Some(format!(
            "same tree, other node ids (arena order): today's node {w} is the candidate's {g}: {}",
            describe_node(want, *w)
        ));
    }
    if want.nodes.len() != got.nodes.len() {
        return Some(format!(
            "same tree, other arena sizes: today {} nodes, candidate {}",
            want.nodes.len(),
            got.nodes.len()
        ));
    }
    if want.more_documents != got.more_documents {
        return Some(format!(
            "more_documents: today {:?}, candidate {:?}",
            want.more_documents, got.more_documents
        ));
    }
    if want.lenient != got.lenient {
        return Some(format!(
            "lenient: today {}, candidate {}",
            want.lenient, got.lenient
        ));
    }
    if want.aliases != got.aliases {
        return Some(format!(
            "aliases: today {:?}, candidate {:?}",
            want.aliases, got.aliases
        ));
    }
    let shared = |doc: &Document| doc.shared.iter().copied().collect::<BTreeSet<_>>();
    if shared(want) != shared(got) {
        return Some(format!(
            "shared nodes: today {:?}, candidate {:?}",
            shared(want),
            shared(got)
        ));
    }
    let large = |doc: &Document| -> BTreeMap<NodeId, BTreeMap<String, u32>> {
        doc.large_maps
            .iter()
            .map(|(id, index)| {
                (
                    *id,
                    index.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                )
            })
            .collect()
    };
    let (lw, lg) = (large(want), large(got));
    if lw != lg {
        let at = lw
            .keys()
            .chain(lg.keys())
            .find(|id| lw.get(id) != lg.get(id))
            .copied()
            .unwrap_or(0);
        return Some(format!(
            "large_maps differ at node {at} ({}): today {}, candidate {}",
            describe_node(want, at),
            if lw.contains_key(&at) {
                "indexed"
            } else {
                "not indexed"
            },
            if lg.contains_key(&at) {
                "indexed"
            } else {
                "not indexed"
            },
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{load, load_lenient_yaml, load_with};
    use proptest::test_runner::{Config, TestRunner};

    /// libyaml-safer's panics are caught (a refusal) but would print a backtrace each.
    fn quiet() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(crate::load::quiet_fallback_panics);
    }

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    /// `n` samples from a fixed seed (the same every run), at least 2,000.
    fn samples(n: usize) -> Vec<Sample> {
        quiet();
        let mut runner = TestRunner::deterministic();
        let strategy = yaml_sample();
        (0..n)
            .map(|_| {
                strategy
                    .new_tree(&mut runner)
                    .map(|tree| proptest::strategy::ValueTree::current(&tree))
                    .unwrap_or_else(|e| panic!("generator: {e}"))
            })
            .collect()
    }

    fn sample_count() -> usize {
        (cases() as usize).max(2000)
    }

    #[test]
    fn most_generated_texts_load_and_mutated_ones_are_sometimes_refused() {
        let all = samples(sample_count());
        // (texts, texts that load) for: tame and unmutated, wild and unmutated, mutated.
        let mut counts = [(0usize, 0usize); 3];
        for sample in &all {
            let ok = load(&sample.text, Format::Yaml, &Limits::default()).is_ok();
            let kind = match (sample.mutated, sample.wild) {
                (false, false) => 0,
                (false, true) => 1,
                (true, _) => 2,
            };
            counts[kind].0 += 1;
            counts[kind].1 += usize::from(ok);
        }
        let share = |(n, ok): (usize, usize)| 100.0 * ok as f64 / n.max(1) as f64;
        let loaded: usize = counts.iter().map(|c| c.1).sum();
        let total = share((all.len(), loaded));
        eprintln!(
            "yaml_gen: {} texts, {total:.1}% load; tame {}: {:.1}%; wild {}: {:.1}%; mutated {}: {:.1}%",
            all.len(),
            counts[0].0,
            share(counts[0]),
            counts[1].0,
            share(counts[1]),
            counts[2].0,
            share(counts[2]),
        );
        assert!(total >= 55.0, "too few texts load: {total:.1}%");
        assert!(share(counts[0]) >= 80.0, "too few tame texts load");
        // Wild texts and mutations reach invalid text, and do not only break it.
        for (n, ok) in &counts[1..] {
            assert!(ok < n && *ok > n / 10, "{ok} of {n} load");
        }
    }

    #[test]
    fn every_construct_family_is_generated() {
        let all = samples(sample_count());
        let mut counts: BTreeMap<Family, usize> = BTreeMap::new();
        let mut loaded: BTreeMap<Family, usize> = BTreeMap::new();
        for sample in &all {
            let ok = load(&sample.text, Format::Yaml, &Limits::default()).is_ok();
            for family in &sample.families {
                *counts.entry(*family).or_default() += 1;
                if ok {
                    *loaded.entry(*family).or_default() += 1;
                }
            }
            // The lexical families are really in the text.
            let text = &sample.text;
            for (family, present) in [
                (Family::Crlf, text.contains("\r\n")),
                (Family::Tab, text.contains('\t')),
                (Family::Bom, text.starts_with('\u{feff}')),
                (Family::Emoji, text.chars().any(|c| c as u32 > 0xFFFF)),
                (Family::NonAscii, !text.is_ascii()),
                (Family::Nel, text.contains('\u{85}')),
                (Family::DocStart, text.contains("---")),
            ] {
                if sample.families.contains(&family) && !sample.mutated {
                    assert!(present, "{family:?} recorded but not in {text:?}");
                }
            }
        }
        let mut table = String::new();
        for family in Family::ALL {
            table.push_str(&format!(
                "  {:>5} {:>5}  {:?}: {}\n",
                counts.get(family).copied().unwrap_or(0),
                loaded.get(family).copied().unwrap_or(0),
                family,
                family.what()
            ));
        }
        eprintln!(
            "yaml_gen: texts with each family (all, loaded) of {}:\n{table}",
            all.len()
        );
        let missing: Vec<&Family> = Family::ALL
            .iter()
            .filter(|f| counts.get(f).copied().unwrap_or(0) < 3)
            .collect();
        assert!(
            missing.is_empty(),
            "families generated fewer than 3 times: {missing:?}"
        );
        // Nearly every family also occurs in texts that load, so a candidate loader is
        // compared on it, not only on refusals (these only occur in refused texts).
        let refused_only = [
            Family::PlainInvalid,
            Family::DoubleInvalidEscape,
            Family::Alias,
            Family::Anchor,
            Family::ComplexKey,
            Family::DuplicateKey,
            Family::TagVerbatim,
            // A BOM inside the text is read again by libyaml, which nearly always reads
            // it otherwise or not at all (`yaml_dialects::AmbiguityKind::ByteOrderMark`).
            Family::BomInside,
            // NEL is a line break to YAML 1.1 even in quotes (folded to a space there), so
            // the text is refused as read two ways.
            Family::Nel,
        ];
        let never_loaded: Vec<&Family> = Family::ALL
            .iter()
            .filter(|f| !refused_only.contains(f) && loaded.get(f).copied().unwrap_or(0) == 0)
            .collect();
        assert!(
            never_loaded.is_empty(),
            "families never in a text that loads: {never_loaded:?}"
        );
    }

    #[test]
    fn the_generator_is_deterministic_and_zero_bytes_give_a_small_valid_text() {
        let bytes: Vec<u8> = (0..2000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(generate(&bytes).text, generate(&bytes).text);
        let simplest = generate(&[]);
        assert!(!simplest.mutated);
        load(&simplest.text, Format::Yaml, &Limits::default())
            .unwrap_or_else(|e| panic!("{:?}: {e:?}", simplest.text));
    }

    // ----- the harness, on planted bugs -----

    /// Today's reading, then `plant` applied to the document.
    fn planted<'s>(
        text: &'s str,
        plant: impl Fn(&mut Document<'s>),
    ) -> Option<Result<Document<'s>, FileError>> {
        Some(
            reference_load(text, &Limits::default(), Aliases::Refuse).map(|mut doc| {
                plant(&mut doc);
                doc
            }),
        )
    }

    fn difference(
        text: &str,
        candidate: impl for<'s> Fn(&'s str) -> Option<Result<Document<'s>, FileError>>,
    ) -> String {
        same_document(text, &Limits::default(), Aliases::Refuse, candidate)
            .expect_err("the harness must see the planted difference")
    }

    const TEMPLATE: &str = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    Properties:\n      Code: |+\n        x\n\n      Keys: [a, b]\n";

    fn first_scalar(doc: &Document, text: &str) -> Option<usize> {
        doc.nodes
            .iter()
            .position(|n| matches!(&n.kind, NodeKind::Scalar(s) if s.text == text))
    }

    #[test]
    fn the_harness_reports_a_span_shifted_by_one_byte() {
        let report = difference(TEMPLATE, |t| {
            planted(t, |doc| {
                if let Some(at) = first_scalar(doc, "Retain") {
                    doc.nodes[at].span.start += 1;
                }
            })
        });
        assert!(
            report.contains(
                "first difference at document 0.\"Resources\".\"T\".\"DeletionPolicy\": span"
            ),
            "{report}"
        );
        assert!(report.contains("line 4, column 21"), "{report}");
        assert!(report.contains("DeletionPolicy: Retain"), "{report}");
    }

    #[test]
    fn the_harness_reports_a_block_scalar_with_other_chomping() {
        let report = difference(TEMPLATE, |t| {
            planted(t, |doc| {
                for node in &mut doc.nodes {
                    if let NodeKind::Scalar(s) = &mut node.kind {
                        if s.style == super::super::ScalarStyle::Block {
                            let clipped = s.text.trim_end_matches('\n').to_string() + "\n";
                            s.text = clipped.into();
                        }
                    }
                }
            })
        });
        assert!(report.contains("\"Code\": scalar text"), "{report}");
        assert!(report.contains("Block scalar \"x\\n\\n\""), "{report}");
        assert!(report.contains("Block scalar \"x\\n\" at"), "{report}");
    }

    #[test]
    fn the_harness_reports_style_tag_order_arena_fields_and_errors() {
        let text = "a: !Ref x\nb: 'y'\nc: [1, 2]\n";
        type Plant = Box<dyn Fn(&mut Document)>;
        let cases: Vec<(&str, Plant)> = vec![
            (
                "tag",
                Box::new(|doc: &mut Document| {
                    for n in &mut doc.nodes {
                        n.tag = None;
                    }
                }),
            ),
            (
                "scalar style",
                Box::new(|doc: &mut Document| {
                    for n in &mut doc.nodes {
                        if let NodeKind::Scalar(s) = &mut n.kind {
                            s.style = super::super::ScalarStyle::Plain;
                        }
                    }
                }),
            ),
            (
                "number of items",
                Box::new(|doc: &mut Document| {
                    for at in 0..doc.nodes.len() {
                        if let NodeKind::Seq(items) = doc.nodes[at].kind {
                            let mut items = doc.items(items).to_vec();
                            items.pop();
                            doc.nodes[at].kind = doc.new_seq(items);
                        }
                    }
                }),
            ),
            (
                "other arena sizes",
                Box::new(|doc: &mut Document| {
                    let extra = doc.nodes[0].clone();
                    doc.nodes.push(extra);
                }),
            ),
            ("lenient", Box::new(|doc: &mut Document| doc.lenient = true)),
            (
                "more_documents",
                Box::new(|doc: &mut Document| doc.more_documents.push(Span::new(0, 3))),
            ),
        ];
        for (what, plant) in &cases {
            let report = difference(text, |t| planted(t, |doc| plant(doc)));
            assert!(report.contains(what), "{what}: {report}");
        }
        // Two entries swapped: the first key that differs is named.
        let report = difference(text, |t| {
            planted(t, |doc| {
                let root = doc.root.unwrap_or(0) as usize;
                if let NodeKind::Map(entries) = doc.nodes[root].kind {
                    let mut entries = doc.entries(entries).to_vec();
                    entries.swap(0, 1);
                    doc.nodes[root].kind = doc.new_map(entries);
                }
            })
        });
        assert!(report.contains("key \"a\": scalar text"), "{report}");
        // An error where today reads the text, and a text read where today refuses it.
        let report = difference(text, |_| Some(Err(FileError::new("no"))));
        assert!(report.contains("the candidate refuses it"), "{report}");
        let refused = "a: [\nb";
        let report = difference(refused, |t| {
            let mut doc = Document::default();
            doc.text = t;
            Some(Ok(doc))
        });
        assert!(
            report.contains("today's loader refuses the text"),
            "{report}"
        );
        assert!(report.contains("line 2"), "{report}");
        // Another error at another place.
        let report = difference(refused, |t| {
            Some(Err(FileError::at(
                "invalid YAML: x",
                Span::new(t.len(), t.len()),
                "x",
            )))
        });
        assert!(report.contains("different errors"), "{report}");
        // A decline and today's own reading are no difference.
        assert_same_document(text, |_| None);
        assert_same_document(refused, |t| {
            Some(reference_load(t, &Limits::default(), Aliases::Refuse))
        });
    }

    #[test]
    fn differential_counts_declines_and_shrinks_a_planted_difference_to_a_small_text() {
        quiet();
        let today = differential(64, |t| Some(load(t, Format::Yaml, &Limits::default())));
        assert_eq!((today.texts, today.compared, today.declined), (64, 64, 0));
        let none = differential(16, |_| None);
        assert_eq!((none.texts, none.compared, none.declined), (16, 0, 16));
        // A loader that reads every folded block scalar as literal: found, and shrunk.
        let report = std::panic::catch_unwind(|| {
            differential(64, |t| {
                planted(t, |doc| {
                    for node in &mut doc.nodes {
                        if let NodeKind::Scalar(s) = &mut node.kind {
                            if s.style == super::super::ScalarStyle::Block && s.text.contains("\n")
                            {
                                s.text = s.text.replace('\n', " ").into();
                            }
                        }
                    }
                })
            })
        })
        .expect_err("the planted difference is found");
        let report = report.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(report.contains("scalar text"), "{report}");
        let minimal = report
            .split("minimal: ")
            .nth(1)
            .and_then(|rest| rest.split('\n').next())
            .unwrap_or_default();
        // `"k: >\n a\n b"` or so: a key, a header, two lines.
        assert!(minimal.len() < 30, "reduced to a small text: {report}");
    }

    proptest! {
        #![proptest_config(Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        })]

        /// `load` is today's reading (so a faster path inside `load` is held to it), and
        /// the harness finds a one-byte span shift in any text that loads.
        #[test]
        fn load_reads_every_generated_text_as_the_reference_does(text in yaml_text()) {
            quiet();
            assert_same_document(&text, |t| Some(load(t, Format::Yaml, &Limits::default())));
            let shifted = same_document(&text, &Limits::default(), Aliases::Refuse, |t| {
                planted(t, |doc| {
                    if let Some(last) = doc.root.and(doc.nodes.last_mut()) {
                        last.span.end += 1;
                    }
                })
            });
            let loads = load(&text, Format::Yaml, &Limits::default()).is_ok_and(|d| d.root.is_some());
            prop_assert_eq!(shifted.is_err(), loads);
        }

        /// `load` never panics on a generated text, and every refusal points inside it.
        #[test]
        fn load_never_panics_and_every_error_has_a_span_in_the_text(text in yaml_text()) {
            quiet();
            for aliases in [Aliases::Refuse, Aliases::Expand] {
                if let Err(error) = load_with(&text, Format::Yaml, &Limits::default(), aliases) {
                    let span = error.span;
                    prop_assert!(span.is_some(), "no span: {:?} for {:?}", error.message, text);
                    let span = span.unwrap_or(Span::new(0, 0));
                    prop_assert!(span.end <= text.len(), "{span:?} past the end of {text:?}");
                    prop_assert!(
                        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                        "{span:?} not on a character boundary of {text:?}"
                    );
                    for label in &error.labels {
                        prop_assert!(label.span.end <= text.len());
                    }
                }
            }
        }

        /// Where saphyr reads a text (no fallback) and so does libyaml-safer, the two
        /// build the same tree: a difference the dialect checks do not know would let the
        /// checker see other keys than CloudFormation does.
        #[test]
        fn saphyr_and_libyaml_agree_where_both_read_a_generated_text(text in yaml_text()) {
            quiet();
            if let Ok(strict) = load(&text, Format::Yaml, &Limits::default()) {
                if !strict.lenient {
                    if let Ok(lenient) = load_lenient_yaml(&text, &Limits::default()) {
                        let at = super::super::yaml_dialects::first_difference(&strict, &lenient);
                        prop_assert!(
                            at.is_none(),
                            "saphyr and libyaml read this differently at {:?}:\n{}",
                            at.map(|s| locate(&text, s)),
                            at.map(|s| excerpt(&text, s)).unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
}
