//! Experiment allocation (contract §1): deterministic murmur3 buckets, exact variant ranges,
//! sticky assignments stored on the profile.

use crate::catalog::Bundle;
use crate::hash::murmur3_x86_32;
use crate::profile::Profile;
use crate::rules::Scope;
use crate::util::cat;

/// The bucket of a profile key in an experiment: `murmur3_x86_32("<experiment>:<key>", 0) % 10000`.
pub fn bucket(experiment: &str, key: &str) -> u32 {
    murmur3_x86_32(cat(&[experiment, ":", key]).as_bytes(), 0) % 10_000
}

/// The variant that holds bucket `b`, for `traffic` percent and integer `weights`, or `None`
/// when `b` is outside the experiment. Variant `i` holds `[T·W<i/W, T·W≤i/W)`, compared exactly
/// as `T·W<i ≤ b·W < T·W≤i` in integers. Also `None` when the weights are too large for that
/// (a compiled bundle's are at most 2^53 each, far below).
pub fn variant_for(b: u32, traffic: f64, weights: &[f64]) -> Option<usize> {
    let t = crate::util::clamp((traffic * 100.0).round(), 0.0, 10_000.0) as u128;
    let b = u128::from(b);
    if b >= t {
        return None;
    }
    let weight = |w: &f64| w.max(0.0) as u128;
    let mut total = 0u128;
    for w in weights {
        total = total.checked_add(weight(w))?;
    }
    if total == 0 {
        return None;
    }
    let at = b.checked_mul(total)?;
    let mut below = 0u128;
    for (i, wi) in weights.iter().map(weight).enumerate() {
        let upto = below.checked_add(wi)?;
        if t.checked_mul(below)? <= at && at < t.checked_mul(upto)? {
            return Some(i);
        }
        below = upto;
    }
    None
}

/// The `(compiled experiment, variant)` this profile is in on `placement`, assigning (and
/// recording on the profile) when it is new.
pub fn assign(
    bundle: &Bundle,
    profile: &mut Profile,
    placement: &str,
    scope: &Scope,
) -> Option<(usize, usize)> {
    for (e, compiled) in bundle.experiments.iter().enumerate() {
        let experiment = &bundle.catalog.experiments[compiled.index];
        if experiment.placement != placement
            || experiment.start.is_some_and(|s| scope.now < s)
            || experiment.end.is_some_and(|end| scope.now >= end)
        {
            continue;
        }
        if let Some(a) = compiled.audience {
            if !bundle.audiences.get(a).is_some_and(|rule| rule.test(scope)) {
                continue;
            }
        }
        if let Some((_, variant)) = profile.experiments.get(&experiment.id) {
            if let Some(v) = experiment.variants.iter().position(|x| &x.id == variant) {
                return Some((e, v));
            }
            continue;
        }
        let key = profile.key()?;
        let mut weights = Vec::with_capacity(experiment.variants.len());
        for v in &experiment.variants {
            weights.push(v.weight);
        }
        if let Some(v) = variant_for(bucket(&experiment.id, key), experiment.traffic, &weights) {
            profile.assign(&experiment.id, &experiment.variants[v].id, scope.now);
            return Some((e, v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_ranges_are_exact() {
        // traffic 50 → T = 5000; weights 1:2 → [0, 5000/3) and [5000/3, 5000).
        assert_eq!(variant_for(0, 50.0, &[1.0, 2.0]), Some(0));
        assert_eq!(variant_for(1666, 50.0, &[1.0, 2.0]), Some(0));
        assert_eq!(variant_for(1667, 50.0, &[1.0, 2.0]), Some(1));
        assert_eq!(variant_for(4999, 50.0, &[1.0, 2.0]), Some(1));
        assert_eq!(variant_for(5000, 50.0, &[1.0, 2.0]), None);
        assert_eq!(variant_for(9999, 100.0, &[50.0, 50.0]), Some(1));
        assert_eq!(variant_for(0, 0.0, &[1.0]), None);
        assert_eq!(variant_for(3, 100.0, &[0.0, 1.0]), Some(1));
        // The largest weights a bundle allows are exact; larger ones answer without overflowing.
        let max = 9_007_199_254_740_992.0;
        assert_eq!(variant_for(9999, 100.0, &[max, max]), Some(1));
        assert_eq!(variant_for(9999, 100.0, &[5e75, 50.0]), None);
        assert_eq!(variant_for(0, 100.0, &[f64::MAX, f64::MAX]), None);
    }
}
