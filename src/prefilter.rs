//! The prefilter: which files can skip the parse because no enabled rule can fire on
//! them, and which rules then run on a file that is parsed. It must never change a
//! result, only save work.

use crate::rules::Rule;

#[cfg(test)]
mod old;

/// The cheap prefilter: can a file with these bytes fire any rule whose needles are
/// given? A rule's needles are groups of patterns ([`crate::rules::Needles`]); a file that
/// holds every pattern of no group (ASCII case-insensitive), as written or with its
/// backslash escapes decoded (JSON `\u0044`, YAML double-quoted `\x44`, `\U`, or an
/// escaped line break that joins two halves: [`with_escapes_decoded`]), cannot fire it.
/// It must never change a result, only save the parse.
///
/// Build it once per run: it owns the patterns' SIMD searchers. It folds the haystack in
/// small chunks (`byte | 0x20`, which maps `A-Z` onto `a-z`) and searches each folded chunk
/// once for every pattern together, with the `aho-corasick` crate's packed (Teddy)
/// searcher; a file that holds no pattern costs one pass, not one pass per pattern.
/// Folding both sides can only add matches (bytes that differ only in bit 5, such as `@`
/// and `` ` ``), never lose one, so a skipped file is always a file that no enabled rule
/// can fire on.
///
/// Two kinds of pattern are looked up on their own with a memmem search, which stops at
/// their first occurrence: patterns shorter than [`MIN_PACKED`] (`${`), which would make
/// the packed searcher compare fewer bytes and stop at far more places; and the
/// [`EVERYWHERE`] patterns (`type`), which every template spells once per resource, so
/// the packed searcher would stop at each of them for nothing once the first was seen.
pub struct Prefilter {
    /// How many distinct folded patterns there are.
    patterns: usize,
    /// All patterns but the [`Prefilter::alone`] ones in one searcher (`None` when there
    /// are none, or when this CPU has no packed searcher: then they are all alone).
    packed: Option<aho_corasick::packed::Searcher>,
    /// The pattern index of each of `packed`'s patterns, in its order.
    packed_ids: Vec<usize>,
    /// Whether each pattern is one of `packed`'s.
    is_packed: Vec<bool>,
    /// For each pattern of `packed` (in its order), the patterns it contains, itself
    /// included: an occurrence of it is an occurrence of each of them.
    within: Vec<Vec<usize>>,
    /// The patterns looked up with a searcher of their own, and their indexes.
    alone: Vec<(usize, memchr::memmem::Finder<'static>)>,
    /// Each group as indexes into the patterns.
    groups: Vec<Vec<usize>>,
    /// The longest pattern minus one: how far consecutive chunks overlap.
    overlap: usize,
}

/// Chunk size of the folded copy; patterns longer than half of it (none are) are searched
/// without folding.
const FOLD_CHUNK: usize = 8 * 1024;

/// Patterns shorter than this are searched alone (see [`Prefilter`]): the packed searcher
/// compares as many leading bytes as its shortest pattern has, up to three.
const MIN_PACKED: usize = 3;

/// Patterns that nearly every template holds many times (`Type` of each resource),
/// searched alone (see [`Prefilter`]). Only a matter of speed: any pattern may be here or
/// not.
const EVERYWHERE: &[&str] = &["type"];

impl Prefilter {
    /// `groups`: every rule's needle groups, chained. An empty group would keep every file.
    pub fn new<'n>(groups: impl IntoIterator<Item = &'n [&'n str]>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut index_of = |pattern: &str| {
            let folded = fold(pattern.as_bytes());
            match patterns.iter().position(|p| *p == folded) {
                Some(i) => i,
                None => {
                    patterns.push(folded);
                    patterns.len() - 1
                }
            }
        };
        let groups: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|group| group.iter().map(|p| index_of(p)).collect())
            .collect();
        let overlap = patterns
            .iter()
            .map(|n| n.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        let everywhere: Vec<Vec<u8>> = EVERYWHERE.iter().map(|p| fold(p.as_bytes())).collect();
        let (alone_ids, packed_ids): (Vec<usize>, Vec<usize>) = (0..patterns.len())
            .partition(|&i| patterns[i].len() < MIN_PACKED || everywhere.contains(&patterns[i]));
        let packed = if packed_ids.is_empty() {
            None
        } else {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(packed_ids.iter().map(|&i| &patterns[i]))
                .build()
        };
        // Without a packed searcher (a CPU without one), every pattern is searched alone.
        let (alone_ids, packed_ids) = if packed.is_some() {
            (alone_ids, packed_ids)
        } else {
            ((0..patterns.len()).collect(), Vec::new())
        };
        let within = packed_ids
            .iter()
            .map(|&i| {
                (0..patterns.len())
                    .filter(|&j| memchr::memmem::find(&patterns[i], &patterns[j]).is_some())
                    .collect()
            })
            .collect();
        let mut is_packed = vec![false; patterns.len()];
        for &i in &packed_ids {
            is_packed[i] = true;
        }
        Prefilter {
            patterns: patterns.len(),
            packed,
            packed_ids,
            is_packed,
            within,
            alone: alone_ids
                .into_iter()
                .map(|i| (i, memchr::memmem::Finder::new(&patterns[i]).into_owned()))
                .collect(),
            groups,
            overlap,
        }
    }

