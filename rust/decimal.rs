//! Exact fixed-point decimals for prices and sizes.
//!
//! Exchanges send prices and sizes as decimal strings (`"117145.48"`, `"0.00000000"`). We keep
//! them as an `i128` count of 10^-18 units: every value an exchange sends (at most 18 fractional
//! digits, integer part below 1.7e20) is represented exactly, comparison is one integer compare,
//! and the same representation serves BTC prices, meme-coin prices and futures contract counts,
//! so a book never has to agree on a per-instrument scale before its first message. Values that
//! do not fit are refused with a typed error; nothing is ever rounded.
//!
//! Accepted syntax: optional sign, digits with an optional `.`, optional exponent (`1E-8`), as
//! Python's `decimal.Decimal` reads them. Whitespace, `_`, `NaN` and `Infinity` are refused.

use std::fmt;

use crate::error::{DecimalError, DecimalErrorKind};

/// Fractional digits kept by [`Decimal`].
pub const SCALE: u32 = 18;
const ONE: i128 = 1_000_000_000_000_000_000;

/// An exact decimal: `raw / 10^18`.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(i128);

/// Powers of ten that fit in a u128 (10^0 ..= 10^38).
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(0);
    /// The raw count of one unit (10^18).
    pub const ONE_RAW: i128 = ONE;

    /// Builds a decimal from its raw count of 10^-18 units.
    #[must_use]
    pub const fn from_raw(raw: i128) -> Self {
        Decimal(raw)
    }

    /// The raw count of 10^-18 units.
    #[must_use]
    pub const fn raw(self) -> i128 {
        self.0
    }

    /// An integer value (futures contract counts arrive as JSON integers).
    #[must_use]
    pub const fn from_i64(v: i64) -> Self {
        Decimal(v as i128 * ONE)
    }

    /// True for every spelling of zero (`"0"`, `"0.0"`, `"-0.000"`).
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True when below zero.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The negated value (cannot overflow: the parser never produces `i128::MIN`).
    #[must_use]
    pub const fn neg(self) -> Self {
        Decimal(-self.0)
    }

    /// Parses a decimal string.
    ///
    /// # Errors
    /// [`DecimalError`] carrying the offending text when the input is empty, malformed, out of
    /// range or more precise than 18 fractional digits.
    pub fn parse(s: &str) -> Result<Self, DecimalError> {
        Self::parse_bytes(s.as_bytes())
    }

    /// Parses ASCII bytes (the form decoders see on the wire).
    ///
    /// # Errors
    /// As [`Decimal::parse`].
    #[inline]
    pub fn parse_bytes(b: &[u8]) -> Result<Self, DecimalError> {
        match parse_plain(b) {
            Some(d) => Ok(d),
            None => Self::parse_general(b),
        }
    }

    /// Every syntax the parser accepts: exponents, long zero tails, 128-bit mantissas.
    #[cold]
    fn parse_general(b: &[u8]) -> Result<Self, DecimalError> {
        let err = |kind| Err(DecimalError::new(kind, b));
        if b.is_empty() {
            return err(DecimalErrorKind::Empty);
        }
        let (neg, mut i) = match b[0] {
            b'-' => (true, 1),
            b'+' => (false, 1),
            _ => (false, 0),
        };
        // value = mant * 10^(zeros - frac + exp). Zeros are held back until a non-zero digit
        // follows, so long zero tails ("1.000000000000000000000000") never overflow `mant`.
        let mut mant: u128 = 0;
        // Digits held in `mant`; up to 19 the arithmetic stays in u64, which is what every
        // exchange price and size needs and is several times cheaper than checked u128.
        let mut ndig: u32 = 0;
        let mut zeros: u32 = 0;
        let mut frac: i64 = 0;
        let mut digits = 0usize;
        let mut seen_dot = false;
        while i < b.len() {
            let c = b[i];
            match c {
                b'0'..=b'9' => {
                    digits += 1;
                    if seen_dot {
                        frac += 1;
                    }
                    if c == b'0' {
                        // Leading zeros carry no value; their position is tracked by `frac`.
                        if mant != 0 {
                            zeros = zeros.saturating_add(1);
                        }
                    } else {
                        let need = ndig.saturating_add(zeros).saturating_add(1);
                        if need <= 19 {
                            // mant < 10^ndig and 10^need <= 10^19 < 2^64: no overflow.
                            let m64 = mant as u64 * POW10[zeros as usize + 1] as u64;
                            mant = u128::from(m64 + u64::from(c - b'0'));
                        } else {
                            let Some(m) = POW10
                                .get(zeros as usize + 1)
                                .and_then(|p| mant.checked_mul(*p))
                                .and_then(|m| m.checked_add(u128::from(c - b'0')))
                            else {
                                return err(overflow_or_precision(seen_dot));
                            };
                            mant = m;
                        }
                        ndig = need;
                        zeros = 0;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                b'e' | b'E' => break,
                _ => return err(DecimalErrorKind::Invalid),
            }
            i += 1;
        }
        if digits == 0 {
            return err(DecimalErrorKind::Invalid);
        }
        let mut exp: i64 = 0;
        if i < b.len() {
            // Exponent: [eE][+-]?digits, saturating so a hostile "1e999999999999" stays cheap.
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            if i == b.len() {
                return err(DecimalErrorKind::Invalid);
            }
            while i < b.len() {
                let c = b[i];
                if !c.is_ascii_digit() {
                    return err(DecimalErrorKind::Invalid);
                }
                exp = exp
                    .saturating_mul(10)
                    .saturating_add(i64::from(c - b'0'))
                    .min(1 << 40);
                i += 1;
            }
            if eneg {
                exp = -exp;
            }
        }
        if mant == 0 {
            return Ok(Decimal::ZERO);
        }
        let k = i64::from(zeros) - frac + exp + i64::from(SCALE);
        if k < 0 {
            // `mant` ends in a non-zero digit, so a negative shift always loses digits.
            return err(DecimalErrorKind::TooPrecise);
        }
        if ndig <= 19 && k <= 19 {
            // Both factors are below 10^19, so the product is below 10^38 < i128::MAX.
            let raw = (mant * POW10[k as usize]) as i128;
            return Ok(Decimal(if neg { -raw } else { raw }));
        }
        let Some(raw) = usize::try_from(k)
            .ok()
            .and_then(|k| POW10.get(k))
            .and_then(|p| mant.checked_mul(*p))
            .and_then(|r| i128::try_from(r).ok())
        else {
            return err(DecimalErrorKind::Overflow);
        };
        Ok(Decimal(if neg { -raw } else { raw }))
    }

    /// Writes the canonical form (no exponent, no trailing fractional zeros) into `buf` and
    /// returns it as a string slice. 64 bytes always suffice.
    pub fn write_to(self, buf: &mut [u8; 64]) -> &str {
        let mut n = self.0.unsigned_abs();
        let int = n / ONE as u128;
        n %= ONE as u128;
        let mut pos = buf.len();
        // Fractional digits, least significant first, skipping trailing zeros.
        if n != 0 {
            let mut frac = n;
            let mut width = SCALE;
            while frac != 0 && frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            for _ in 0..width {
                pos -= 1;
                buf[pos] = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            pos -= 1;
            buf[pos] = b'.';
        }
        let mut int = int;
        loop {
            pos -= 1;
            buf[pos] = b'0' + (int % 10) as u8;
            int /= 10;
            if int == 0 {
                break;
            }
        }
        if self.0 < 0 {
            pos -= 1;
            buf[pos] = b'-';
        }
        // SAFETY-free: only ASCII digits, '.', '-' were written.
        std::str::from_utf8(&buf[pos..]).unwrap_or("0")
    }

    /// The nearest `f64` (correctly rounded, like `float(str(d))` in Python).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        if let Some(v) = self.to_f64_fast() {
            return v;
        }
        let mut buf = [0u8; 64];
        self.write_to(&mut buf).parse().unwrap_or(f64::NAN)
    }

    /// Clinger's fast path: when the value is `m / 10^k` with `m < 2^53` and `k <= 18`, both
    /// operands are exact in f64 and one IEEE division rounds correctly. Exchange prices and
    /// sizes (a handful of significant digits) nearly always qualify; others return `None`.
    #[inline]
    fn to_f64_fast(self) -> Option<f64> {
        const POW10_F64: [f64; 19] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18,
        ];
        const POW10_U64: [u64; 19] = {
            let mut t = [1u64; 19];
            let mut i = 1;
            while i < 19 {
                t[i] = t[i - 1] * 10;
                i += 1;
            }
            t
        };
        let m = self.0.unsigned_abs();
        // 10^18 = 2^18 * 5^18 and floor(floor(m / 2^18) / 5^18) = floor(m / 10^18): below
        // 2^82 (values under ~4.8e6) the quotient is a shift and a u64 division by a constant,
        // which compiles to a multiply; larger values pay one 128-bit division.
        const FIVE18: u64 = 3_814_697_265_625;
        let int = if m >> 82 == 0 {
            u128::from((m >> 18) as u64 / FIVE18)
        } else {
            m / ONE as u128
        };
        if int >= 1u128 << 53 {
            return None;
        }
        // `frac < 10^18` and `int < 2^53` fit in u64: the rest is cheap u64 arithmetic.
        let mut frac = (m - int * ONE as u128) as u64;
        let int = int as u64;
        let sign = if self.0 < 0 { -1.0 } else { 1.0 };
        if frac == 0 {
            // Integers below 2^53 convert exactly.
            return Some(sign * int as f64);
        }
        // Strip trailing zeros (at most 17) in binary steps: five constant divisions at most.
        let mut k = SCALE as usize;
        for step in [16usize, 8, 4, 2, 1] {
            if frac % POW10_U64[step] == 0 {
                frac /= POW10_U64[step];
                k -= step;
            }
        }
        let mant = int.checked_mul(POW10_U64[k])?.checked_add(frac)?;
        if mant >= 1u64 << 53 {
            return None;
        }
        Some(sign * (mant as f64 / POW10_F64[k]))
    }
}

