"""Shared pytest configuration.

Hypothesis runs a thorough profile in CI (``CI`` set, or ``HYPOTHESIS_PROFILE=ci``) and a
quick one in the inner loop, so the default local run stays fast on two cores.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# Local exchange servers (mexc_server, gate_spot_server, gate_futures_server fixtures).
pytest_plugins = ["hftws.testing.fixtures"]