    pub fn may_match(&self, bytes: &[u8]) -> bool {
        match with_escapes_decoded(bytes) {
            Some(both) => self.holds_a_group(&both),
            None => self.holds_a_group(bytes),
        }
    }

    fn holds_a_group(&self, bytes: &[u8]) -> bool {
        if self.groups.iter().any(Vec::is_empty) {
            return true;
        }
        let mut found = vec![false; self.patterns];
        self.search(bytes, &mut found, |found| self.complete(found))
    }

    /// Which of the groups given to [`Prefilter::new`] (in that order) the bytes hold,
    /// read as written or with their escapes decoded ([`with_escapes_decoded`]). One pass
    /// over the file for every pattern.
    pub fn held_groups(&self, bytes: &[u8]) -> Vec<bool> {
        let both = with_escapes_decoded(bytes);
        let bytes = both.as_deref().unwrap_or(bytes);
        let mut found = vec![false; self.patterns];
        self.search(bytes, &mut found, |found| found.iter().all(|&f| f));
        self.groups
            .iter()
            .map(|g| g.iter().all(|&i| found[i]))
            .collect()
    }

    /// Marks in `found` every pattern the folded bytes hold, until `done` says so; returns
    /// whether it did.
    ///
    /// Each chunk is searched alone for the [`Prefilter::alone`] patterns not found yet,
    /// then once for the packed ones: the packed searcher reports, at each position where
    /// some of them starts, the longest one; every pattern that starts there is a prefix of
    /// it, and every pattern inside it occurs too ([`Prefilter::within`]). It resumes one
    /// byte after the start, so no position is skipped: a pattern is found exactly when
    /// the folded chunk holds it, and an occurrence lies whole in some chunk.
    fn search(&self, bytes: &[u8], found: &mut [bool], done: impl Fn(&[bool]) -> bool) -> bool {
        let mut packed_left = self.packed_ids.len();
        let mark = |chunk: &[u8], found: &mut [bool], packed_left: &mut usize| {
            for (i, finder) in &self.alone {
                if !found[*i] && finder.find(chunk).is_some() {
                    found[*i] = true;
                    if done(found) {
                        return true;
                    }
                }
            }
            let Some(packed) = &self.packed else {
                return false;
            };
            let mut at = 0;
            while *packed_left > 0 {
                let span = aho_corasick::Span::from(at..chunk.len());
                let Some(m) = packed.find_in(chunk, span) else {
                    break;
                };
                let p = m.pattern().as_usize();
                if !found[self.packed_ids[p]] {
                    for &j in &self.within[p] {
                        if !found[j] {
                            found[j] = true;
                            if self.is_packed[j] {
                                *packed_left -= 1;
                            }
                        }
                    }
                    if done(found) {
                        return true;
                    }
                }
                at = m.start() + 1;
            }
            false
        };
        self.folded_chunks_until(bytes, |chunk| mark(chunk, found, &mut packed_left))
    }

    /// Calls `stop` on the bytes folded to lower case, chunk by chunk (overlapping by the
    /// longest pattern's length less one, so an occurrence lies whole in some chunk), until
    /// it returns true; returns whether it did. The chunks stay in the cache while every
    /// pattern is looked for in them.
    fn folded_chunks_until(&self, bytes: &[u8], mut stop: impl FnMut(&[u8]) -> bool) -> bool {
        if self.overlap >= FOLD_CHUNK / 2 {
            return stop(&fold(bytes));
        }
        // Not a zeroed stack array: zeroing 8 KiB per file cost more than the search.
        let mut chunk = Vec::with_capacity(bytes.len().min(FOLD_CHUNK));
        let mut start = 0;
        loop {
            let end = (start + FOLD_CHUNK).min(bytes.len());
            chunk.clear();
            chunk.extend(bytes[start..end].iter().map(|b| b | 0x20));
            if stop(&chunk) {
                return true;
            }
            if end == bytes.len() {
                return false;
            }
            start = end - self.overlap;
        }
    }

    fn complete(&self, found: &[bool]) -> bool {
        self.groups.iter().any(|g| g.iter().all(|&i| found[i]))
    }
}

/// One-off form of [`Prefilter::may_match`], for callers that check a single buffer.
pub fn may_match(bytes: &[u8], groups: &[&[&str]]) -> bool {
    Prefilter::new(groups.iter().copied()).may_match(bytes)
}

fn fold(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b | 0x20).collect()
}

/// Does the text hold a backslash escape that could decode to a character of a pattern
/// (`\u`, `\U`, `\x`) or join two lines (an escaped line break: `\` before LF, CR, or
/// the YAML 1.1 breaks NEL, LS and PS, whose UTF-8 begins with 0xC2 or 0xE2)?
fn has_spelling_escape(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', bytes).any(|i| {
        matches!(
            bytes.get(i + 1),
            Some(b'u' | b'U' | b'x' | b'\n' | b'\r' | 0xC2 | 0xE2)
        )
    })
}

