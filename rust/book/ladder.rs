//! The top of a book side as a price ladder: a dense array of sizes indexed by ticks from an
//! anchor key (`base`), with an occupancy bitmap. A level's slot is computed, not searched
//! for, so an update anywhere in the window touches one slot and moves nothing; the best
//! level is a cached slot, and the next best after a delete is a bitmap scan.
//!
//! The tick is a power of ten `10^exp` of the decimal's raw unit, chosen by the owning side
//! as the largest one that divides every key it holds: exchanges quote on decimal ticks, so
//! a key is placed with a shift and one multiplication (`(key - base) / 10^exp` as a division
//! by `2^exp` and an exact division by `5^exp` through its inverse modulo 2^64).

use crate::decimal::Decimal;

use super::pages::Entry;

/// The largest tick exponent (a tick of 1,000): a window offset `slot * 5^exp` then fits in
/// a u64 for every window width up to 2^13 slots (8,192 * 5^21 < 2^64), which `locate`
/// relies on to treat any larger offset as above the window.
pub(crate) const MAX_EXP: u32 = 21;

/// 5^e, its inverse modulo 2^64 and `u64::MAX / 5^e`: `x * inv <= max` exactly when 5^e
/// divides `x`, and the product is then the quotient (Granlund-Montgomery exact division).
const POW5: [u64; 28] = {
    let mut t = [1u64; 28];
    let mut i = 1;
    while i < 28 {
        t[i] = t[i - 1] * 5;
        i += 1;
    }
    t
};
const INV5: [u64; 28] = {
    let mut t = [1u64; 28];
    let mut i = 0;
    while i < 28 {
        // Newton's iteration doubles the correct low bits: 3 -> 6 -> 12 -> 24 -> 48 -> 96.
        let d = POW5[i];
        let mut x = d;
        let mut k = 0;
        while k < 5 {
            x = x.wrapping_mul(2u64.wrapping_sub(d.wrapping_mul(x)));
            k += 1;
        }
        t[i] = x;
        i += 1;
    }
    t
};
const MAX5: [u64; 28] = {
    let mut t = [0u64; 28];
    let mut i = 0;
    while i < 28 {
        t[i] = u64::MAX / POW5[i];
        i += 1;
    }
    t
};

/// 10^e as i128 for e <= [`MAX_EXP`].
#[inline]
pub(crate) fn tick(exp: u32) -> i128 {
    i128::from(POW5[exp as usize]) << exp
}

/// True when 10^exp divides `key`.
#[inline]
pub(crate) fn on_tick(key: i128, exp: u32) -> bool {
    let a = key.unsigned_abs();
    if a & ((1u128 << exp) - 1) != 0 {
        return false;
    }
    let x = a >> exp;
    match u64::try_from(x) {
        Ok(x) => x.wrapping_mul(INV5[exp as usize]) <= MAX5[exp as usize],
        Err(_) => x % u128::from(POW5[exp as usize]) == 0,
    }
}

/// The largest `e <= cap` such that 10^e divides `key` (`cap` for zero).
pub(crate) fn tick_exp_of(key: i128, cap: u32) -> u32 {
    let mut a = key.unsigned_abs();
    let mut e = 0;
    while e < cap && (a == 0 || a % 10 == 0) {
        a /= 10;
        e += 1;
    }
    e
}

/// Where a key on the ladder's tick falls.
pub(crate) enum Loc {
    /// In the window, at this slot.
    Slot(usize),
    /// Below the window (the deep book).
    Below,
    /// Above the window: above every level of the side.
    Above,
    /// Not a multiple of the tick.
    OffTick,
}

/// The window: `sizes[i]` is the size at key `base + i * 10^exp` when bit `i` is set.
#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    base: i128,
    exp: u32,
    sizes: Vec<Decimal>,
    bits: Vec<u64>,
    n: usize,
    /// The highest occupied slot, when `n > 0`.
    top: usize,
}

impl Ladder {
    /// No window yet (nothing allocated); every key on tick is `Above`.
    pub(crate) fn new() -> Self {
        Self {
            base: 0,
            exp: MAX_EXP,
            sizes: Vec::new(),
            bits: Vec::new(),
            n: 0,
            top: 0,
        }
    }

    pub(crate) fn width(&self) -> usize {
        self.sizes.len()
    }
    pub(crate) fn len(&self) -> usize {
        self.n
    }
    pub(crate) fn exp(&self) -> u32 {
        self.exp
    }
    pub(crate) fn base(&self) -> i128 {
        self.base
    }
    pub(crate) fn top_slot(&self) -> usize {
        self.top
    }

