"""Authentication: challenge parsing, credentials, scopes and the token flow."""

from __future__ import annotations

from .challenge import Challenge, parse_challenges

__all__ = ["Challenge", "parse_challenges"]