/// A byte no pattern holds (patterns are ASCII, and folding keeps 0xFF): what an escape
/// to a character outside ASCII decodes to, and the separator of the two readings.
const NO_PATTERN: u8 = 0xFF;

/// The text as written, [`NO_PATTERN`], then the text with every backslash escape decoded
/// as a JSON string or a YAML double-quoted scalar decodes it; `None` when the text holds
/// no escape that could spell a pattern ([`has_spelling_escape`]): the bytes alone then
/// say which patterns it holds.
///
/// Why a pattern in any decoded scalar is in one of the two readings (the soundness of
/// skipping on them): patterns are ASCII without whitespace or backslash
/// (`tests::patterns_are_ascii_without_whitespace_or_backslash`), and no escape decodes a
/// pattern across two scalars. Where a backslash is not an escape (a plain, single-quoted
/// or block scalar), the value is the text as written, folded at line breaks into
/// whitespace that no pattern holds, so an occurrence is in the first reading. In a JSON
/// string or a YAML double-quoted scalar, the second reading is the decoded value between
/// its unescaped line breaks (which fold into whitespace): both read escapes from the
/// left, two characters for `\\` and `\"`, and the decoding starts in step at the opening
/// quote, which never follows a backslash that an escape here leaves unconsumed (outside
/// strings JSON has no backslash; YAML opens a double-quoted scalar after whitespace or an
/// indicator). An escaped line break and the indentation after it decode to nothing, so
/// `Dynamo\⏎    DB` reads `DynamoDB`. Where the decoding here is wrong (a backslash that is
/// not an escape in a plain scalar), it only adds text to search, never loses the text
/// as written. The checks: `tests::a_pattern_spelled_with_any_escapes_is_found`, which
/// loads each text to see that the loader reads the pattern, and the planted cases beside it.
fn with_escapes_decoded(bytes: &[u8]) -> Option<Vec<u8>> {
    if !has_spelling_escape(bytes) {
        return None;
    }
    let mut out = Vec::with_capacity(2 * bytes.len() + 1);
    out.extend_from_slice(bytes);
    out.push(NO_PATTERN);
    let mut i = 0;
    while i < bytes.len() {
        let Some(slash) = memchr::memchr(b'\\', &bytes[i..]) else {
            out.extend_from_slice(&bytes[i..]);
            break;
        };
        out.extend_from_slice(&bytes[i..i + slash]);
        i += slash;
        let rest = &bytes[i + 1..];
        let hex = |digits: usize| -> Option<u8> {
            let text = std::str::from_utf8(rest.get(1..1 + digits)?).ok()?;
            if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let code = u32::from_str_radix(text, 16).ok()?;
            Some(
                u8::try_from(code)
                    .ok()
                    .filter(u8::is_ascii)
                    .unwrap_or(NO_PATTERN),
            )
        };
        let (decoded, used) = match rest.first() {
            Some(b'u') => (hex(4), 5),
            Some(b'U') => (hex(8), 9),
            Some(b'x') => (hex(2), 3),
            Some(&c @ (b'\\' | b'"' | b'/' | b' ')) => (Some(c), 1),
            Some(b'\t' | b't') => (Some(b'\t'), 1),
            Some(b'0') => (Some(0), 1),
            Some(b'a') => (Some(0x07), 1),
            Some(b'b') => (Some(0x08), 1),
            Some(b'n') => (Some(b'\n'), 1),
            Some(b'v') => (Some(0x0B), 1),
            Some(b'f') => (Some(0x0C), 1),
            Some(b'r') => (Some(b'\r'), 1),
            Some(b'e') => (Some(0x1B), 1),
            Some(b'N' | b'_' | b'L' | b'P') => (Some(NO_PATTERN), 1),
            _ => match line_break(rest) {
                // An escaped line break: it and the next line's indentation are no text.
                Some(n) => {
                    let indent = rest[n..]
                        .iter()
                        .take_while(|&&b| b == b' ' || b == b'\t')
                        .count();
                    i += 1 + n + indent;
                    continue;
                }
                None => (None, 0),
            },
        };
        match decoded {
            Some(b) => {
                out.push(b);
                i += 1 + used;
            }
            // Not an escape: the backslash is text.
            None => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    Some(out)
}

/// The length of the line break `text` starts with (CR LF, LF, CR, or NEL, LS, PS in
/// UTF-8), if it starts with one.
fn line_break(text: &[u8]) -> Option<usize> {
    match text {
        [b'\r', b'\n', ..] => Some(2),
        [b'\n' | b'\r', ..] => Some(1),
        [0xC2, 0x85, ..] => Some(2),
        [0xE2, 0x80, 0xA8 | 0xA9, ..] => Some(3),
        _ => None,
    }
}

/// What a file that includes other templates holds: `AWS::CloudFormation::Stack` (and
/// `...StackSet`), `AWS::Serverless::Application`.
pub const INCLUDES: crate::rules::Needles = &[
    &["aws::cloudformation::stack"],
    &["aws::serverless::application"],
];

/// The enabled rules' prefilter: whether a file is parsed at all, and which rules then
/// run on it (the owners of the needle groups it holds). A rule runs only on a file that holds one of its needle
/// groups, as its documentation says, even when another rule's needles got the file
/// parsed.
pub struct RuleFilter {
    any: Prefilter,
    /// The rule that owns each of `any`'s groups, in order.
    owners: Vec<&'static str>,
}

impl RuleFilter {
    /// The prefilter for the enabled `rules`; build it once per run, not per file.
    /// A file that may include other templates (a nested stack, a stack set) is parsed
    /// whatever the rules: the templates it includes may hold anything any rule looks for.
    pub fn new(rules: &[&Rule]) -> RuleFilter {
        let owners = rules
            .iter()
            .flat_map(|r| r.needles.iter().map(|_| r.code))
            .chain(INCLUDES.iter().map(|_| ""))
            .collect();
        RuleFilter {
            any: Prefilter::new(
                rules
                    .iter()
                    .flat_map(|r| r.needles.iter().copied())
                    .chain(INCLUDES.iter().copied()),
            ),
            owners,
        }
    }

    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.any.may_match(bytes)
    }

    /// The codes of the rules that can fire on these bytes (all, when escapes could spell
    /// a needle).
    pub fn rules_for(&self, bytes: &[u8]) -> Vec<&'static str> {
        self.scan(bytes).rules()
    }

    /// Both answers for these bytes from one scan: whether the file is parsed at all
    /// ([`Held::any`], what [`RuleFilter::may_match`] says) and which rules then run on it
    /// ([`Held::rules`], what [`RuleFilter::rules_for`] says). For a file about to be
    /// parsed, one scan for every pattern instead of a scan for the leads and then one for
    /// every pattern.
    pub fn scan(&self, bytes: &[u8]) -> Held<'_> {
        Held {
            groups: self.any.held_groups(bytes),
            owners: &self.owners,
        }
    }
}

