from __future__ import annotations

import pytest

import ocireg
from ocireg import errors


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (errors.InvalidReferenceError, ValueError),
        (errors.InvalidDigestError, ValueError),
        (errors.NotFoundError, errors.RegistryError),
        (errors.DeniedError, errors.RegistryError),
        (errors.UnsupportedError, errors.RegistryError),
        (errors.TooManyRequestsError, errors.RegistryError),
        (errors.RegistryError, errors.OciregError),
        (errors.DigestMismatchError, errors.OciregError),
        (errors.TransportError, errors.OciregError),
        (errors.PluginError, errors.OciregError),
        (errors.AuthenticationError, errors.OciregError),
    ],
    ids=lambda c: c.__name__,
)
def test_exception_tree(cls: type, parent: type) -> None:
    assert issubclass(cls, parent)


def test_every_error_is_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name.endswith("Error"):
            assert name in doc, name


def test_registry_error_exposes_first_code_and_temporariness() -> None:
    err = errors.TooManyRequestsError(
        "slow down",
        status=429,
        retry_after=3.0,
        errors=(errors.RegistryErrorDetail("TOOMANYREQUESTS", "rate"),),
    )
    assert err.code == "TOOMANYREQUESTS"
    assert err.temporary
    assert err.retry_after == 3.0
    assert not errors.NotFoundError("x", status=404).temporary


def test_public_api_is_curated() -> None:
    for name in ocireg.__all__:
        assert hasattr(ocireg, name), name
    assert sorted(ocireg.__all__) == list(ocireg.__all__)
