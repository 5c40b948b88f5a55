//! IAM's wildcard matching (`*` any run, `?` one character) and the ARN shapes and globs
//! the grant question compares: a glob against an ARN shape, and one glob covering another.

/// IAM's wildcard match: `*` matches any run of characters (also `:` and `/`), `?` exactly
/// one. Action names compare ASCII case-insensitively, resource ARNs case-sensitively.
/// Linear in practice: the classic backtrack-to-last-star scan, no recursion.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // The literal head first, byte by byte: most calls end in it (`s3:GetObject` against
    // `dynamodb:DeleteTable` at the first byte, a pattern without wildcards at its end).
    // On UTF-8 bytes this is the character comparison: equal heads have the same
    // character boundaries, ASCII case folding leaves every byte of a multi-byte
    // character alone, and `*`/`?` are single bytes, so a mismatch at a literal byte is a
    // mismatch of characters before any wildcard.
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let same = |a: u8, b: u8| a == b || (ignore_case && a.eq_ignore_ascii_case(&b));
    let mut head = 0;
    loop {
        match (p.get(head), t.get(head)) {
            (None, None) => return true,
            (Some(b'*' | b'?'), _) => break,
            (Some(&a), Some(&b)) if same(a, b) => head += 1,
            _ => return false,
        }
    }
    // The heads matched character for character and end at a character boundary of both.
    let (Some(pattern), Some(text)) = (pattern.get(head..), text.get(head..)) else {
        return match_text(pattern, text, ignore_case);
    };
    match_text(pattern, text, ignore_case)
}

/// [`wildcard_match`] after its literal head: the backtracking scan, on bytes when both
/// sides are ASCII, else on characters.
fn match_text(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // ASCII on both sides (every action name, nearly every pattern): bytes are characters,
    // so the same scan runs on the bytes without collecting either side.
    if pattern.is_ascii() && text.is_ascii() {
        return match_units(pattern.as_bytes(), text.as_bytes(), |a, b| {
            if ignore_case {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        });
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_units(&p, &t, |a, b| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    })
}

/// A unit of a wildcard pattern: a byte of ASCII text or a character.
trait Unit: Copy + PartialEq {
    const STAR: Self;
    const QUESTION: Self;
}

impl Unit for u8 {
    const STAR: u8 = b'*';
    const QUESTION: u8 = b'?';
}

impl Unit for char {
    const STAR: char = '*';
    const QUESTION: char = '?';
}

fn match_units<U: Unit>(p: &[U], t: &[U], same: impl Fn(U, U) -> bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == U::STAR {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == U::QUESTION || same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            // Let the last star swallow one more character and retry from there.
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == U::STAR)
}

/// Does the IAM action pattern (`dynamodb:Delete*`, `*`, `DynamoDB:deletetable`) match
/// the action?
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// One part of a resource pattern or ARN as the checker builds it: text as the template
/// writes it (where `*` and `?` are IAM's wildcards), or a typed stand-in for what the
/// template does not say. The stand-ins are variants, never characters inside the text, so
/// no string a template spells can be taken for an unknown segment or for "this table".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    /// Any text (an unresolved value in an `Allow`): matches like `*`, proves no `Deny`.
    Any,
    /// One unknown ARN field (a table's name, the Region, the account): one or more
    /// characters, none of them `:` or `/`. `!GetAtt Orders.Arn` is
    /// `arn:SEG:dynamodb:SEG:SEG:table/SEG`, which can be a table ARN but not a backup ARN.
    AnySegment,
    /// A value that is certainly not part of a DynamoDB or AWS Backup ARN (the ARN of an
    /// SQS queue in the template, or a value a backup selection cannot be shown to name):
    /// no ARN shape accepts it and only `*` covers it.
    Opaque,
    /// A value that is the same wherever the template names it the same way: equal to the
    /// same marker, covered by `*`.
    Marker(Marker),
    /// A value known only at deployment that one stack reads once (a pseudo parameter, a
    /// parameter, a resource's name or attribute, an import): it matches an ARN shape like
    /// [`Part::Any`] (or [`Part::AnySegment`] when `segment`), and is covered only by `*`
    /// or by the same value. Two globs of one document read the same stack, so a `Deny`
    /// on `arn:${AWS::Partition}:...:table/orders` covers an `Allow` written the same way;
    /// a different value, or one [`Part::Any`], never does.
    Same {
        value: Symbol,
        segment: bool,
    },
}