/// The shape exchanges actually send (`-?digits(.digits)?`, at most 19 digits, at most 18 of
/// them fractional) parsed in one tight u64 loop; `None` sends anything else to the general
/// parser, which also produces the errors.
#[inline]
fn parse_plain(b: &[u8]) -> Option<Decimal> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut mant: u64 = 0;
    let mut frac_start = None;
    for (i, &c) in digits.iter().enumerate() {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            // Wrapping: a 20-digit input may wrap here, and is refused below.
            mant = mant.wrapping_mul(10).wrapping_add(u64::from(d));
        } else if c == b'.' && frac_start.is_none() {
            frac_start = Some(i + 1);
        } else {
            return None;
        }
    }
    let (ndigits, frac) = match frac_start {
        Some(f) => (digits.len() - 1, digits.len() - f),
        None => (digits.len(), 0),
    };
    // 19 digits always fit in u64; `frac <= 18` keeps the scale factor at most 10^18.
    if ndigits == 0 || ndigits > 19 || frac > SCALE as usize {
        return None;
    }
    let raw = i128::from(mant) * POW10[SCALE as usize - frac] as i128;
    Some(Decimal(if neg { -raw } else { raw }))
}

fn overflow_or_precision(in_fraction: bool) -> DecimalErrorKind {
    if in_fraction {
        DecimalErrorKind::TooPrecise
    } else {
        DecimalErrorKind::Overflow
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        f.write_str(self.write_to(&mut buf))
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl std::str::FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn kind(s: &str) -> DecimalErrorKind {
        Decimal::parse(s).unwrap_err().kind
    }

    #[test]
    fn parses_exchange_prices_exactly() {
        assert_eq!(d("117145.48").raw(), 117_145_480_000_000_000_000_000);
        assert_eq!(d("0.00000001").raw(), 10_000_000_000);
        assert_eq!(d("-250").raw(), -250 * ONE);
        assert_eq!(d("1.5").to_string(), "1.5");
        assert_eq!(d("0.51200000").to_string(), "0.512");
        assert_eq!(d(".5"), d("0.5"));
        assert_eq!(d("5."), d("5"));
    }

    #[test]
    fn all_spellings_of_zero_are_zero() {
        for z in ["0", "0.0", "0.00000000", "-0", "+0.000", "0e10", "000.000"] {
            assert!(d(z).is_zero(), "{z}");
        }
        assert_eq!(d("0.00000000").to_string(), "0");
    }

    #[test]
    fn exponent_is_handled_exactly() {
        assert_eq!(d("1E-8"), d("0.00000001"));
        assert_eq!(d("1.25e2"), d("125"));
        assert_eq!(d("12500e-2"), d("125"));
        assert_eq!(kind("1e-19"), DecimalErrorKind::TooPrecise);
        assert_eq!(kind("1e21"), DecimalErrorKind::Overflow);
        assert_eq!(kind("1e999999999999999999999"), DecimalErrorKind::Overflow);
        assert!(d("0e999999999999999999").is_zero());
    }

    #[test]
    fn long_zero_tails_are_exact() {
        assert_eq!(d("1.0000000000000000000000000000000000000000000"), d("1"));
        assert_eq!(d("0.000000000000000001000000000000"), Decimal::from_raw(1));
        assert_eq!(
            d("0000000000000000000000000000000000000000000042.5"),
            d("42.5")
        );
    }

    #[test]
    fn rejects_malformed_input_with_the_text() {
        assert_eq!(kind(""), DecimalErrorKind::Empty);
        for bad in [
            "1.2.3", "abc", "-", ".", "1e", "1e+", "1 ", " 1", "NaN", "inf", "1_0", "--1",
        ] {
            let e = Decimal::parse(bad).unwrap_err();
            assert_eq!(e.kind, DecimalErrorKind::Invalid, "{bad}");
            assert_eq!(e.text, bad);
        }
        assert_eq!(kind("0.0000000000000000001"), DecimalErrorKind::TooPrecise);
        assert_eq!(kind("200000000000000000000"), DecimalErrorKind::Overflow);
        assert_eq!(
            kind("99999999999999999999999999999999999999999"),
            DecimalErrorKind::Overflow
        );
    }

    #[test]
    fn largest_values_round_trip() {
        let max = "170141183460469231731.687303715884105726";
        assert_eq!(d(max).to_string(), max);
        assert_eq!(d(&format!("-{max}")).to_string(), format!("-{max}"));
        assert_eq!(
            kind("170141183460469231731.687303715884105728"),
            DecimalErrorKind::Overflow
        );
    }

    #[test]
    fn float_view_is_correctly_rounded() {
        for s in [
            "117145.48",
            "0.1",
            "0.3",
            "1e-8",
            "123456789.123456789",
            "-2.5",
            "7",
        ] {
            let want: f64 = s.parse().unwrap();
            assert_eq!(d(s).to_f64(), want, "{s}");
        }
    }

    #[test]
    fn fast_float_path_matches_the_string_path() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 17) as u32;
            let frac = (x >> 8) % 19;
            let m = (x >> 16) % 10u64.pow(digits);
            let s = format!("{}{}e-{frac}", if x & 1 == 1 { "-" } else { "" }, m);
            let v = d(&s);
            let mut buf = [0u8; 64];
            let want: f64 = v.write_to(&mut buf).parse().unwrap();
            assert_eq!(v.to_f64(), want, "{s}");
        }
        for s in [
            "9007199254740993",
            "-9007199254740993",
            "123456789012345678901",
            "0.1",
            "60000.1",
        ] {
            assert_eq!(d(s).to_f64(), s.parse::<f64>().unwrap(), "{s}");
        }
    }

    #[test]
    fn order_is_numeric_not_textual() {
        assert!(d("9.5") < d("10"));
        assert!(d("-1") < d("0.0001"));
        assert_eq!(d("1.10"), d("1.1"));
    }

    #[test]
    fn fast_float_path_matches_the_string_round_trip() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..50_000u64 {
            let digits = 1 + next() % 19;
            let m = next() % 10u64.pow(digits.min(19) as u32);
            let frac = next() % 19;
            let neg = i % 3 == 0;
            let raw = i128::from(m) * 10i128.pow((18 - frac) as u32);
            let x = Decimal::from_raw(if neg { -raw } else { raw });
            let mut buf = [0u8; 64];
            let want: f64 = x.write_to(&mut buf).parse().unwrap();
            assert_eq!(x.to_f64().to_bits(), want.to_bits(), "{x}");
        }
    }

    #[test]
    fn plain_fast_path_agrees_with_the_general_parser() {
        let fixed = [
            "0",
            "00",
            "0.0",
            "1.",
            ".5",
            ".",
            "",
            "117145.50",
            "0.00000000",
            "1.000000000000000001",
            "1.0000000000000000001",
            "9999999999999999999",
            "99999999999999999999",
            "170141183460469231731",
            "0.000000000000000001",
            "1e5",
            "-1",
            "+1",
            "1..2",
            "1.2.3",
            "١",
            "12x",
            "000000000000000000001.5",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rand = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"0123456789.0123456789.e-";
        let mut cases: Vec<String> = fixed.iter().map(|s| (*s).to_owned()).collect();
        for _ in 0..50_000 {
            let n = (rand() % 24) as usize;
            let s: String = (0..n)
                .map(|_| alphabet[(rand() % alphabet.len() as u64) as usize] as char)
                .collect();
            cases.push(s);
        }
        for s in &cases {
            let general = Decimal::parse_general(s.as_bytes()).ok();
            if let Some(fast) = parse_plain(s.as_bytes()) {
                assert_eq!(Some(fast), general, "{s:?}");
            }
            assert_eq!(Decimal::parse_bytes(s.as_bytes()).ok(), general, "{s:?}");
        }
    }
}
