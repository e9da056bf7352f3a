//! `hftws.LatencyHistogram`: nanosecond latency histogram recorded from Python.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::metrics::Histogram;

/// Log-linear latency histogram (ns): p50/p99/p99.9/max with about 3% resolution.
#[pyclass(name = "LatencyHistogram", module = "hftws")]
#[derive(Default)]
pub(crate) struct PyHistogram {
    h: Histogram,
}

impl PyHistogram {
    /// Records one value from Rust (the router's per-read stage timings).
    #[inline]
    pub(crate) fn record_ns(&mut self, ns: i64) {
        self.h.record(ns.max(0) as u64);
    }
}

#[pymethods]
impl PyHistogram {
    #[new]
    fn new() -> Self {
        Self::default()
    }
    /// Records one value in nanoseconds (negative values count as zero).
    fn record(&mut self, ns: i64) {
        self.h.record(ns.max(0) as u64);
    }
    /// Records several values.
    fn record_many(&mut self, values: Vec<i64>) {
        for v in values {
            self.h.record(v.max(0) as u64);
        }
    }
    /// Value at quantile `q` in [0, 1].
    fn quantile(&self, q: f64) -> u64 {
        self.h.quantile(q)
    }
    /// Adds every value of `other`.
    fn merge(&mut self, other: PyRef<'_, PyHistogram>) {
        self.h.merge(&other.h);
    }
    /// Forgets every value.
    fn reset(&mut self) {
        self.h.reset();
    }
    #[getter]
    fn count(&self) -> u64 {
        self.h.count()
    }
    #[getter]
    fn min(&self) -> u64 {
        self.h.min()
    }
    #[getter]
    fn max(&self) -> u64 {
        self.h.max()
    }
    #[getter]
    fn mean(&self) -> f64 {
        self.h.mean()
    }
    /// `{"count", "min", "mean", "p50", "p99", "p99.9", "max"}` in nanoseconds.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("count", self.h.count())?;
        d.set_item("min", self.h.min())?;
        d.set_item("mean", self.h.mean())?;
        d.set_item("p50", self.h.quantile(0.5))?;
        d.set_item("p99", self.h.quantile(0.99))?;
        d.set_item("p99.9", self.h.quantile(0.999))?;
        d.set_item("max", self.h.max())?;
        Ok(d)
    }
    fn __len__(&self) -> usize {
        self.h.count() as usize
    }
    fn __repr__(&self) -> String {
        format!(
            "LatencyHistogram(count={}, p50={}ns, p99={}ns, max={}ns)",
            self.h.count(),
            self.h.quantile(0.5),
            self.h.quantile(0.99),
            self.h.max()
        )
    }
}