/// What a [`Part::Same`] stands for. Equal symbols are the same text in one deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// `AWS::Region`, `AWS::AccountId`, ...
    Pseudo(String),
    /// A parameter that holds one string (not a list).
    Parameter(String),
    /// `Ref` to a resource of the template (its name or ID).
    Ref(String),
    /// `Fn::GetAtt` of a resource of the template.
    Attribute(String, String),
    /// `Fn::ImportValue` of an export name.
    Import(String),
}

/// The values a backup selection compares by identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The stack's own partition, Region and account (`${AWS::Region}`).
    Partition,
    Region,
    Account,
    /// The name of the table whose coverage is asked, when it is generated.
    ThisTable,
    /// Another table's name.
    OtherTable,
}

/// A pattern or ARN: its parts in order.
pub type Glob = Vec<Part>;

/// A glob of one literal text.
pub fn lit(text: impl Into<String>) -> Glob {
    vec![Part::Lit(text.into())]
}

/// A glob as people read it, with every stand-in shown as `*`.
pub fn display_glob(glob: &[Part]) -> String {
    glob.iter()
        .map(|p| match p {
            Part::Lit(t) => t.as_str(),
            Part::Marker(Marker::Partition) => "${AWS::Partition}",
            Part::Marker(Marker::Region) => "${AWS::Region}",
            Part::Marker(Marker::Account) => "${AWS::AccountId}",
            Part::Any | Part::AnySegment | Part::Opaque | Part::Marker(_) | Part::Same { .. } => {
                "*"
            }
        })
        .collect()
}

/// A glob as people read it, with each value the stack reads once named as a template
/// writes it in `Fn::Sub` (`${AWS::Region}`, `${TableName}`, `${Orders.Arn}`), so that a
/// `Deny` on the stack's own Region does not read as a `Deny` on every Region. Only what
/// cannot be resolved at all is shown as `*`.
pub fn display_named(glob: &[Part]) -> String {
    let mut out = String::new();
    for part in glob {
        match part {
            Part::Same { value, .. } => match value {
                Symbol::Pseudo(name) | Symbol::Parameter(name) | Symbol::Ref(name) => {
                    out.push_str(&format!("${{{name}}}"));
                }
                Symbol::Attribute(resource, attribute) => {
                    out.push_str(&format!("${{{resource}.{attribute}}}"));
                }
                Symbol::Import(name) => out.push_str(&format!("${{Fn::ImportValue {name}}}")),
            },
            other => out.push_str(&display_glob(std::slice::from_ref(other))),
        }
    }
    out
}

/// Whether some part of the glob stands for a value that cannot be resolved (neither the
/// template's text nor a value the stack reads once).
pub fn has_unresolved(glob: &[Part]) -> bool {
    glob.iter()
        .any(|p| matches!(p, Part::Any | Part::AnySegment | Part::Opaque))
}

/// Whether the glob holds only literal text (its wildcards are the template's own).
pub fn is_literal(glob: &[Part]) -> bool {
    glob.iter().all(|p| matches!(p, Part::Lit(_)))
}

/// One matching step of a glob: a literal byte, IAM's `*` and `?`, or a stand-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'g> {
    Byte(u8),
    Star,
    Question,
    Segment,
    Opaque,
    Marker(Marker),
    Same(&'g Symbol, bool),
}

fn glob_tokens(glob: &[Part]) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    for part in glob {
        match part {
            Part::Lit(text) => out.extend(text.bytes().map(|b| match b {
                b'*' => Tok::Star,
                b'?' => Tok::Question,
                b => Tok::Byte(b),
            })),
            Part::Any => out.push(Tok::Star),
            Part::AnySegment => out.push(Tok::Segment),
            Part::Opaque => out.push(Tok::Opaque),
            Part::Marker(m) => out.push(Tok::Marker(*m)),
            Part::Same { value, segment } => out.push(Tok::Same(value, *segment)),
        }
    }
    out
}

/// One token of an ARN shape: a literal byte, or a field (one or more bytes, none of them
/// `:` or `/`; a table name cannot hold `/`, a region or account cannot hold `:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShapeTok {
    Lit(u8),
    Field,
}

