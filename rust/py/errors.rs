//! Python exceptions, and the single place where core errors become them.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::error::DecimalError;
use crate::gate::GateError;

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
    GateDecodeError,
    DecodeError,
    "A Gate.io frame could not be decoded; `channel`, `field` and `pos` say where."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HftwsError", py.get_type::<HftwsError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("DecimalParseError", py.get_type::<DecimalParseError>())?;
    m.add("GateDecodeError", py.get_type::<GateDecodeError>())?;
    Ok(())
}

impl From<DecimalError> for PyErr {
    fn from(e: DecimalError) -> Self {
        DecimalParseError::new_err(e.to_string())
    }
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
