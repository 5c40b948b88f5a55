//! Rule selection as in ruff: `select` replaces the enabled set, `extend_select` adds to
//! it, `ignore` removes from it. Layers apply in order (defaults, then `ddb-guard.toml`,
//! then the command line), so a later `select` overrides an earlier `ignore`.
//!
//! A selector is `ALL`, a rule code (`DDB001`, any case), a rule name (`deletion-policy`)
//! or a code prefix (`DDB01` selects DDB010 to DDB019).

use crate::rules::{Rule, RULES};

/// One layer of selection; `None` keeps the set the previous layer left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
}

/// A selector that names no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownSelector {
    pub selector: String,
    /// The closest rule code or name, when one is close enough to be a typo.
    pub suggestion: Option<&'static str>,
}

impl std::fmt::Display for UnknownSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown rule `{}`", self.selector)?;
        match self.suggestion {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => write!(f, " (`ddb-guard rule` lists the rules)"),
        }
    }
}

/// The rules one selector names, in code order.
pub fn expand(selector: &str) -> Result<Vec<&'static Rule>, UnknownSelector> {
    let s = selector.trim();
    if s.eq_ignore_ascii_case("ALL") {
        return Ok(RULES.to_vec());
    }
    if let Some(rule) = RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(s) || r.name.eq_ignore_ascii_case(s))
    {
        return Ok(vec![rule]);
    }
    let prefix: Vec<&'static Rule> = RULES
        .iter()
        .copied()
        .filter(|r| {
            s.len() >= 3
                && r.code
                    .get(..s.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(s))
        })
        .collect();
    if !prefix.is_empty() {
        return Ok(prefix);
    }
    Err(UnknownSelector {
        selector: s.to_string(),
        suggestion: suggest(s),
    })
}

/// The rules enabled after applying `layers` to the rules enabled by default, in code order.
pub fn resolve(layers: &[&Layer]) -> Result<Vec<&'static Rule>, UnknownSelector> {
    let mut enabled: Vec<bool> = RULES.iter().map(|r| r.default_enabled).collect();
    let set = |selectors: &[String], on: bool, enabled: &mut Vec<bool>| {
        for selector in selectors {
            for rule in expand(selector)? {
                if let Some(i) = RULES.iter().position(|r| r.code == rule.code) {
                    enabled[i] = on;
                }
            }
        }
        Ok::<(), UnknownSelector>(())
    };
    for layer in layers {
        if let Some(select) = &layer.select {
            enabled.iter_mut().for_each(|e| *e = false);
            set(select, true, &mut enabled)?;
        }
        set(&layer.extend_select, true, &mut enabled)?;
        set(&layer.ignore, false, &mut enabled)?;
    }
    Ok(RULES
        .iter()
        .zip(enabled)
        .filter_map(|(r, on)| on.then_some(*r))
        .collect())
}

fn suggest(selector: &str) -> Option<&'static str> {
    let lower = selector.to_ascii_lowercase();
    RULES
        .iter()
        .flat_map(|r| [r.code, r.name])
        .map(|candidate| {
            (
                edit_distance(&lower, &candidate.to_ascii_lowercase()),
                candidate,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over bytes (selectors are ASCII; anything else is far anyway).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rules: &[&Rule]) -> Vec<&'static str> {
        rules.iter().map(|r| r.code).collect()
    }

    fn layer(select: Option<&[&str]>, ignore: &[&str]) -> Layer {
        Layer {
            select: select.map(|s| s.iter().map(|x| x.to_string()).collect()),
            extend_select: Vec::new(),
            ignore: ignore.iter().map(|x| x.to_string()).collect(),
        }
    }

    #[test]
    fn codes_and_names_select_the_same_rule_in_any_case() {
        assert_eq!(codes(&expand("ddb001").unwrap_or_default()), ["DDB001"]);
        assert_eq!(
            codes(&expand("Deletion-Policy").unwrap_or_default()),
            ["DDB001"]
        );
    }

    #[test]
    fn a_code_prefix_selects_every_rule_it_starts() {
        let all = expand("DDB").unwrap_or_default();
        assert_eq!(all.len(), RULES.len());
        assert_eq!(
            codes(&expand("DDB00").unwrap_or_default())[..2],
            ["DDB001", "DDB002"]
        );
    }

    #[test]
    fn a_typo_is_an_error_with_a_suggestion() {
        let err = expand("DDB0001").err().expect("unknown");
        assert_eq!(err.suggestion, Some("DDB001"));
        let err = expand("deletion-polcy").err().expect("unknown");
        assert_eq!(err.suggestion, Some("deletion-policy"));
        assert_eq!(expand("S3").err().and_then(|e| e.suggestion), None);
    }

    #[test]
    fn a_later_select_overrides_an_earlier_ignore() {
        let file = layer(None, &["DDB001"]);
        let cli = layer(Some(&["DDB001"]), &[]);
        assert_eq!(
            codes(&resolve(&[&file, &cli]).unwrap_or_default()),
            ["DDB001"]
        );
        assert!(!codes(&resolve(&[&file]).unwrap_or_default()).contains(&"DDB001"));
    }

    #[test]
    fn ignore_applies_after_select_within_a_layer() {
        let l = layer(Some(&["ALL"]), &["DDB002"]);
        let enabled = codes(&resolve(&[&l]).unwrap_or_default());
        assert!(enabled.contains(&"DDB001"));
        assert!(!enabled.contains(&"DDB002"));
    }

    #[test]
    fn no_layers_means_the_rules_enabled_by_default() {
        assert_eq!(
            codes(&resolve(&[]).unwrap_or_default()),
            codes(&crate::rules::default_rules())
        );
    }
}