    #[inline]
    pub(crate) fn locate(&self, key: i128) -> Loc {
        let exp = self.exp;
        if !on_tick(key, exp) {
            return Loc::OffTick;
        }
        if key < self.base {
            return Loc::Below;
        }
        // Both are multiples of 10^exp, so the difference divides exactly.
        let diff = (key as u128).wrapping_sub(self.base as u128) >> exp;
        match u64::try_from(diff) {
            Ok(d) => {
                let q = d.wrapping_mul(INV5[exp as usize]);
                if q < self.sizes.len() as u64 {
                    Loc::Slot(q as usize)
                } else {
                    Loc::Above
                }
            }
            Err(_) => Loc::Above,
        }
    }

    #[inline]
    pub(crate) fn key_of(&self, slot: usize) -> i128 {
        self.base + slot as i128 * tick(self.exp)
    }

    #[inline]
    fn is_set(&self, slot: usize) -> bool {
        self.bits[slot >> 6] & (1 << (slot & 63)) != 0
    }

    /// The size at `slot` (zero when empty).
    #[inline]
    pub(crate) fn get(&self, slot: usize) -> Decimal {
        if self.is_set(slot) {
            self.sizes[slot]
        } else {
            Decimal::ZERO
        }
    }

    /// The best level, if any.
    #[inline]
    pub(crate) fn best(&self) -> Option<Entry> {
        (self.n > 0).then(|| Entry {
            key: self.key_of(self.top),
            size: self.sizes[self.top],
        })
    }

    /// Sets a non-zero size at `slot`; true when `slot` is (now) the best.
    #[inline]
    pub(crate) fn put(&mut self, slot: usize, size: Decimal) -> bool {
        let word = &mut self.bits[slot >> 6];
        let m = 1u64 << (slot & 63);
        self.sizes[slot] = size;
        if *word & m != 0 {
            return slot == self.top;
        }
        *word |= m;
        self.n += 1;
        if self.n == 1 || slot > self.top {
            self.top = slot;
            return true;
        }
        false
    }

    /// Empties `slot`; `None` when it was empty, else whether it was the best.
    #[inline]
    pub(crate) fn remove(&mut self, slot: usize) -> Option<bool> {
        let word = &mut self.bits[slot >> 6];
        let m = 1u64 << (slot & 63);
        if *word & m == 0 {
            return None;
        }
        *word &= !m;
        self.n -= 1;
        if slot != self.top {
            return Some(false);
        }
        if self.n > 0 {
            self.top = self.highest_at_or_below(slot).unwrap_or(0);
        }
        Some(true)
    }

    /// The highest occupied slot <= `slot`.
    #[inline]
    pub(crate) fn highest_at_or_below(&self, slot: usize) -> Option<usize> {
        let mut wi = slot >> 6;
        let mut word = self.bits[wi] & (u64::MAX >> (63 - (slot & 63)));
        loop {
            if word != 0 {
                return Some(wi * 64 + 63 - word.leading_zeros() as usize);
            }
            wi = wi.checked_sub(1)?;
            word = self.bits[wi];
        }
    }

    /// The lowest occupied slot.
    pub(crate) fn lowest(&self) -> Option<usize> {
        let wi = self.bits.iter().position(|w| *w != 0)?;
        Some(wi * 64 + self.bits[wi].trailing_zeros() as usize)
    }

    /// Moves every level out, lowest first, and empties the window.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<Entry>) {
        for (wi, &word) in self.bits.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                let slot = wi * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                out.push(Entry {
                    key: self.key_of(slot),
                    size: self.sizes[slot],
                });
            }
        }
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.n = 0;
    }

    /// An empty window of `width` slots (a multiple of 64) starting at `base` (a multiple of
    /// 10^exp); reuses the allocation when the width is unchanged.
    pub(crate) fn reset(&mut self, base: i128, exp: u32, width: usize) {
        debug_assert!(width % 64 == 0 && on_tick(base, exp));
        if self.sizes.len() != width {
            self.sizes = vec![Decimal::ZERO; width];
            self.bits = vec![0; width / 64];
        } else {
            self.bits.iter_mut().for_each(|w| *w = 0);
        }
        self.base = base;
        self.exp = exp;
        self.n = 0;
        self.top = 0;
    }

    /// Frees the window and forgets the tick.
    pub(crate) fn clear(&mut self) {
        *self = Self::new();
    }
}
