"""Helpers for tests, benchmarks and local exchange simulators (not used at run time)."""
