//! Seeded randomness for decisions: a SplitMix64 stream and Beta sampling for Thompson sampling.
//!
//! Only `+ - * /` and `sqrt` (all exactly rounded by IEEE 754) are used, with a logarithm built
//! from them, so a seed gives the same draws natively, in Wasm and in every browser.

/// A deterministic stream of random numbers.
pub struct Rng(u64);

impl Rng {
    /// A stream for one seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits (SplitMix64).
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Marsaglia's polar method).
    fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// A Gamma(shape, 1) draw, shape ≥ 1 (Marsaglia and Tsang).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        for _ in 0..1000 {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u < 1.0 - 0.0331 * x * x * x * x || ln(u) < 0.5 * x * x + d * (1.0 - v + ln(v)) {
                return d * v;
            }
        }
        d
    }

    /// A Beta(a, b) draw, a, b ≥ 1.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        if x + y > 0.0 {
            x / (x + y)
        } else {
            0.5
        }
    }
}

/// Natural logarithm from exactly rounded operations: `x = m · 2^k` with `m` in [√½, √2), then
/// `ln m = 2 atanh((m-1)/(m+1))` by its series.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let mut m = x;
    let mut k = 0i32;
    while m >= std::f64::consts::SQRT_2 {
        m /= 2.0;
        k += 1;
    }
    while m < std::f64::consts::FRAC_1_SQRT_2 {
        m *= 2.0;
        k -= 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut term = t;
    let mut sum = 0.0;
    let mut n = 1.0;
    while n < 60.0 {
        sum += term / n;
        term *= t2;
        n += 2.0;
    }
    2.0 * sum + f64::from(k) * std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_is_accurate() {
        for x in [1e-300, 1e-9, 0.001, 0.5, 1.0, 2.0, 10.0, 12345.678, 1e300] {
            let (ours, std) = (ln(x), x.ln());
            assert!((ours - std).abs() <= 1e-12 * std.abs().max(1.0), "{x}: {ours} vs {std}");
        }
    }

    #[test]
    fn a_seed_gives_the_same_stream() {
        let draws = |seed| {
            let mut r = Rng::new(seed);
            (0..5).map(|_| r.beta(3.0, 7.0)).collect::<Vec<_>>()
        };
        assert_eq!(draws(42), draws(42));
        assert_ne!(draws(42), draws(43));
    }

    #[test]
    fn beta_draws_centre_on_the_mean() {
        let mut r = Rng::new(7);
        let n = 20_000;
        let mean = (0..n).map(|_| r.beta(20.0, 80.0)).sum::<f64>() / f64::from(n);
        assert!((mean - 0.2).abs() < 0.01, "{mean}");
    }
}
