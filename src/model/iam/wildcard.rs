//! IAM's wildcard matching (`*` any run, `?` one character) and the ARN shapes and globs
//! the grant question compares: a glob against an ARN shape, and one glob covering another.

/// IAM's wildcard match: `*` matches any run of characters (also `:` and `/`), `?` exactly
/// one. Action names compare ASCII case-insensitively, resource ARNs case-sensitively.
/// Linear in practice: the classic backtrack-to-last-star scan, no recursion.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || same(p[pi], t[ti])) {
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
    p[pi..].iter().all(|c| *c == '*')
}

/// Does the IAM action pattern (`dynamodb:Delete*`, `*`, `DynamoDB:deletetable`) match
/// the action?
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// Stands for a value that is certainly not part of a DynamoDB or AWS Backup ARN (the ARN
/// of an SQS queue in the template, say). No ARN shape accepts it.
pub(super) const OPAQUE: char = '\0';

/// Stands for one unknown ARN segment (a table's name, the Region, the account): any run
/// of characters without `:` or `/`. `!GetAtt Orders.Arn` is
/// `arn:SEG:dynamodb:SEG:SEG:table/SEG`, which can be a table ARN but not a backup ARN.
pub const SEGMENT: char = '\u{1}';

/// A glob as people read it, with [`SEGMENT`] shown as `*`.
pub fn display_glob(glob: &str) -> String {
    glob.replace(SEGMENT, "*")
}

/// One token of an ARN shape: a literal byte, or a field (one or more bytes, none of them
/// `:`, `/` or [`OPAQUE`]; a table name cannot hold `/`, a region or account cannot hold
/// `:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Field,
}

/// Shapes are written with `{}` for a field: `arn:{}:dynamodb:{}:{}:table/{}`.
fn tokens(shape: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let bytes = shape.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"{}") {
            out.push(Tok::Field);
            i += 2;
        } else {
            out.push(Tok::Lit(bytes[i]));
            i += 1;
        }
    }
    out
}

fn field_accepts(b: u8) -> bool {
    !matches!(b, b':' | b'/' | 0)
}

