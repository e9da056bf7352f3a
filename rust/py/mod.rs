//! The only PyO3 code: the `hftws._core` extension module.

mod binance;
mod book;
mod bus;
mod convert;
mod errors;
mod feed;
mod frame;
mod gate;
mod kucoin;
mod metrics;
mod mexc;
mod native;
mod pipeline;
mod router;
mod ws;

use pyo3::prelude::*;

/// The native module, imported by the Python package as `hftws._core`.
#[pymodule(gil_used = true)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<book::PyOrderBook>()?;
    m.add_class::<book::PyBookStatus>()?;
    m.add_class::<metrics::PyHistogram>()?;
    m.add_function(wrap_pyfunction!(convert::parse_decimal, m)?)?;
    m.add_function(wrap_pyfunction!(convert::normalize_decimal, m)?)?;
    m.add_class::<ws::PyOpcode>()?;
    m.add_class::<ws::PyDeflateOffer>()?;
    m.add_class::<ws::PyDeflateParams>()?;
    m.add_class::<ws::PyWebSocketDecoder>()?;
    m.add_class::<ws::PyWebSocketEncoder>()?;
    m.add_function(wrap_pyfunction!(ws::build_handshake_request, m)?)?;
    m.add_function(wrap_pyfunction!(ws::validate_handshake_response, m)?)?;
    mexc::register(m)?;
    gate::register(m)?;
    binance::register(m)?;
    kucoin::register(m)?;
    bus::register(m)?;
    m.add_class::<pipeline::PyStreamDecoder>()?;
    m.add_class::<native::PyNativeFeed>()?;
    m.add_class::<native::PyNativeBook>()?;
    m.add_class::<pipeline::PyBookUpdate>()?;
    m.add_class::<router::PyRouter>()?;
    Ok(())
}
