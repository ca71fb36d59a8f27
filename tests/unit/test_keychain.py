"""The keychain: provider order, caching for as long as a credential lives, failing providers
named without their secrets, and ``explain``."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pluggy
import pytest

from ocireg import BasicCredentials, IdentityToken, PluginError, RegistryToken, hookimpl
from ocireg.auth.keychain import EXPIRY_MARGIN, Keychain
from ocireg.hookspecs import PROJECT
from ocireg.plugins import get_plugin_manager
from tests.fixtures.isolation import isolated_credentials

SECRET = "hunter2-very-secret"
HOST = "registry.example:5000"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Provider:
    """Answers every registry with what ``answer`` returns, counting the questions."""

    def __init__(self, answer: Any = None, *, only: str | None = None) -> None:
        self.answer = answer
        self.only = only
        self.calls: list[tuple[str, str | None]] = []

    @hookimpl
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
        self.calls.append((registry, repository))
        if self.only is not None and registry != self.only:
            return None
        return self.answer() if callable(self.answer) else self.answer


class Failing:
    @hookimpl
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
        password = SECRET  # a local holding the secret, as a real provider's would
        raise RuntimeError(f"could not decrypt {password}")


def manager(*plugins: tuple[str, Any]) -> pluggy.PluginManager:
    """A manager with only the given plugins; the first is asked first."""
    from ocireg import hookspecs

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, plugin in reversed(plugins):  # pluggy asks the last registered first
        pm.register(plugin, name=name)
    return pm


# -- caching and expiry ------------------------------------------------------------------------


def test_no_expiry_stays_cached_per_registry_and_repository() -> None:
    provider = Provider(lambda: BasicCredentials("alice", SECRET))
    clock = FakeClock()
    keychain = Keychain(manager(("p", provider)), clock=clock)
    first = keychain.lookup(HOST, "app")
    clock.now += 365 * 24 * 3600.0
    assert keychain.lookup(HOST, "app") is first
    assert provider.calls == [(HOST, "app")]
    keychain.lookup(HOST, "other")
    keychain.lookup(HOST, None)
    assert provider.calls == [(HOST, "app"), (HOST, "other"), (HOST, None)]


def test_anonymous_is_cached_too() -> None:
    provider = Provider(None)
    keychain = Keychain(manager(("p", provider)), clock=FakeClock())
    assert keychain.lookup(HOST, None) is None
    assert keychain.lookup(HOST, None) is None
    assert len(provider.calls) == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda exp: BasicCredentials("AWS", SECRET, expires_at=exp),
        lambda exp: IdentityToken(SECRET, expires_at=exp),
        lambda exp: RegistryToken(SECRET, expires_at=exp),
    ],
    ids=["basic", "identity-token", "registry-token"],
)
def test_expiring_credential_is_asked_again_shortly_before_it_expires(make: Any) -> None:
    lifetime = 3600.0
    provider = Provider(lambda: make(time.time() + lifetime))
    clock = FakeClock()
    keychain = Keychain(manager(("cloud", provider)), clock=clock)
    first = keychain.lookup(HOST, "app")
    # Not before expiry minus the margin (a few seconds of slack for the real wall clock).
    clock.now += lifetime - EXPIRY_MARGIN - 5
    assert keychain.lookup(HOST, "app") is first
    assert len(provider.calls) == 1
    # Past it: asked again, and the new answer is cached in its turn.
    clock.now += 10
    second = keychain.lookup(HOST, "app")
    assert second is not first
    assert len(provider.calls) == 2
    assert keychain.lookup(HOST, "app") is second
    assert len(provider.calls) == 2


def test_an_already_expired_credential_is_used_once_and_asked_again() -> None:
    provider = Provider(lambda: BasicCredentials("AWS", SECRET, expires_at=time.time() - 1))
    keychain = Keychain(manager(("cloud", provider)), clock=FakeClock())
    assert keychain.lookup(HOST, None) is not None
    assert keychain.lookup(HOST, None) is not None
    assert len(provider.calls) == 2


def test_expires_at_is_not_part_of_equality_or_repr_secrets() -> None:
    a = BasicCredentials("u", SECRET, expires_at=1.0)
    assert a == BasicCredentials("u", SECRET)
    assert a.fingerprint == BasicCredentials("u", SECRET).fingerprint
    assert SECRET not in repr(a)
    assert "expires_at=1.0" in repr(a)
    # Positional arguments are those of before.
    assert IdentityToken("t", "user", "src") == IdentityToken("t", username="user")
    assert RegistryToken("t", "src").source == "src"


def test_forget_drops_one_registry_or_all() -> None:
    provider = Provider(lambda: BasicCredentials("alice", SECRET))
    keychain = Keychain(manager(("p", provider)), clock=FakeClock())
    for registry in (HOST, "docker.io", "quay.io"):
        keychain.lookup(registry, "app")
    keychain.forget("index.docker.io")  # an alias of docker.io
    keychain.lookup("docker.io", "app")
    keychain.lookup("quay.io", "app")
    assert [r for r, _ in provider.calls].count("docker.io") == 2
    assert [r for r, _ in provider.calls].count("quay.io") == 1
    keychain.forget()
    keychain.lookup("quay.io", "app")
    assert [r for r, _ in provider.calls].count("quay.io") == 2


def test_concurrent_lookups_ask_the_providers_once() -> None:
    gate = threading.Event()

    def slow() -> BasicCredentials:
        gate.wait(5)
        return BasicCredentials("alice", SECRET)

    provider = Provider(slow)
    keychain = Keychain(manager(("helper", provider)))
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(keychain.lookup(HOST, "app")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(results) == 8
    assert all(r is results[0] for r in results)
    assert len(provider.calls) == 1


# -- order and failures --------------------------------------------------------------------------


def test_first_answer_wins_in_order() -> None:
    first, second, third = Provider(None), Provider(BasicCredentials("b", SECRET)), Provider(None)
    keychain = Keychain(manager(("one", first), ("two", second), ("three", third)))
    assert keychain.lookup(HOST, None) == BasicCredentials("b", SECRET)
    assert (len(first.calls), len(second.calls), len(third.calls)) == (1, 1, 0)


def test_failing_provider_is_a_plugin_error_naming_it_without_the_secret() -> None:
    keychain = Keychain(manager(("quiet", Provider(None)), ("broken", Failing())))
    for call in (lambda: keychain.lookup(HOST, "app"), lambda: keychain.explain(HOST)):
        with pytest.raises(PluginError) as info:
            call()
        err = info.value
        assert err.plugin == "broken"
        assert str(err) == f"credential provider broken failed for {HOST}: RuntimeError"
        assert err.__cause__ is None
        assert err.__context__ is None
        assert SECRET not in "".join(traceback.format_exception(err))


def test_a_plugin_error_from_a_provider_passes_through() -> None:
    class Named:
        @hookimpl
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
            raise PluginError("named: the vault is sealed", plugin="named")

    keychain = Keychain(manager(("named", Named())))
    with pytest.raises(PluginError, match="the vault is sealed"):
        keychain.lookup(HOST, None)


def test_a_failure_is_not_cached() -> None:
    answers: list[Any] = [RuntimeError("down"), BasicCredentials("alice", SECRET)]

    class Flaky:
        @hookimpl
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    keychain = Keychain(manager(("flaky", Flaky())))
    with pytest.raises(PluginError):
        keychain.lookup(HOST, None)
    assert keychain.lookup(HOST, None) == BasicCredentials("alice", SECRET)


def test_hook_wrappers_are_not_asked() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
            return (yield)

    keychain = Keychain(manager(("p", Provider(None)), ("wrapper", Wrapper())))
    assert keychain.explain(HOST)["asked"] == ["p"]


# -- explain ---------------------------------------------------------------------------------


def test_explain_names_the_provider_never_the_secret() -> None:
    source = "vault: kv/registry"
    provider = Provider(BasicCredentials("alice", SECRET, source=source), only=HOST)
    keychain = Keychain(manager(("first", Provider(None)), ("vault", provider)))
    info = keychain.explain(HOST, "app")
    assert info == {
        "registry": HOST,
        "provider": "vault",
        "kind": "basic",
        "username": "alice",
        "source": source,
        "asked": ["first", "vault"],
    }
    assert SECRET not in repr(info)


def test_explain_anonymous_and_normalised_registry() -> None:
    keychain = Keychain(manager(("a", Provider(None)), ("b", Provider(None))))
    assert keychain.explain("index.docker.io") == {
        "registry": "docker.io",
        "provider": None,
        "kind": "anonymous",
        "username": None,
        "source": "",
        "asked": ["a", "b"],
    }


def test_explain_a_single_label_host_is_that_host_not_docker_hub() -> None:
    # As `docker login myregistry`: a host, where a reference would read a Hub namespace.
    hub = Provider(BasicCredentials("hubuser", SECRET), only="docker.io")
    keychain = Keychain(manager(("hub", hub)))
    found = keychain.explain("myregistry")
    assert (found["registry"], found["kind"]) == ("myregistry", "anonymous")
    assert hub.calls == [("myregistry", None)]


@pytest.mark.parametrize(
    ("creds", "kind", "username"),
    [
        (IdentityToken(SECRET, username="bob"), "identity-token", "bob"),
        (RegistryToken(SECRET), "registry-token", None),
    ],
    ids=["identity-token", "registry-token"],
)
def test_explain_kinds(creds: Any, kind: str, username: str | None) -> None:
    info = Keychain(manager(("p", Provider(creds)))).explain(HOST)
    assert (info["kind"], info["username"]) == (kind, username)


def test_explain_asks_afresh_and_leaves_the_cache_alone() -> None:
    provider = Provider(lambda: BasicCredentials("alice", SECRET))
    keychain = Keychain(manager(("p", provider)), clock=FakeClock())
    cached = keychain.lookup(HOST, None)
    keychain.explain(HOST)
    keychain.explain(HOST)
    assert len(provider.calls) == 3
    assert keychain.lookup(HOST, None) is cached
    assert len(provider.calls) == 3


def test_builtin_order_through_the_real_plugin_manager(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    late = Provider(BasicCredentials("late", SECRET))
    with isolated_credentials(monkeypatch, tmp_path):
        pm = get_plugin_manager(
            plugins=[late], load_entrypoints=False, credentials={"elsewhere.test": ("x", "y")}
        )
        info = Keychain(pm).explain(HOST)
    assert info["asked"][:4] == ["explicit", "environment", "docker-config", "containers-auth"]
    assert len(info["asked"]) == 5
    assert (info["provider"], info["username"]) == (info["asked"][4], "late")
