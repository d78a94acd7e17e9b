"""Shared test set-up: the hypothesis profiles of the fuzz and property tests.

``ci`` (the default) is derandomized with few examples: the same examples every run, and
all ``tests/test_fuzz_*.py`` together in under 2 minutes on 2 cores. ``long`` (select it
with ``VPP_FUZZ=long``) draws many more, random examples: run it by hand or nightly
(``docs/testing.md``). A test's own ``@settings`` (``max_examples``) scales with the
profile through :func:`fuzz_harness.examples`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

# ci: no shrinking, so that a failing run stays within its time too (the failing example
# is printed as found; reproduce and shrink it with VPP_FUZZ=long and the printed blob)
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
settings.register_profile(
    "long", derandomize=False, deadline=None, print_blob=True, suppress_health_check=_SLOW_OK
)
settings.load_profile("long" if os.environ.get("VPP_FUZZ") == "long" else "ci")