/// The needle groups one text holds: [`RuleFilter::scan`].
pub struct Held<'f> {
    groups: Vec<bool>,
    owners: &'f [&'static str],
}

impl Held<'_> {
    /// The file holds some group: some rule can fire on it, or it may include templates.
    pub fn any(&self) -> bool {
        self.groups.iter().any(|&h| h)
    }

    /// The codes of the rules that can fire on the text.
    pub fn rules(&self) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = self
            .groups
            .iter()
            .zip(self.owners)
            .filter(|(held, code)| **held && !code.is_empty())
            .map(|(_, code)| *code)
            .collect();
        codes.dedup();
        codes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEEDLES: &[&[&str]] = &[&["dynamodb"], &["simpletable"]];
    /// Groups of several patterns, as the IAM rules declare them.
    const GROUPS: &[&[&str]] = &[&["dynamodb"], &["aws::iam::", "policies", "statement"]];

    #[test]
    fn prefilter_matches_any_case() {
        assert!(may_match(b"Type: AWS::DynamoDB::Table", NEEDLES));
        assert!(may_match(b"Type: AWS::Serverless::SimpleTable", NEEDLES));
        assert!(may_match(b"arn:aws:DYNAMODB:", NEEDLES));
        assert!(!may_match(b"Type: AWS::S3::Bucket", NEEDLES));
    }

    #[test]
    fn prefilter_keeps_files_with_escapes_that_could_spell_a_table() {
        assert!(may_match(
            br#"{"Type": "AWS::Dynamo\u0044B::Table"}"#,
            NEEDLES
        ));
        assert!(may_match(b"Type: \"AWS::Dynamo\\x44B::Table\"", NEEDLES));
        assert!(may_match(b"Type: \"AWS::Dyna\\\n  moDB::Table\"", NEEDLES));
        assert!(!may_match(b"Name: \"a\\tb\"", NEEDLES));
    }

    #[test]
    fn prefilter_finds_a_needle_that_straddles_two_fold_chunks() {
        let prefilter = Prefilter::new(NEEDLES.iter().copied());
        for cut in 1.."dynamodb".len() {
            let mut text = vec![b' '; FOLD_CHUNK - cut];
            text.extend_from_slice(b"DynamoDB");
            text.extend_from_slice(&[b' '; 100]);
            assert!(prefilter.may_match(&text), "needle cut at {cut}");
        }
        let mut long = vec![b'x'; 5 * FOLD_CHUNK];
        assert!(!prefilter.may_match(&long));
        long.extend_from_slice(b"SimpleTable");
        assert!(prefilter.may_match(&long));
    }

    #[test]
    fn prefilter_with_no_needles_keeps_nothing() {
        let prefilter = Prefilter::new([]);
        assert!(!prefilter.may_match(b"AWS::DynamoDB::Table"));
        assert!(!prefilter.may_match(b"\\u0044ynamoDB"));
    }

    /// An escape that cannot spell a pattern (a line continuation in a shell script, a
    /// curly quote, `\t`) no longer gets a file parsed; one that spells it does, wherever
    /// it is in the pattern.
    #[test]
    fn only_escapes_that_spell_a_pattern_keep_a_file() {
        for kept in [
            &br#"{"Type": "AWS::Dynamo\u0044B::Table"}"#[..],
            br#"{"Type": "AWS::\u0064\u0079namodb::Table"}"#,
            b"Type: \"AWS::Dynamo\\x44B::Table\"",
            b"Type: \"AWS::Dynamo\\U00000044B::Table\"",
            b"Type: \"AWS::Dyna\\\n  moDB::Table\"",
            b"Type: \"AWS::Dyna\\\r\n\t moDB::Table\"",
            b"Type: \"AWS::Dyna\\\n  \\\n  moDB::Table\"",
            b"Type: \"AWS::Dyna\\\xc2\x85moDB::Table\"",
            b"Type: \"AWS::Dyna\\\xe2\x80\xa8moDB::Table\"",
            b"Type: \"\\\\\\u0044ynamoDB\"",
            b"Type: \"Simple\\x54able\" # \\u2018",
        ] {
            assert!(
                may_match(kept, NEEDLES),
                "{}",
                String::from_utf8_lossy(kept)
            );
        }
        for skipped in [
            &b"UserData: |\n  yum install \\\n    httpd\n"[..],
            br#"{"Description": "\u2018quoted\u2019 \u0041"}"#,
            b"Name: \"a\\tb \\x41\\x42\"",
            b"Type: \"AWS::Dynamo\\u00c4B::Table\"",
            b"Type: \"AWS::Dynamo\\xZZDB::Table\"",
            b"Type: \"AWS::Dynamo\\\\u0044B::Table\"",
        ] {
            assert!(
                !may_match(skipped, NEEDLES),
                "{}",
                String::from_utf8_lossy(skipped)
            );
        }
    }

    /// What the soundness argument of [`with_escapes_decoded`] assumes of every rule's
    /// patterns and of [`INCLUDES`].
    #[test]
    fn patterns_are_ascii_without_whitespace_or_backslash() {
        for rule in crate::rules::RULES {
            for group in rule.needles.iter().chain(INCLUDES) {
                for pattern in *group {
                    assert!(
                        pattern.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'),
                        "{}: {pattern:?}",
                        rule.code
                    );
                }
            }
        }
    }

    /// One way to write a character of a pattern inside a JSON string or YAML
    /// double-quoted scalar.
    #[derive(Clone, Copy, Debug)]
    enum Spelling {
        AsIs,
        Upper,
        U4,
        U8,
        X2,
        /// An escaped line break and this much indentation before the character.
        Joined(u8),
    }

    fn spelling() -> impl proptest::strategy::Strategy<Value = Spelling> {
        use proptest::prelude::*;
        prop_oneof![
            3 => Just(Spelling::AsIs),
            1 => Just(Spelling::Upper),
            1 => Just(Spelling::U4),
            1 => Just(Spelling::U8),
            1 => Just(Spelling::X2),
            1 => (0u8..4).prop_map(Spelling::Joined),
        ]
    }

    /// `pattern` written with `spellings` (cycled), for JSON (`json`: only `\u`) or YAML.
    fn spell(pattern: &str, spellings: &[Spelling], json: bool) -> String {
        let mut out = String::new();
        for (i, c) in pattern.chars().enumerate() {
            let how = spellings[i % spellings.len()];
            let how = match how {
                Spelling::U8 | Spelling::X2 | Spelling::Joined(_) if json => Spelling::U4,
                how => how,
            };
            match how {
                Spelling::AsIs => out.push(c),
                Spelling::Upper => out.push(c.to_ascii_uppercase()),
                Spelling::U4 => out.push_str(&format!("\\u{:04X}", c as u32)),
                Spelling::U8 => out.push_str(&format!("\\U{:08x}", c as u32)),
                Spelling::X2 => out.push_str(&format!("\\x{:02x}", c as u32)),
                Spelling::Joined(indent) => {
                    out.push_str("\\\n");
                    out.push_str(&" ".repeat(usize::from(indent) + 4));
                    out.push(c);
                }
            }
        }
        out
    }

    proptest::proptest! {
        /// A pattern hidden by any escapes (each character as written, in upper case, as
        /// `\u`, `\U`, `\x`, or after an escaped line break) in a JSON string or a YAML
        /// double-quoted scalar, after other escapes (`\\`, `\"`, `\t`, a curly quote):
        /// the loader reads the pattern in the value, and the prefilter keeps the file and
        /// runs the rule whose group it completes.
        #[test]
        fn a_pattern_spelled_with_any_escapes_is_found(
            rule in 0usize..1000,
            group in 0usize..100,
            spellings in proptest::collection::vec(spelling(), 1..6),
            json in proptest::bool::ANY,
            before in proptest::sample::select(vec!["", "\\\\", "\\\"", "\\t", "\\u2018", "x\\\\\\\"y"]),
        ) {
            let rules: Vec<&crate::rules::Rule> = crate::rules::RULES
                .iter()
                .filter(|r| !r.needles.is_empty())
                .copied()
                .collect();
            let rule = rules[rule % rules.len()];
            let group = rule.needles[group % rule.needles.len()];
            let values: Vec<String> = group
                .iter()
                .map(|p| format!("{before}{}", spell(p, &spellings, json)))
                .collect();
            let text = if json {
                let members: Vec<String> = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("\"k{i}\": \"{v}\""))
                    .collect();
                format!("{{{}}}\n", members.join(", "))
            } else {
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("k{i}: \"{v}\"\n"))
                    .collect()
            };
            // The spelling is one the loader reads as the pattern.
            let format = if json { crate::load::Format::Json } else { crate::load::Format::Yaml };
            let doc = crate::load::load(&text, format, &crate::load::Limits::default())
                .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{text}: {}", e.message)))?;
            let read: Vec<String> = (0..doc.nodes.len())
                .filter_map(|i| doc.str(i as crate::load::tree::NodeId))
                .map(str::to_ascii_lowercase)
                .collect();
            for p in group.iter() {
                proptest::prop_assert!(read.iter().any(|v| v.contains(&p.to_ascii_lowercase())), "{p} not read in {text}");
            }
            let filter = RuleFilter::new(&rules);
            proptest::prop_assert!(filter.may_match(text.as_bytes()), "{}", text);
            proptest::prop_assert!(filter.rules_for(text.as_bytes()).contains(&rule.code), "{}", text);
        }
    }

    fn naive_contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }

    /// Patterns inside others, as the IAM rules' are (`iam` < `aws::iam::` <
    /// `aws::iam::policy`, `policies` < `managedpolicies`).
    const NESTED: &[&[&str]] = &[
        &["provider", "iam"],
        &["aws::iam::", "policies"],
        &["aws::iam::policy", "statement"],
        &["managedpolicies"],
        &["statement"],
        &["policies", "aws::iam::policy"],
    ];

    proptest::proptest! {
        /// With every rule's real needles: one scan says what `may_match` says, and runs
        /// exactly the rules one of whose groups the text holds.
        #[test]
        fn one_scan_agrees_with_every_rules_needles(
            picks in proptest::collection::vec(0usize..1000, 0..8),
            upper in proptest::bool::ANY,
        ) {
            let rules: Vec<&crate::rules::Rule> = crate::rules::RULES.to_vec();
            let patterns: Vec<&str> = rules
                .iter()
                .flat_map(|r| r.needles.iter().flat_map(|g| g.iter().copied()))
                .chain(INCLUDES.iter().flat_map(|g| g.iter().copied()))
                .collect();
            let mut text = String::from("Resources: ");
            for p in &picks {
                let word = patterns[p % patterns.len()];
                text.push_str(&if upper { word.to_uppercase() } else { word.to_string() });
                text.push(' ');
            }
            let filter = RuleFilter::new(&rules);
            let held = filter.scan(text.as_bytes());
            proptest::prop_assert_eq!(held.any(), filter.may_match(text.as_bytes()));
            let holds = |g: &[&str]| g.iter().all(|p| naive_contains(text.as_bytes(), p.as_bytes()));
            let mut naive: Vec<&str> = rules
                .iter()
                .filter(|r| r.needles.iter().any(|g| holds(g)))
                .map(|r| r.code)
                .collect();
            naive.dedup();
            proptest::prop_assert_eq!(held.rules(), naive);
        }

        /// The held groups agree with the definition when some patterns hold others: a
        /// pattern looked for only after the ones inside it is never missed.
        #[test]
        fn nested_patterns_agree_with_a_naive_search(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "AWS::IAM::Policy", "aws::iam::", "IAM", "ia", "ManagedPolicies",
                    "Policies", "statement", "provider", "aws::iam::polic", "x",
                ]),
                0..10,
            ),
            pad in 0usize..(2 * FOLD_CHUNK),
            glue in proptest::bool::ANY,
        ) {
            let mut text = vec![b' '; pad];
            for w in &words {
                text.extend_from_slice(w.as_bytes());
                if !glue {
                    text.push(b' ');
                }
            }
            let prefilter = Prefilter::new(NESTED.iter().copied());
            let each: Vec<bool> = NESTED
                .iter()
                .map(|g| g.iter().all(|p| naive_contains(&text, p.as_bytes())))
                .collect();
            proptest::prop_assert_eq!(prefilter.held_groups(&text), each.clone());
            proptest::prop_assert_eq!(prefilter.may_match(&text), each.iter().any(|&h| h));
        }

        /// The prefilter agrees with the definition: some group has every pattern in the
        /// text, in any case (there are no escapes in this alphabet).
        #[test]
        fn groups_agree_with_a_naive_search(
            words in proptest::collection::vec(
                proptest::sample::select(vec!["DynamoDB", "aws::IAM::", "Policies", "STATEMENT", "x", "aws::iam:", "polici"]),
                0..12,
            ),
            pad in 0usize..(2 * FOLD_CHUNK),
        ) {
            let mut text = vec![b' '; pad];
            for w in &words {
                text.extend_from_slice(w.as_bytes());
                text.push(b' ');
            }
            let naive = GROUPS
                .iter()
                .any(|g| g.iter().all(|p| naive_contains(&text, p.as_bytes())));
            let prefilter = Prefilter::new(GROUPS.iter().copied());
            proptest::prop_assert_eq!(prefilter.may_match(&text), naive);
            let each: Vec<bool> = GROUPS
                .iter()
                .map(|g| g.iter().all(|p| naive_contains(&text, p.as_bytes())))
                .collect();
            proptest::prop_assert_eq!(prefilter.held_groups(&text), each);
        }

        /// Skipping is only sound if every file that holds a needle in any case is kept.
        #[test]
        fn prefilter_keeps_every_file_that_holds_a_needle(
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..20_000),
            suffix in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            upper in proptest::collection::vec(proptest::bool::ANY, 11),
            which in 0usize..2,
        ) {
            let needle: Vec<u8> = NEEDLES[which][0]
                .bytes()
                .zip(&upper)
                .map(|(b, &u)| if u { b.to_ascii_uppercase() } else { b })
                .collect();
            let mut text = prefix.clone();
            text.extend_from_slice(&needle);
            text.extend_from_slice(&suffix);
            let prefilter = Prefilter::new(NEEDLES.iter().copied());
            proptest::prop_assert!(prefilter.may_match(&text));
            let naive = NEEDLES.iter().any(|g| naive_contains(&prefix, g[0].as_bytes()));
            proptest::prop_assert!(!naive || prefilter.may_match(&prefix));
        }
    }

    /// Every pattern of every rule and of [`INCLUDES`], with a few that fall one byte
    /// short or run one byte over, as planted words.
    fn planted_words() -> Vec<String> {
        let mut words: Vec<String> = crate::rules::RULES
            .iter()
            .flat_map(|r| r.needles.iter().flat_map(|g| g.iter()))
            .chain(INCLUDES.iter().flat_map(|g| g.iter()))
            .map(|p| p.to_string())
            .collect();
        words.sort();
        words.dedup();
        let near: Vec<String> = words
            .iter()
            .flat_map(|w| {
                [
                    w[..w.len() - 1].to_string(),
                    format!("{w}s"),
                    w[1..].to_string(),
                ]
            })
            .collect();
        words.extend(near);
        words.extend(
            [
                "aws::iam::polic",
                "aws::cloudformation::stackse",
                "$[",
                "ddb\rguard",
            ]
            .map(String::from),
        );
        words
    }

    /// Where a planted word goes: anywhere, or across an 8 KiB boundary, or across the
    /// start of a chunk of the folded search (chunks overlap by the longest pattern less
    /// one).
    fn plant_at(kind: u8, pick: usize, cut: usize, len: usize, overlap: usize) -> usize {
        let boundaries = 1 + len / (FOLD_CHUNK - overlap);
        let k = 1 + pick % boundaries;
        let at = match kind % 3 {
            0 => pick,
            1 => k * FOLD_CHUNK,
            _ => k * (FOLD_CHUNK - overlap),
        };
        at.saturating_sub(cut).min(len)
    }

    proptest::proptest! {
        /// The one-pass search says what the search it replaced says ([`old::OldPrefilter`],
        /// one memmem search per pattern), for every group and for `may_match`: on texts of
        /// any bytes (so also the ones folding confuses, `@` and `` ` ``, `[` and `{`) with
        /// the rules' patterns, near misses of them, in mixed case, planted anywhere and
        /// across 8 KiB and chunk boundaries, and for random subsets of the rules (the
        /// patterns decide how the packed searcher is built).
        #[test]
        fn the_one_pass_search_agrees_with_the_old_one(
            filler in proptest::collection::vec(proptest::num::u8::ANY, 0..(3 * FOLD_CHUNK)),
            plants in proptest::collection::vec(
                (0usize..1000, 0u8..3, 0usize..100_000, 0usize..40, proptest::num::u64::ANY),
                0..12,
            ),
            rule_mask in proptest::num::u64::ANY,
            all_rules in proptest::bool::ANY,
            escapes in proptest::bool::ANY,
        ) {
            let words = planted_words();
            let rules: Vec<&crate::rules::Rule> = crate::rules::RULES
                .iter()
                .enumerate()
                .filter(|(i, _)| all_rules || rule_mask & (1 << (i % 64)) != 0)
                .map(|(_, r)| *r)
                .collect();
            let groups: Vec<&[&str]> = rules
                .iter()
                .flat_map(|r| r.needles.iter().copied())
                .chain(INCLUDES.iter().copied())
                .collect();
            let new = Prefilter::new(groups.iter().copied());
            let old = old::OldPrefilter::new(groups.iter().copied());
            let mut text = filler;
            if !escapes {
                // Mostly texts without a spelling escape.
                for b in text.iter_mut().filter(|b| **b == b'\\') {
                    *b = b'/';
                }
            }
            for (word, kind, pick, cut, case) in plants {
                let word = &words[word % words.len()];
                let spelled: Vec<u8> = word
                    .bytes()
                    .enumerate()
                    .map(|(i, b)| if case >> (i % 64) & 1 == 1 { b.to_ascii_uppercase() } else { b })
                    .collect();
                let at = plant_at(kind, pick, cut % (word.len() + 1), text.len(), new.overlap);
                let end = (at + spelled.len()).min(text.len());
                text.splice(at..end, spelled);
            }
            proptest::prop_assert_eq!(new.held_groups(&text), old.held_groups(&text));
            proptest::prop_assert_eq!(new.may_match(&text), old.may_match(&text));
            let nested = Prefilter::new(NESTED.iter().copied());
            let nested_old = old::OldPrefilter::new(NESTED.iter().copied());
            proptest::prop_assert_eq!(nested.held_groups(&text), nested_old.held_groups(&text));
            proptest::prop_assert_eq!(nested.may_match(&text), nested_old.may_match(&text));
        }
    }

    /// Exhaustively, every pattern of every rule (and each near miss), cut at every byte by
    /// the end of the first 8 KiB and by the start of the second chunk of the folded
    /// search, is found exactly when the folded text holds it.
    #[test]
    fn every_pattern_is_found_across_every_chunk_boundary() {
        let rules: Vec<&crate::rules::Rule> = crate::rules::RULES.to_vec();
        let groups: Vec<&[&str]> = rules
            .iter()
            .flat_map(|r| r.needles.iter().copied())
            .chain(INCLUDES.iter().copied())
            .collect();
        let new = Prefilter::new(groups.iter().copied());
        for word in planted_words() {
            for boundary in [FOLD_CHUNK, FOLD_CHUNK - new.overlap] {
                for cut in 0..=word.len() {
                    let mut text = vec![b'.'; boundary - cut];
                    text.extend(word.bytes().map(|b| b.to_ascii_uppercase()));
                    text.resize(boundary + 64, b'.');
                    let held = new.held_groups(&text);
                    // The definition: the folded text holds every folded pattern.
                    let folded = fold(&text);
                    let defined: Vec<bool> = groups
                        .iter()
                        .map(|g| {
                            g.iter().all(|p| {
                                memchr::memmem::find(&folded, &fold(p.as_bytes())).is_some()
                            })
                        })
                        .collect();
                    assert_eq!(held, defined, "{word} cut at {cut}");
                }
            }
        }
    }

    /// The packed searcher is in use for the rules' patterns (else the one-pass search
    /// would not be tested here), and the patterns searched alone are the short and the
    /// everywhere ones.
    #[test]
    fn the_rules_patterns_are_searched_in_one_pass() {
        let rules: Vec<&crate::rules::Rule> = crate::rules::RULES.to_vec();
        let filter = RuleFilter::new(&rules);
        if filter.any.packed.is_none() {
            // A CPU without a packed searcher: every pattern is searched alone.
            assert_eq!(filter.any.alone.len(), filter.any.patterns);
            return;
        }
        assert!(
            filter.any.packed_ids.len() > 10,
            "{}",
            filter.any.packed_ids.len()
        );
        assert_eq!(filter.any.alone.len(), 2, "`type` and `${{`");
    }

    #[test]
    fn a_group_needs_every_pattern_in_any_order() {
        let prefilter = Prefilter::new(GROUPS.iter().copied());
        let role = b"Type: AWS::IAM::Role\nAssumeRolePolicyDocument:\n  Statement: []\n";
        assert!(
            !prefilter.may_match(role),
            "no `Policies`: no group complete"
        );
        let inline = b"Policies:\n  - PolicyDocument:\n      Statement: []\nType: AWS::IAM::Role\n";
        assert!(prefilter.may_match(inline), "the lead may come last");
        assert!(prefilter.may_match(b"Type: AWS::DynamoDB::Table"));
        assert!(!prefilter.may_match(b"Policies: Statement"));
    }

    #[test]
    fn a_group_pattern_far_from_its_lead_is_found_across_chunks() {
        let prefilter = Prefilter::new(GROUPS.iter().copied());
        for cut in 1.."statement".len() {
            let mut text = b"AWS::IAM::Role Policies".to_vec();
            text.resize(3 * FOLD_CHUNK - cut, b' ');
            text.extend_from_slice(b"STATEMENT");
            assert!(prefilter.may_match(&text), "pattern cut at {cut}");
            text.truncate(text.len() - 1);
            assert!(!prefilter.may_match(&text), "one byte short at {cut}");
        }
    }

    /// The checker relies on this to parse every file that may include templates, whatever
    /// the enabled rules: no rule at all still keeps them.
    #[test]
    fn the_rule_filter_keeps_every_file_that_may_include_templates() {
        let none = RuleFilter::new(&[]);
        for ty in [
            crate::model::nested::STACK,
            crate::model::nested::APPLICATION,
            crate::model::nested::STACK_SET,
        ] {
            let text = format!("Resources:\n  N:\n    Type: {}\n", ty.to_uppercase());
            assert!(none.may_match(text.as_bytes()), "{ty}");
            assert!(none.rules_for(text.as_bytes()).is_empty(), "{ty}");
        }
        assert!(!none.may_match(b"Resources:\n  B:\n    Type: AWS::S3::Bucket\n"));
    }

    #[test]
    fn an_empty_group_keeps_every_file() {
        let empty: &[&str] = &[];
        assert!(Prefilter::new([empty]).may_match(b"anything"));
    }

    #[test]
    fn prefilter_needle_at_end_of_input() {
        assert!(may_match(b"xx dynamodb", NEEDLES));
        assert!(!may_match(b"xx dynamod", NEEDLES));
    }
}
