//! Decimal digits to the nearest `f64` (ties to even), as JavaScript's `JSON.parse` and Rust's
//! `str::parse` read them.
//!
//! Why not serde_json's reading: it multiplies the first 19 digits by a rounded power of ten,
//! which is one unit in the last place off for about one running sum of prices in eleven
//! (`918.8899999999999` read back as `918.89`), so a profile's numbers changed each time it went
//! through storage. Why not `str::parse`: its tables cost about 10 KB of the SDK's Wasm.
//!
//! How: an estimate from the first 19 digits and exact powers of ten (exact itself, and the
//! answer, when the digits and the power are small enough: most numbers stop there), then
//! corrected one step at a time by comparing the decimal value, exactly in big integers, with
//! the halfway points between the estimate and its neighbours. No tables; the slow path costs
//! about a third of a microsecond.

use std::cmp::Ordering;

/// Significant digits kept: a value halfway between two `f64`s has at most 767, so those past
/// 800 only ever say "a little more" (`Digits::more`).
const MAX_DIGITS: usize = 800;

/// The powers of ten an `f64` holds exactly.
const EXACT: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// A decimal `0.d1d2d3… × 10^point`, its digits without leading or trailing zeros.
struct Digits {
    digits: Vec<u8>,
    /// Where the decimal point goes: the value is `digits × 10^(point - digits.len())`.
    point: i64,
    /// Whether non-zero digits past `MAX_DIGITS` were dropped.
    more: bool,
}

/// An exponent's ASCII digits as a power of ten; past a billion it only means zero or too large,
/// so it stops there.
pub(crate) fn exponent(digits: &[u8], negative: bool) -> i64 {
    let n = digits.iter().fold(0i64, |n, &d| (n * 10 + i64::from(d - b'0')).min(1_000_000_000));
    if negative {
        -n
    } else {
        n
    }
}

/// The nearest `f64` to `int.frac × 10^exp` (ASCII digits), `None` when it is past `f64::MAX`.
pub(crate) fn to_f64(int: &[u8], frac: &[u8], exp: i64) -> Option<f64> {
    let Some(d) = Digits::new(int, frac, exp) else { return Some(0.0) };
    // Past every f64 at either end: 10^(point-1) ≤ value < 10^point.
    if d.point > 310 {
        return None;
    }
    if d.point < -330 {
        return Some(0.0);
    }
    let scale = d.point - d.digits.len() as i64;
    let mut f = d.estimate(scale);
    if d.digits.len() <= 15 && !d.more && scale.unsigned_abs() <= 22 {
        // An exact integer below 2^53 and an exact power: one rounding, the right one.
        return Some(f);
    }
    if f.is_infinite() {
        f = f64::MAX;
    }
    let exact = Exact::new(&d, scale);
    // Each step moves one unit in the last place; the estimate is within a few.
    for _ in 0..256 {
        match exact.compare(f) {
            Ordering::Greater => f = f.next_up(),
            Ordering::Less => f = f.next_down(),
            Ordering::Equal => return Some(f),
        }
        if f.is_infinite() {
            // Rounds past f64::MAX.
            return None;
        }
    }
    // Unreachable: the estimate is a few steps off at most (the tests and fuzzers check).
    debug_assert!(false, "no nearest f64 within 256 steps");
    Some(f)
}

impl Digits {
    /// `None` when every digit is zero.
    fn new(int: &[u8], frac: &[u8], exp: i64) -> Option<Digits> {
        // One pass (iterator chains over the two parts cost more code than this loop).
        let (mut digits, mut zeros, mut read, mut leading, mut more) =
            (Vec::new(), 0usize, 0usize, None, false);
        for part in [int, frac] {
            for &b in part {
                read += 1;
                if b == b'0' {
                    zeros += 1;
                    continue;
                }
                if leading.is_none() {
                    leading = Some(read - 1);
                    zeros = 0;
                }
                // Zeros between significant digits are kept; trailing ones never are.
                digits.resize((digits.len() + zeros).min(MAX_DIGITS), 0);
                zeros = 0;
                if digits.len() < MAX_DIGITS {
                    digits.push(b - b'0');
                } else {
                    more = true;
                }
            }
        }
        let point = exp.saturating_add(int.len() as i64 - leading? as i64);
        Some(Digits { digits, point, more })
    }

    /// The first 19 digits scaled by exact powers of ten: within a few units in the last
    /// place, and exact for up to 15 digits and a power up to 22.
    fn estimate(&self, scale: i64) -> f64 {
        let first = self.digits.len().min(19);
        let mut f = self.digits.iter().take(first).fold(0u64, |n, &d| n * 10 + u64::from(d)) as f64;
        let mut power = scale + (self.digits.len() - first) as i64;
        while power != 0 && f != 0.0 && f.is_finite() {
            let step = power.clamp(-22, 22);
            let pow = EXACT.get(step.unsigned_abs() as usize).copied().unwrap_or(1.0);
            f = if step > 0 { f * pow } else { f / pow };
            power -= step;
        }
        f
    }
}

