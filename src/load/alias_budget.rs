//! How many nodes a YAML file holds once its aliases are expanded, counted without
//! expanding them: what decides whether a YAML file that is not a template (a
//! docker-compose file with `x-common: &common`) may use anchors and aliases, while an
//! alias bomb (billion laughs) is still refused.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// Do the aliases of `text` expand to a size in proportion to the file (ten nodes per
/// byte, at least 10,000, at most `max_nodes`)? An alias bomb (a few hundred bytes that
/// expand to millions of nodes) does not, and stays an error.
pub fn within_budget(text: &str, max_nodes: usize) -> bool {
    let budget = text.len().saturating_mul(10).max(10_000).min(max_nodes);
    expanded_nodes(text, budget).is_some()
}

/// The number of nodes after alias expansion, or `None` when it exceeds `limit` or the
/// text does not parse (the caller then keeps its error).
pub fn expanded_nodes(text: &str, limit: usize) -> Option<usize> {
    // The size of each anchored node, and a stack of open collections: (anchor, size).
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut total: usize = 0;
    for item in Parser::new_from_str(text) {
        let (event, _) = item.ok()?;
        let add = match event {
            Event::Scalar(_, _, anchor, _) => {
                if anchor > 0 {
                    sizes.insert(anchor, 1);
                }
                1
            }
            Event::Alias(id) => *sizes.get(&id)?,
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                open.push((anchor, 1));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (anchor, size) = open.pop()?;
                if anchor > 0 {
                    sizes.insert(anchor, size);
                }
                match open.last_mut() {
                    Some(parent) => {
                        parent.1 = parent.1.checked_add(size)?;
                        if parent.1 > limit {
                            return None;
                        }
                    }
                    None => {
                        total = total.checked_add(size)?;
                    }
                }
                if total > limit {
                    return None;
                }
                continue;
            }
            _ => continue,
        };
        match open.last_mut() {
            Some(parent) => {
                parent.1 = parent.1.checked_add(add)?;
                if parent.1 > limit {
                    return None;
                }
            }
            None => total = total.checked_add(add)?,
        }
        if total > limit {
            return None;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_count_what_they_expand_to() {
        let compose = "x-common: &common\n  restart: always\nservices:\n  a:\n    <<: *common\n  b:\n    <<: *common\n";
        assert!(expanded_nodes(compose, 1000).is_some_and(|n| n > 10));
    }

    #[test]
    fn an_alias_bomb_exceeds_any_reasonable_limit() {
        let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for i in 1..names.len() {
            let (name, prev) = (names[i], names[i - 1]);
            yaml.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert_eq!(expanded_nodes(&yaml, 1_000_000), None);
    }
}