/// Shapes are written with `{}` for a field: `arn:{}:dynamodb:{}:{}:table/{}`.
fn shape_tokens(shape: &str) -> Vec<ShapeTok> {
    let mut out = Vec::new();
    let bytes = shape.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{}") {
            out.push(ShapeTok::Field);
            i += 2;
        } else {
            out.push(ShapeTok::Lit(bytes[i]));
            i += 1;
        }
    }
    out
}

fn field_accepts(b: u8) -> bool {
    !matches!(b, b':' | b'/')
}

/// What one glob step consumes of a shape: any byte, any field byte, or one byte.
#[derive(Clone, Copy)]
enum Class {
    Any,
    FieldByte,
    Byte(u8),
}

/// Can some ARN of `shape` be matched by the resource pattern `glob`? Decided exactly, by
/// a search over (pattern position, shape position) pairs: a glob and a shape are both
/// finite automata, and this asks whether their product accepts anything.
pub fn glob_can_match_shape(glob: &[Part], shape: &str) -> bool {
    let pat = glob_tokens(glob);
    let toks = shape_tokens(shape);
    let (n, m) = (pat.len(), toks.len());
    // State: (pattern index, token index, whether the current field has a byte yet).
    let index = |i: usize, k: usize, s: bool| (i * (m + 1) + k) * 2 + usize::from(s);
    let mut seen = vec![false; (n + 1) * (m + 1) * 2];
    let mut stack = vec![(0usize, 0usize, false)];
    let step = |k: usize, class: Class| -> Option<(usize, bool)> {
        match toks.get(k)? {
            ShapeTok::Lit(x) => {
                let ok = match class {
                    Class::Any => true,
                    Class::FieldByte => field_accepts(*x),
                    Class::Byte(b) => b == *x,
                };
                ok.then_some((k + 1, false))
            }
            ShapeTok::Field => match class {
                Class::Byte(b) if !field_accepts(b) => None,
                _ => Some((k, true)),
            },
        }
    };
    while let Some((i, k, s)) = stack.pop() {
        if std::mem::replace(&mut seen[index(i, k, s)], true) {
            continue;
        }
        if i == n && k == m {
            return true;
        }
        let mut push = |state: (usize, usize, bool)| {
            if !seen[index(state.0, state.1, state.2)] {
                stack.push(state);
            }
        };
        if s && toks.get(k) == Some(&ShapeTok::Field) {
            push((i, k + 1, false));
        }
        let Some(&t) = pat.get(i) else { continue };
        match t {
            Tok::Star | Tok::Segment | Tok::Same(..) => {
                push((i + 1, k, s));
                let class = if matches!(t, Tok::Star | Tok::Same(_, false)) {
                    Class::Any
                } else {
                    Class::FieldByte
                };
                if let Some((k2, s2)) = step(k, class) {
                    push((i, k2, s2));
                }
            }
            Tok::Question => {
                if let Some((k2, s2)) = step(k, Class::Any) {
                    push((i + 1, k2, s2));
                }
            }
            Tok::Byte(b) => {
                if let Some((k2, s2)) = step(k, Class::Byte(b)) {
                    push((i + 1, k2, s2));
                }
            }
            // No ARN of a DynamoDB or AWS Backup shape holds these.
            Tok::Opaque | Tok::Marker(_) => {}
        }
    }
    false
}

/// The ARN of a resource of this shape whose fields are not known.
#[cfg(test)]
fn segments(shape: &str) -> Glob {
    let mut out = Vec::new();
    let mut rest = shape;
    while let Some(at) = rest.find("{}") {
        if at > 0 {
            out.push(Part::Lit(rest[..at].to_string()));
        }
        out.push(Part::AnySegment);
        rest = &rest[at + 2..];
    }
    if !rest.is_empty() {
        out.push(Part::Lit(rest.to_string()));
    }
    out
}

/// The glob every ARN of `shape` matches (fields become `*`).
pub fn shape_glob(shape: &str) -> Glob {
    lit(shape.replace("{}", "*"))
}