/// Can some ARN of `shape` be matched by the resource pattern `glob`? Decided exactly, by
/// a search over (pattern position, shape position) pairs: a glob and a shape are both
/// finite automata, and this asks whether their product accepts anything.
pub fn glob_can_match_shape(glob: &str, shape: &str) -> bool {
    let pat = glob.as_bytes();
    let toks = tokens(shape);
    let (n, m) = (pat.len(), toks.len());
    // State: (pattern index, token index, whether the current field has a byte yet).
    let index = |i: usize, k: usize, s: bool| (i * (m + 1) + k) * 2 + usize::from(s);
    let mut seen = vec![false; (n + 1) * (m + 1) * 2];
    let mut stack = vec![(0usize, 0usize, false)];
    // Moves of the shape on one byte: `None` is "any byte" (a wildcard picks one).
    // `Some(b)`: that byte; `None`: any byte (`*`, `?`); `SEG`: any non-separator byte.
    const SEG: Option<u8> = Some(1);
    let step = |k: usize, byte: Option<u8>| -> Option<(usize, bool)> {
        match toks.get(k)? {
            Tok::Lit(x) => {
                let ok = match byte {
                    None => true,
                    SEG => field_accepts(*x),
                    Some(b) => b == *x,
                };
                ok.then_some((k + 1, false))
            }
            Tok::Field => byte
                .is_none_or(|b| b == 1 || field_accepts(b))
                .then_some((k, true)),
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
        if s && toks.get(k) == Some(&Tok::Field) {
            push((i, k + 1, false));
        }
        let Some(&b) = pat.get(i) else { continue };
        match b {
            b'*' | 1 => {
                push((i + 1, k, s));
                let class = if b == b'*' { None } else { SEG };
                if let Some((k2, s2)) = step(k, class) {
                    push((i, k2, s2));
                }
            }
            b'?' => {
                if let Some((k2, s2)) = step(k, None) {
                    push((i + 1, k2, s2));
                }
            }
            _ => {
                if let Some((k2, s2)) = step(k, Some(b)) {
                    push((i + 1, k2, s2));
                }
            }
        }
    }
    false
}

/// The ARN of a resource of this shape whose fields are not known.
pub(super) fn segments(shape: &str) -> String {
    shape.replace("{}", &SEGMENT.to_string())
}

/// The glob every ARN of `shape` matches (fields become `*`).
pub fn shape_glob(shape: &str) -> String {
    shape.replace("{}", "*")
}

/// Does the pattern `outer` match every string that `inner` matches? Sound, not complete:
/// `true` is a proof (each `*` of `inner` is swallowed by a `*` of `outer`, each `?` by a
/// `?` or `*`), `false` may be a miss. Used only to let a `Deny` win, so a miss keeps a
/// finding rather than hiding one.
pub fn glob_covers(outer: &str, inner: &str) -> bool {
    let (o, i) = (outer.as_bytes(), inner.as_bytes());
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
            (b'*', next) => {
                stack.push((a + 1, b));
                if next.is_some() {
                    stack.push((a, b + 1));
                }
            }
            (b'?', Some(&ic)) if ic != b'*' && ic != 1 => stack.push((a + 1, b + 1)),
            (_, Some(&ic)) if oc == ic && !matches!(ic, b'*' | b'?' | 0 | 1) => {
                stack.push((a + 1, b + 1))
            }
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

    proptest! {
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
            if glob_covers(&outer, &inner) {
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
            let glob: String = arn
                .chars()
                .zip(choices.iter().cycle())
                .map(|(c, choice)| match choice {
                    1 => "?".to_string(),
                    2 => "*".to_string(),
                    3 => format!("{c}*"),
                    4 if c != ':' && c != '/' => SEGMENT.to_string(),
                    _ => c.to_string(),
                })
                .collect();
            prop_assert!(glob_can_match_shape(&glob, TABLE_ARN), "{:?} from {}", glob, arn);
            let backup = format!("{arn}/backup/01700000000000-abcdef12");
            prop_assert!(glob_can_match_shape(&format!("{glob}/backup/*"), TABLE_BACKUP_ARN), "{}", backup);
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
        assert!(glob_can_match_shape("*", TABLE_ARN));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/*",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape("arn:*:dynamodb:*:*:*", TABLE_ARN));
        // A stream or index ARN is not the table: names cannot hold `/`.
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/stream/*",
            TABLE_ARN
        ));
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/index/*",
            TABLE_ARN
        ));
        assert!(glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/Orders/backup/*",
            TABLE_BACKUP_ARN
        ));
        assert!(!glob_can_match_shape("arn:aws:s3:::bucket/*", TABLE_ARN));
        assert!(!glob_can_match_shape(
            "arn:aws:dynamodb:*:*:table/",
            TABLE_ARN
        ));
        assert!(!glob_can_match_shape("\0", TABLE_ARN));
        assert!(!glob_can_match_shape("Orders", TABLE_ARN));
        // `!GetAtt Orders.Arn`: a table, never one of its backups.
        let table = segments(TABLE_ARN);
        assert!(glob_can_match_shape(&table, TABLE_ARN));
        assert!(!glob_can_match_shape(&table, TABLE_BACKUP_ARN));
        assert!(glob_can_match_shape(
            &format!("{table}/backup/*"),
            TABLE_BACKUP_ARN
        ));
        assert_eq!(display_glob(&table), "arn:*:dynamodb:*:*:table/*");
    }

    #[test]
    fn coverage_is_literal_or_through_stars() {
        assert!(glob_covers("*", "arn:*:dynamodb:*:*:table/*"));
        assert!(glob_covers(
            "arn:*:dynamodb:*",
            "arn:*:dynamodb:*:*:table/*"
        ));
        assert!(glob_covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:aws:dynamodb:us-east-1:1:table/Orders"
        ));
        assert!(!glob_covers(
            "arn:aws:dynamodb:*:*:table/*",
            "arn:*:dynamodb:*:*:table/*"
        ));
        assert!(!glob_covers(
            "arn:*:dynamodb:*:*:table/Orders",
            "arn:*:dynamodb:*:*:table/*"
        ));
    }
}
