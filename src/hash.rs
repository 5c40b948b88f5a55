//! The hash maps of the per-file pipeline (the tree's key indexes, logical IDs, condition
//! names, the evaluator's caches): std's `HashMap` with aHash's keyed hasher instead of
//! SipHash.
//!
//! A template's author chooses its mapping keys, logical IDs and condition names, so a
//! hash with a fixed seed would let a crafted template collide them all (a hang). aHash is
//! keyed: every map draws its keys from a random seed read once per process (the
//! `runtime-rng` feature, `getrandom`), and resisting such collisions is what it is built
//! for. SipHash-1-3 cost about 2.7% of all instructions on the corpus (issue 23); this
//! hashes the same keys in a fraction of that.

/// The hasher of [`HashMap`] and [`HashSet`]: keyed per map from a per-process seed.
pub type RandomState = ahash::RandomState;

pub type HashMap<K, V> = std::collections::HashMap<K, V, RandomState>;
pub type HashSet<T> = std::collections::HashSet<T, RandomState>;

/// An empty map with room for `capacity` entries.
pub fn map_with_capacity<K, V>(capacity: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(capacity, RandomState::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_keyed_differently() {
        // Two maps hash the same key differently: an attacker cannot precompute
        // collisions for a seed they never see.
        let (a, b) = (RandomState::new(), RandomState::new());
        let differing = (0..16)
            .filter(|i| a.hash_one(format!("Table{i}")) != b.hash_one(format!("Table{i}")))
            .count();
        assert!(differing > 8, "{differing}");
    }

    #[test]
    fn maps_find_what_was_inserted() {
        let mut map: HashMap<String, usize> = map_with_capacity(4);
        for i in 0..1000 {
            map.insert(format!("Key{i}"), i);
        }
        assert!((0..1000).all(|i| map.get(&format!("Key{i}")) == Some(&i)));
        assert_eq!(map.get("Key1000"), None);
    }
}
