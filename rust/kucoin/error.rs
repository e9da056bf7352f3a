//! `KucoinError`: why a KuCoin frame could not be decoded, naming the topic and field.
//!
//! The JSON side reuses the Gate.io scanner and value readers, so a failure is described by
//! the same [`GateErrorKind`]; this type only names the KuCoin topic (or frame `type`).

use std::fmt;

use crate::gate::{GateError, GateErrorKind};
use crate::json::JsonError;

/// A frame that could not be decoded. Boxed (inside [`GateError`]) so results stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KucoinError(GateError);

impl KucoinError {
    /// An error of `kind` at `field`.
    #[cold]
    #[must_use]
    pub fn at(field: &str, pos: usize, kind: GateErrorKind) -> Self {
        Self(GateError::at(field, pos, kind))
    }

    /// A well-typed value that is not allowed (`why` says what).
    #[cold]
    #[must_use]
    pub fn invalid(field: &str, pos: usize, why: &'static str) -> Self {
        Self::at(field, pos, GateErrorKind::Invalid(why))
    }

    /// A repeated key: `json.loads` keeps the last one, which a streaming decoder cannot
    /// honour (levels may already be in the book), so the frame is refused.
    #[cold]
    #[must_use]
    pub fn duplicate(field: &str, pos: usize) -> Self {
        Self(GateError::duplicate(field, pos))
    }

    /// Malformed JSON at `field`.
    #[cold]
    #[must_use]
    pub fn json(field: &str, e: JsonError) -> Self {
        Self(GateError::json(field, e))
    }

    /// Names the topic (or frame type) if it was not known when the error was raised.
    #[must_use]
    pub fn in_topic(self, topic: &str) -> Self {
        Self(self.0.in_channel(topic))
    }

    /// Prefixes the field path (`changes.asks[2]` inside `data` becomes `data.changes...`).
    #[must_use]
    pub fn under(self, parent: &str) -> Self {
        Self(self.0.under(parent))
    }

    /// The topic (or frame type), empty when unknown.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.0.channel
    }

    /// The field path.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.0.field
    }

    /// Byte offset in the frame.
    #[must_use]
    pub fn pos(&self) -> usize {
        self.0.pos
    }

    /// What is wrong.
    #[must_use]
    pub fn kind(&self) -> &GateErrorKind {
        &self.0.kind
    }
}

impl From<GateError> for KucoinError {
    #[cold]
    fn from(e: GateError) -> Self {
        Self(e)
    }
}

impl fmt::Display for KucoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topic = if self.topic().is_empty() {
            "?"
        } else {
            self.topic()
        };
        let field = if self.field().is_empty() {
            "<frame>"
        } else {
            self.field()
        };
        write!(
            f,
            "kucoin {topic}: field {field}: {} (byte {})",
            self.0.kind,
            self.pos()
        )
    }
}

impl std::error::Error for KucoinError {}