/// Does the pattern `outer` match every string that `inner` matches? Sound, not complete:
/// `true` is a proof (each `*` of `inner` is swallowed by a `*` of `outer`, each `?` by a
/// `?` or `*`, each marker or symbol by the same one or a `*`), `false` may be a miss. Used only
/// to let a `Deny` (or a backup selection) win, so a miss keeps a finding rather than
/// hiding one.
pub fn glob_covers(outer: &[Part], inner: &[Part]) -> bool {
    let (o, i) = (glob_tokens(outer), glob_tokens(inner));
    let (n, m) = (o.len(), i.len());
    let mut seen = vec![false; (n + 1) * (m + 1)];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((a, b)) = stack.pop() {
        if std::mem::replace(&mut seen[a * (m + 1) + b], true) {
            continue;
        }
        if a == n && b == m {
            return true;
        }
        let Some(&oc) = o.get(a) else { continue };
        match (oc, i.get(b)) {
            (Tok::Star, next) => {
                stack.push((a + 1, b));
                if next.is_some() {
                    stack.push((a, b + 1));
                }
            }
            (Tok::Question, Some(Tok::Byte(_))) => stack.push((a + 1, b + 1)),
            (Tok::Byte(x), Some(Tok::Byte(y))) if x == *y => stack.push((a + 1, b + 1)),
            (Tok::Marker(x), Some(Tok::Marker(y))) if x == *y => stack.push((a + 1, b + 1)),
            (Tok::Same(x, _), Some(Tok::Same(y, _))) if x == *y => stack.push((a + 1, b + 1)),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iam::{TABLE_ARN, TABLE_BACKUP_ARN};
    use proptest::prelude::*;

    fn can(glob: &str, shape: &str) -> bool {
        glob_can_match_shape(&lit(glob), shape)
    }

    fn covers(outer: &str, inner: &str) -> bool {
        glob_covers(&lit(outer), &lit(inner))
    }

    /// An independent reference: the textbook recursion, exponential but obviously right.
    fn reference(p: &[char], t: &[char], ignore_case: bool) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|k| reference(rest, &t[k..], ignore_case)),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..], ignore_case),
            Some((c, rest)) => {
                t.first().is_some_and(|x| {
                    if ignore_case {
                        x.eq_ignore_ascii_case(c)
                    } else {
                        x == c
                    }
                }) && reference(rest, &t[1..], ignore_case)
            }
        }
    }

    fn reference_str(p: &str, t: &str, ignore_case: bool) -> bool {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        reference(&p, &t, ignore_case)
    }

    /// Small alphabets make stars and question marks collide with real characters often.
    fn pattern() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[aAbB:*?é]{0,8}").expect("valid regex")
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[aAbB:é]{0,10}").expect("valid regex")
    }

    /// The matcher as it was before its literal fast path (f90a483), as the oracle.
    fn old_wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
        if pattern.is_ascii() && text.is_ascii() {
            return match_units(pattern.as_bytes(), text.as_bytes(), |a, b| {
                if ignore_case {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a == b
                }
            });
        }
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        match_units(&p, &t, |a, b| {
            if ignore_case {
                a.eq_ignore_ascii_case(&b)
            } else {
                a == b
            }
        })
    }

    /// What the matcher is asked in a run: the guarded actions and AWS managed policy
    /// ARNs, against action names and ARNs in any case, with or without wildcards.
    fn real_texts() -> Vec<String> {
        let mut texts: Vec<String> = crate::model::iam::GUARDED_ACTIONS
            .iter()
            .map(|a| a.to_string())
            .collect();
        texts.extend(
            crate::model::iam::AWS_MANAGED_POLICIES
                .iter()
                .map(|p| format!("arn:aws:iam::aws:policy/{}{}", p.path, p.name)),
        );
        texts.extend(
            [
                "dynamodb:GetItem",
                "s3:GetObject",
                "arn:aws:dynamodb:us-east-1:1:table/T",
                "Ünïcode:é",
                "",
            ]
            .map(String::from),
        );
        texts
    }

    proptest! {
        /// The literal fast path answers what the old matcher answers: on patterns made
        /// from real actions and ARNs (cut, case-flipped, with some characters turned
        /// into wildcards or non-ASCII), against real texts and each other.
        #[test]
        fn wildcard_match_agrees_with_the_old_matcher(
            from in 0usize..1000,
            against in 0usize..1000,
            edits in proptest::collection::vec((0usize..64, 0u8..8), 0..4),
            cut in 0usize..64,
            ic in any::<bool>(),
            same in any::<bool>(),
        ) {
            let texts = real_texts();
            // Half the time against the text the pattern is made from, so it often matches.
            let text = &texts[if same { from } else { against } % texts.len()];
            let mut chars: Vec<char> = texts[from % texts.len()].chars().collect();
            for (at, edit) in edits {
                if chars.is_empty() {
                    break;
                }
                let at = at % chars.len();
                match edit {
                    0 => chars[at] = '*',
                    1 => chars[at] = '?',
                    2 => chars[at] = 'é',
                    3 => chars[at] = chars[at].to_ascii_uppercase(),
                    4 => chars[at] = chars[at].to_ascii_lowercase(),
                    5 => { chars.remove(at); }
                    _ => {}
                }
            }
            if cut % 3 == 0 {
                chars.truncate(cut);
            }
            let pattern: String = chars.into_iter().collect();
            prop_assert_eq!(
                wildcard_match(&pattern, text, ic),
                old_wildcard_match(&pattern, text, ic),
                "{} against {}", pattern, text
            );
            prop_assert_eq!(
                wildcard_match(text, &pattern, ic),
                old_wildcard_match(text, &pattern, ic)
            );
        }

        #[test]
        fn wildcard_match_agrees_with_the_old_matcher_on_small_alphabets(p in pattern(), t in text(), ic in any::<bool>()) {
            prop_assert_eq!(wildcard_match(&p, &t, ic), old_wildcard_match(&p, &t, ic));
        }

        #[test]
        fn wildcard_match_agrees_with_the_reference(p in pattern(), t in text(), ic in any::<bool>()) {
            prop_assert_eq!(wildcard_match(&p, &t, ic), reference_str(&p, &t, ic));
        }

        #[test]
        fn action_matching_ignores_ascii_case(p in pattern(), t in text()) {
            prop_assert_eq!(action_matches(&p, &t), action_matches(&p.to_ascii_uppercase(), &t.to_ascii_lowercase()));
        }

        /// A pattern always matches the text it was made from by turning characters into
        /// `?` or `*` (or adding a `*` that matches nothing).
        #[test]
        fn wildcards_made_from_a_text_match_it(t in text(), choices in proptest::collection::vec(0u8..4, 10)) {
            let p: String = t
                .chars()
                .zip(choices.iter().cycle())
                .map(|(c, choice)| match choice {
                    0 => c.to_string(),
                    1 => "?".to_string(),
                    2 => "*".to_string(),
                    _ => format!("{c}*"),
                })
                .collect();
            prop_assert!(wildcard_match(&p, &t, false), "{} should match {}", p, t);
        }

        /// `glob_covers` is sound: whatever string `inner` matches, `outer` matches too.
        #[test]
        fn covers_is_sound(outer in "[ab:*?]{0,6}", inner in "[ab:*?]{0,6}", fill in "[ab:]{0,4}") {
            if covers(&outer, &inner) {
                // One concrete string of `inner`: each `*` becomes `fill`, each `?` an `a`.
                let concrete: String = inner
                    .chars()
                    .map(|c| match c { '*' => fill.clone(), '?' => "a".into(), c => c.to_string() })
                    .collect();
                prop_assert!(wildcard_match(&outer, &concrete, false), "{} covers {} but not {}", outer, inner, concrete);
            }
        }

        /// Never a missed table: a glob made from a concrete table ARN (characters turned
        /// into `?`, `*` or an unknown segment) can match the table shape.
        #[test]
        fn shape_match_finds_every_concrete_arn(
            partition in "aws|aws-cn", region in "[a-z]{2}-[a-z]{1,5}-[0-9]", account in "[0-9]{12}",
            name in "[A-Za-z0-9_.-]{3,8}", choices in proptest::collection::vec(0u8..8, 16),
        ) {
            let arn = format!("arn:{partition}:dynamodb:{region}:{account}:table/{name}");
            let mut glob: Glob = Vec::new();
            for (c, choice) in arn.chars().zip(choices.iter().cycle()) {
                let part = match choice {
                    1 => lit("?"),
                    2 => lit("*"),
                    3 => lit(format!("{c}*")),
                    4 if c != ':' && c != '/' => vec![Part::AnySegment],
                    _ => lit(c.to_string()),
                };
                glob.extend(part);
            }
            prop_assert!(glob_can_match_shape(&glob, TABLE_ARN), "{:?} from {}", glob, arn);
            let backup = format!("{arn}/backup/01700000000000-abcdef12");
            let mut with_backup = glob.clone();
            with_backup.push(Part::Lit("/backup/*".into()));
            prop_assert!(glob_can_match_shape(&with_backup, TABLE_BACKUP_ARN), "{}", backup);
        }
    }

    #[test]
    fn action_wildcards_follow_iam() {
        assert!(action_matches("*", "dynamodb:DeleteTable"));
        assert!(action_matches("dynamodb:*", "dynamodb:DeleteTable"));
        assert!(action_matches("DynamoDB:delete*", "dynamodb:DeleteTable"));
        assert!(action_matches(
            "dynamodb:Delete?able",
            "dynamodb:DeleteTable"
        ));
        assert!(!action_matches("dynamodb:Delete?", "dynamodb:DeleteTable"));
        assert!(!action_matches(
            "dynamodb:DeleteItem",
            "dynamodb:DeleteTable"
        ));
        assert!(!action_matches(
            "dynamodb:Describe*",
            "dynamodb:DeleteTable"
        ));
        assert!(action_matches("*:*", "dynamodb:DeleteTable"));
    }

    #[test]
    fn table_arn_shapes() {
        assert!(can("*", TABLE_ARN));
        assert!(can("arn:aws:dynamodb:*:*:table/*", TABLE_ARN));
        assert!(can(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
            TABLE_ARN
        ));
        assert!(can("arn:*:dynamodb:*:*:*", TABLE_ARN));
        // A stream or index ARN is not the table: names cannot hold `/`.
        assert!(!can(
            "arn:aws:dynamodb:*:*:table/Orders/stream/*",
            TABLE_ARN
        ));
        assert!(!can("arn:aws:dynamodb:*:*:table/Orders/index/*", TABLE_ARN));
        assert!(can(
            "arn:aws:dynamodb:*:*:table/Orders/backup/*",
            TABLE_BACKUP_ARN
        ));
        assert!(!can("arn:aws:s3:::bucket/*", TABLE_ARN));
        assert!(!can("arn:aws:dynamodb:*:*:table/", TABLE_ARN));
        assert!(!glob_can_match_shape(&[Part::Opaque], TABLE_ARN));
        assert!(!can("Orders", TABLE_ARN));
        // `!GetAtt Orders.Arn`: a table, never one of its backups.
        let table = segments(TABLE_ARN);
        assert!(glob_can_match_shape(&table, TABLE_ARN));
        assert!(!glob_can_match_shape(&table, TABLE_BACKUP_ARN));
        let mut backups = table.clone();
        backups.push(Part::Lit("/backup/*".into()));
        assert!(glob_can_match_shape(&backups, TABLE_BACKUP_ARN));
        assert_eq!(display_glob(&table), "arn:*:dynamodb:*:*:table/*");
    }

    #[test]
    fn stand_ins_are_typed_and_no_text_spells_them() {
        let this_table = vec![
            Part::Lit("arn:".into()),
            Part::Marker(Marker::Partition),
            Part::Lit(":table/".into()),
            Part::Marker(Marker::ThisTable),
        ];
        // The same markers cover each other, a star covers them, text never does.
        assert!(glob_covers(&this_table, &this_table));
        assert!(glob_covers(&lit("arn:*:table/*"), &this_table));
        for spelled in [
            "arn:\u{2}:table/\u{5}",
            "arn:\u{1}:table/\u{1}",
            "arn:?:table/?",
        ] {
            assert!(!glob_covers(&lit(spelled), &this_table), "{spelled:?}");
        }
        // An unknown segment is no text either: a literal `\u{1}` is one byte.
        assert!(!can("arn:aws:dynamodb:r:a:table/\u{1}/backup/x", TABLE_ARN));
        assert!(glob_can_match_shape(&segments(TABLE_ARN), TABLE_ARN));
        assert!(!glob_covers(&segments(TABLE_ARN), &segments(TABLE_ARN)));
        assert!(!glob_can_match_shape(&[Part::Opaque], TABLE_ARN));
        assert!(!glob_covers(&[Part::Opaque], &[Part::Opaque]));
        assert!(glob_covers(&[Part::Any], &[Part::Opaque]));
    }

    #[test]
    fn coverage_is_literal_or_through_stars() {
        assert!(covers("*", "arn:*:dynamodb:*:*:table/*"));
        assert!(covers("arn:*:dynamodb:*", "arn:*:dynamodb:*:*:table/*"));
        assert!(covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:aws:dynamodb:us-east-1:1:table/Orders"
        ));
        assert!(!covers(
            "arn:aws:dynamodb:*:*:table/*",
            "arn:*:dynamodb:*:*:table/*"
        ));
        assert!(!covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:*:dynamodb:*:*:table/*"
        ));
    }
}
