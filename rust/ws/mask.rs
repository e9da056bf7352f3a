//! Client frame masking (RFC 6455 §5.3): the XOR itself and the source of mask keys.
//!
//! The XOR runs eight bytes at a time on a `u64` built from the key repeated twice; LLVM
//! vectorises the loop, so masking costs a small fraction of a memcpy. Keys must be
//! unpredictable to the application (§10.3), so they come from the operating system's CSPRNG
//! via `getrandom`, fetched in blocks so one syscall serves many frames.

use super::error::{WsError, WsErrorKind};

/// XORs `buf` with `mask`, as if `buf` started at payload offset 0.
#[inline]
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    // Every full chunk is 8 bytes, a multiple of 4, so the tail starts at key index 0.
    for (b, m) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *b ^= *m;
    }
}

/// Writes `src` XOR `mask` into `dst` (same length) in one pass: copy and mask together.
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let mut w = [0u8; 8];
        w.copy_from_slice(sc);
        dc.copy_from_slice(&(u64::from_ne_bytes(w) ^ word).to_ne_bytes());
    }
    for ((db, sb), m) in d
        .into_remainder()
        .iter_mut()
        .zip(s.remainder())
        .zip(mask.iter().cycle())
    {
        *db = *sb ^ *m;
    }
}

/// Hands out 4-byte mask keys from OS randomness, refilling a block at a time.
pub struct MaskSource {
    block: [u8; 256],
    pos: usize,
}

impl Default for MaskSource {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskSource {
    /// An empty source; the first key triggers the first fill.
    pub fn new() -> Self {
        Self {
            block: [0; 256],
            pos: 256,
        }
    }

    /// The next mask key.
    #[inline]
    pub fn next_key(&mut self) -> Result<[u8; 4], WsError> {
        if self.pos + 4 > self.block.len() {
            fill_random(&mut self.block)?;
            self.pos = 0;
        }
        let mut k = [0u8; 4];
        k.copy_from_slice(&self.block[self.pos..self.pos + 4]);
        self.pos += 4;
        Ok(k)
    }
}

/// Fills `buf` from the OS CSPRNG.
pub fn fill_random(buf: &mut [u8]) -> Result<(), WsError> {
    getrandom::fill(buf).map_err(|e| {
        WsError::new(
            WsErrorKind::RandomUnavailable,
            format!("OS random source failed: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], mask: [u8; 4]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
    }

    #[test]
    fn word_masking_matches_bytewise_xor_for_all_tail_lengths() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        for len in 0..70 {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, mask);
            naive(&mut slow, mask);
            assert_eq!(fast, slow, "len {len}");
            apply_mask(&mut fast, mask);
            assert_eq!(fast, data, "masking twice restores len {len}");
        }
    }

    #[test]
    fn mask_into_matches_in_place_masking() {
        let mask = [0xA1, 0x02, 0xF3, 0x44];
        for len in 0..70 {
            let src: Vec<u8> = (0..len).map(|i| (i * 13 + 1) as u8).collect();
            let mut want = src.clone();
            apply_mask(&mut want, mask);
            let mut got = vec![0u8; len];
            mask_into(&mut got, &src, mask);
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn mask_keys_vary_across_block_refills() {
        let mut src = MaskSource::new();
        let keys: Vec<[u8; 4]> = (0..200).map(|_| src.next_key().unwrap()).collect();
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        // 200 draws of 32 random bits: a collision is astronomically unlikely.
        assert!(distinct.len() >= 199);
    }
}
