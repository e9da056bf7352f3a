//! Pushes held for a book that waits for its snapshot.
//!
//! A REST snapshot can only be aligned with the stream if the pushes that arrived while it was
//! being fetched are kept (`docs`: MEXC and Gate.io "how to keep a local book"): they are
//! replayed through the book's own sequence rules once the snapshot is loaded. The buffer is
//! bounded in frames and bytes; past either bound the oldest frames go first (the newest ones
//! are the ones that can still bridge a fresh snapshot) and the drops are counted.

use std::collections::VecDeque;

/// Raw depth payloads waiting for a snapshot, oldest first.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    frames: VecDeque<Box<[u8]>>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    /// Frames discarded because a bound was reached.
    pub dropped: u64,
    /// Frames ever buffered.
    pub buffered: u64,
}

impl Pending {
    /// A buffer holding at most `max_frames` frames and `max_bytes` payload bytes; zero frames
    /// disables buffering (a book driven by hand has no stream to wait for).
    #[must_use]
    pub fn new(max_frames: usize, max_bytes: usize) -> Self {
        Self {
            max_frames,
            max_bytes,
            ..Self::default()
        }
    }

    /// Whether pushes are kept at all.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.max_frames > 0
    }

    /// Keeps a copy of `payload`, dropping the oldest frames past the bounds.
    pub fn push(&mut self, payload: &[u8]) {
        if !self.enabled() {
            return;
        }
        while !self.frames.is_empty()
            && (self.frames.len() >= self.max_frames || self.bytes + payload.len() > self.max_bytes)
        {
            if let Some(old) = self.frames.pop_front() {
                self.bytes -= old.len();
                self.dropped += 1;
            }
        }
        self.bytes += payload.len();
        self.buffered += 1;
        self.frames.push_back(payload.into());
    }

    /// Takes every held frame, oldest first, leaving the buffer empty.
    pub fn take(&mut self) -> VecDeque<Box<[u8]>> {
        self.bytes = 0;
        std::mem::take(&mut self.frames)
    }

    /// Forgets every held frame (a reconnect breaks the stream they came from).
    pub fn clear(&mut self) {
        self.frames.clear();
        self.bytes = 0;
    }

    /// Frames held now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when nothing is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_by_default_and_bounded_when_enabled() {
        let mut off = Pending::default();
        off.push(b"x");
        assert!(off.is_empty());

        let mut p = Pending::new(3, 1 << 20);
        for i in 0..5u8 {
            p.push(&[i]);
        }
        assert_eq!(p.len(), 3);
        assert_eq!(p.dropped, 2);
        let kept: Vec<u8> = p.take().iter().map(|f| f[0]).collect();
        assert_eq!(kept, vec![2, 3, 4], "the newest frames are kept");
        assert!(p.is_empty());
    }

    #[test]
    fn byte_bound_drops_the_oldest() {
        let mut p = Pending::new(100, 10);
        p.push(&[0; 6]);
        p.push(&[1; 6]);
        assert_eq!(p.len(), 1);
        assert_eq!(p.dropped, 1);
        assert_eq!(p.take()[0][0], 1);
    }
}
