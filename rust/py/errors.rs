//! Python exceptions, and the single place where core errors become them.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

use crate::error::DecimalError;
use crate::feed::DepthError;
use crate::gate::GateError;
use crate::mexc::MexcError;
use crate::ws::{WsError, WsErrorKind};

create_exception!(
    hftws,
    HftwsError,
    PyException,
    "Base class of every hftws error."
);
create_exception!(
    hftws,
    DecodeError,
    HftwsError,
    "Bytes from the network could not be decoded."
);
create_exception!(
    hftws,
    DecimalParseError,
    DecodeError,
    "A price or size is not an exact decimal in the supported range."
);
create_exception!(
    hftws,
    ProtocolError,
    HftwsError,
    "The WebSocket peer broke RFC 6455/7692; `close_code` is the code to close with."
);
create_exception!(
    hftws,
    HandshakeError,
    ProtocolError,
    "The server's HTTP upgrade response was refused."
);

create_exception!(
    hftws,
    MexcDecodeError,
    DecodeError,
    "A MEXC frame could not be decoded; the message names the schema field."
);

create_exception!(
    hftws,
    GateDecodeError,
    DecodeError,
    "A Gate.io frame could not be decoded; `channel`, `field` and `pos` say where."
);

create_exception!(
    hftws,
    BinanceDecodeError,
    DecodeError,
    "A Binance frame could not be decoded; `stream`, `field` and `pos` say where."
);

create_exception!(
    hftws,
    KucoinDecodeError,
    DecodeError,
    "A KuCoin frame could not be decoded; `topic`, `field` and `pos` say where."
);

create_exception!(
    hftws,
    BusDecodeError,
    DecodeError,
    "A bus message could not be read; `field` and `pos` say where."
);

/// A `BusDecodeError` carrying `field` and `pos` attributes.
pub(crate) fn bus_error(py: Python<'_>, e: &crate::bus::BusError) -> PyErr {
    let err = BusDecodeError::new_err(e.to_string());
    let value = err.value(py);
    // As for `gate_error`: attribute assignment on a fresh exception cannot fail in practice.
    let _ = value.setattr("field", e.field);
    let _ = value.setattr("pos", e.pos);
    err
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HftwsError", py.get_type::<HftwsError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("DecimalParseError", py.get_type::<DecimalParseError>())?;
    m.add("ProtocolError", py.get_type::<ProtocolError>())?;
    m.add("HandshakeError", py.get_type::<HandshakeError>())?;
    m.add("MexcDecodeError", py.get_type::<MexcDecodeError>())?;
    m.add("GateDecodeError", py.get_type::<GateDecodeError>())?;
    m.add("BinanceDecodeError", py.get_type::<BinanceDecodeError>())?;
    m.add("KucoinDecodeError", py.get_type::<KucoinDecodeError>())?;
    m.add("BusDecodeError", py.get_type::<BusDecodeError>())?;
    Ok(())
}

impl From<DecimalError> for PyErr {
    fn from(e: DecimalError) -> Self {
        DecimalParseError::new_err(e.to_string())
    }
}

/// `ProtocolError`/`HandshakeError` with `close_code` and `kind` attributes; misuse of the
/// encoder or handshake builder (`InvalidInput`) is a `ValueError`.
pub(crate) fn ws_error(py: Python<'_>, e: &WsError) -> PyErr {
    let err = match e.kind {
        WsErrorKind::InvalidInput => return PyValueError::new_err(e.detail.clone()),
        WsErrorKind::Handshake => HandshakeError::new_err(e.to_string()),
        _ => ProtocolError::new_err(e.to_string()),
    };
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail short of MemoryError;
    // if it does, the exception is still raised, only without the extra attributes.
    let _ = value.setattr("close_code", e.close_code);
    let _ = value.setattr("kind", e.kind.name());
    let _ = value.setattr("messages", pyo3::types::PyList::empty(py));
    err
}

impl From<WsError> for PyErr {
    fn from(e: WsError) -> Self {
        Python::attach(|py| ws_error(py, &e))
    }
}

impl From<MexcError> for PyErr {
    fn from(e: MexcError) -> Self {
        MexcDecodeError::new_err(e.to_string())
    }
}

/// A `BinanceDecodeError` carrying `stream`, `field` and `pos` attributes.
pub(crate) fn binance_error(py: Python<'_>, e: &crate::binance::BinanceError) -> PyErr {
    let err = BinanceDecodeError::new_err(e.to_string());
    let value = err.value(py);
    // As for `gate_error`: attribute assignment on a fresh exception cannot fail in practice.
    let _ = value.setattr("stream", e.stream.as_str());
    let _ = value.setattr("field", e.field.as_str());
    let _ = value.setattr("pos", e.pos);
    err
}

/// A `KucoinDecodeError` carrying `topic`, `field` and `pos` attributes.
pub(crate) fn kucoin_error(py: Python<'_>, e: &crate::kucoin::KucoinError) -> PyErr {
    let err = KucoinDecodeError::new_err(e.to_string());
    let value = err.value(py);
    // As for `gate_error`: attribute assignment on a fresh exception cannot fail in practice.
    let _ = value.setattr("topic", e.topic());
    let _ = value.setattr("field", e.field());
    let _ = value.setattr("pos", e.pos());
    err
}

/// A `GateDecodeError` carrying `channel`, `field` and `pos` attributes.
pub(crate) fn gate_error(py: Python<'_>, e: &GateError) -> PyErr {
    let err = GateDecodeError::new_err(e.to_string());
    let value = err.value(py);
    // Attribute assignment on a fresh exception instance cannot fail in practice; if it
    // did, the message still names channel and field.
    let _ = value.setattr("channel", e.channel.as_str());
    let _ = value.setattr("field", e.field.as_str());
    let _ = value.setattr("pos", e.pos);
    err
}

/// A malformed depth push, raised as its exchange's decode error.
pub(crate) fn depth_error(py: Python<'_>, e: &DepthError) -> PyErr {
    match e {
        DepthError::Gate(e) => gate_error(py, e),
        DepthError::Mexc(e) => e.clone().into(),
        DepthError::Binance(e) => binance_error(py, e),
        DepthError::Kucoin(e) => kucoin_error(py, e),
    }
}
