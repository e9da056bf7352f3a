//! Python exceptions, and the single place where core errors become them.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::error::DecimalError;
use crate::mexc::MexcError;

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
    MexcDecodeError,
    DecodeError,
    "A MEXC frame could not be decoded; the message names the schema field."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HftwsError", py.get_type::<HftwsError>())?;
    m.add("DecodeError", py.get_type::<DecodeError>())?;
    m.add("DecimalParseError", py.get_type::<DecimalParseError>())?;
    m.add("MexcDecodeError", py.get_type::<MexcDecodeError>())?;
    Ok(())
}

impl From<DecimalError> for PyErr {
    fn from(e: DecimalError) -> Self {
        DecimalParseError::new_err(e.to_string())
    }
}

impl From<MexcError> for PyErr {
    fn from(e: MexcError) -> Self {
        MexcDecodeError::new_err(e.to_string())
    }
}
