"""The fakes' own tests: loopback only."""

from __future__ import annotations

from ocireg_fakes.fixtures import fake_registry, loopback_only  # noqa: F401