/// The decimal as a big integer, `digits × 10^scale` with the power of ten on whichever side
/// of a comparison keeps both sides integers.
struct Exact {
    /// `digits × 10^max(scale, 0)`.
    value: Big,
    scale: i64,
    /// Whether digits were dropped (see `Digits::more`).
    more: bool,
}

impl Exact {
    fn new(d: &Digits, scale: i64) -> Exact {
        let mut value = Big::from_digits(&d.digits);
        if scale > 0 {
            value.mul_pow10(scale as u64);
        }
        Exact { value, scale, more: d.more }
    }

    /// Whether the value is above `f`'s rounding interval (`Greater`), below it (`Less`) or in
    /// it (`Equal`): between the halfway points to its neighbours, a halfway point itself
    /// belonging to whichever side has the even mantissa.
    fn compare(&self, f: f64) -> Ordering {
        let (m, _) = parts(f);
        match self.against_half_above(f) {
            Ordering::Greater => return Ordering::Greater,
            Ordering::Equal if m % 2 == 1 => return Ordering::Greater,
            _ => {}
        }
        if f == 0.0 {
            return Ordering::Equal;
        }
        match self.against_half_above(f.next_down()) {
            Ordering::Less => Ordering::Less,
            Ordering::Equal if m % 2 == 1 => Ordering::Less,
            _ => Ordering::Equal,
        }
    }

    /// The value against the point halfway between `f` (finite, ≥ 0) and the next `f64` up,
    /// `(2m + 1) × 2^(e - 1)`, exactly: both sides scaled to integers.
    fn against_half_above(&self, f: f64) -> Ordering {
        let (m, e) = parts(f);
        let mut value = self.value.clone();
        let mut half = Big::from_u64(2 * m + 1);
        if self.scale < 0 {
            half.mul_pow10(self.scale.unsigned_abs());
        }
        if e > 0 {
            half.shl((e - 1) as u64);
        } else {
            value.shl((1 - e) as u64);
        }
        match value.cmp(&half) {
            // Dropped digits make the value a little more than its kept digits.
            Ordering::Equal if self.more => Ordering::Greater,
            order => order,
        }
    }
}

/// `f = m × 2^e` with `m` an integer (`f` finite and ≥ 0).
fn parts(f: f64) -> (u64, i64) {
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    match biased {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, biased - 1075),
    }
}

/// Limbs enough for any comparison here: at most 800 digits scaled by 2^1075, or 10^1130 by
/// 2^54 (about 3,810 bits).
const LIMBS: usize = 128;

/// A non-negative big integer, 32-bit limbs from the least significant, on the stack (a number
/// needing the slow path is compared a few times; allocating each time was most of its cost).
#[derive(Clone)]
struct Big {
    limbs: [u32; LIMBS],
    len: usize,
}

impl Big {
    fn from_u64(n: u64) -> Big {
        let mut big = Big { limbs: [0; LIMBS], len: 2 };
        big.limbs[0] = n as u32;
        big.limbs[1] = (n >> 32) as u32;
        big
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut big = Big { limbs: [0; LIMBS], len: 0 };
        for chunk in digits.chunks(9) {
            let n = chunk.iter().fold(0u32, |n, &d| n * 10 + u32::from(d));
            big.mul_add(10u32.pow(chunk.len() as u32), n);
        }
        big
    }

    /// `self × by + add`. Past `LIMBS` the carry is dropped: the bounds above keep it from
    /// happening.
    fn mul_add(&mut self, by: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in self.limbs.iter_mut().take(self.len) {
            let x = u64::from(*limb) * u64::from(by) + carry;
            *limb = x as u32;
            carry = x >> 32;
        }
        if carry > 0 && self.len < LIMBS {
            self.limbs[self.len] = carry as u32;
            self.len += 1;
        }
    }

    fn mul_pow10(&mut self, mut n: u64) {
        while n > 0 {
            let step = n.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            n -= step;
        }
    }

    fn shl(&mut self, bits: u64) {
        let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        if bits > 0 {
            let mut carry = 0;
            for limb in self.limbs.iter_mut().take(self.len) {
                let x = (*limb << bits) | carry;
                carry = *limb >> (32 - bits);
                *limb = x;
            }
            if carry > 0 && self.len < LIMBS {
                self.limbs[self.len] = carry;
                self.len += 1;
            }
        }
        let len = (self.len + limbs).min(LIMBS);
        self.limbs.copy_within(0..len - limbs.min(len), limbs.min(len));
        self.limbs[..limbs.min(len)].fill(0);
        self.len = len;
    }

    fn cmp(&self, other: &Big) -> Ordering {
        let significant = |b: &Big| b.limbs.iter().take(b.len).rposition(|&l| l != 0).map_or(0, |i| i + 1);
        let (a, b) = (significant(self), significant(other));
        if a != b {
            return a.cmp(&b);
        }
        // Equal lengths: the most significant limb that differs decides.
        let mut i = a;
        while i > 0 {
            i -= 1;
            let (x, y) = (self.limbs.get(i), other.limbs.get(i));
            if x != y {
                return x.cmp(&y);
            }
        }
        Ordering::Equal
    }
}
