"""Running ``docker-credential-<suffix>`` programs (docker-credential-helpers protocol).

``get`` reads the server URL on stdin and prints ``{"ServerURL","Username","Secret"}``; a
non-zero exit prints the error on stdout, and exactly ``credentials not found in native
keychain`` means "no credentials" (REGISTRY-FACTS 3.3). Older ``pass`` helpers (0.6.4) instead
exit 0 with an empty secret: also "not found". User ``<token>`` means the secret is an
identity (refresh) token.

Helpers are run without a shell and with a timeout, and their answers are cached for the
process (gcloud's helper takes seconds per call). Errors name the helper and never echo what
it printed on a success path, since that may hold a secret.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import threading
import time

from ..auth.credentials import BasicCredentials, Credentials, IdentityToken
from ..errors import PluginError

__all__ = ["HELPER_TIMEOUT", "clear_helper_cache", "erase", "get", "store"]

HELPER_TIMEOUT = float(os.environ.get("OCIREG_HELPER_TIMEOUT", "30"))
CACHE_SECONDS = 3600.0  # regclient re-runs a helper after an hour by default
#: A helper that failed is not run again for this long: the same error is raised at once, so a
#: hanging helper costs one timeout, not one per repository (regclient waits 5 s likewise).
FAILURE_RETRY_SECONDS = 5.0
NOT_FOUND = "credentials not found in native keychain"

_cache: dict[tuple[str, str], tuple[float, Credentials | PluginError | None]] = {}
_lock = threading.Lock()


def clear_helper_cache() -> None:
    with _lock:
        _cache.clear()


def _program(suffix: str) -> str:
    if not suffix or "/" in suffix or suffix.startswith("."):
        raise PluginError(
            f"invalid credential helper name {suffix!r}", plugin=f"docker-credential-{suffix}"
        )
    return f"docker-credential-{suffix}"


def _run(suffix: str, action: str, stdin: str) -> subprocess.CompletedProcess[str]:
    program = _program(suffix)
    path = shutil.which(program)
    if path is None:
        raise PluginError(f"credential helper {program} not found on PATH", plugin=program)
    try:
        # A session of its own, so a timeout ends the helper and anything it started (gcloud
        # runs python; a shell script runs its commands): a child left holding the pipes
        # would keep us waiting, and would outlive us.
        proc = subprocess.Popen(
            [path, action],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise PluginError(
            f"credential helper {program} could not be run: {exc.strerror}", plugin=program
        ) from None
    try:
        out, err = proc.communicate(stdin, timeout=HELPER_TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise PluginError(
            f"credential helper {program} did not answer '{action}' within {HELPER_TIMEOUT:g} s",
            plugin=program,
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    return subprocess.CompletedProcess([path, action], proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _failure(program: str, action: str, proc: subprocess.CompletedProcess[str]) -> PluginError:
    # The error text is on stdout by protocol; keep only its first line, shortened.
    said = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    detail = said[0][:200] if said else "no message"
    return PluginError(
        f"credential helper {program} failed on '{action}' (exit {proc.returncode}): {detail}",
        plugin=program,
    )


def get(suffix: str, server_url: str, *, source: str = "") -> Credentials | None:
    """Ask helper ``suffix`` for ``server_url``; None when it has nothing.

    :raises PluginError: naming the helper when it is missing, fails, hangs past
        :data:`HELPER_TIMEOUT` or prints something unreadable; the message never holds what
        the helper printed on success.
    """
    program = _program(suffix)
    source = source or f"{program} ({server_url})"
    key = (suffix, server_url)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        when, cached = hit
        if isinstance(cached, PluginError):
            if now - when < FAILURE_RETRY_SECONDS:
                raise PluginError(str(cached), plugin=cached.plugin)
        elif now - when < CACHE_SECONDS:
            # The same helper answer may be reached from several configs: say which asked.
            return None if cached is None else dataclasses.replace(cached, source=source)
    try:
        proc = _run(suffix, "get", server_url)
        if proc.returncode != 0:
            if NOT_FOUND not in proc.stdout and NOT_FOUND not in proc.stderr:
                raise _failure(program, "get", proc)
            result: Credentials | None = None
        else:
            result = _parse(program, proc.stdout, source)
    except PluginError as exc:
        with _lock:
            _cache[key] = (now, exc)
        raise
    with _lock:
        _cache[key] = (now, result)
    return result


def _parse(program: str, out: str, source: str) -> Credentials | None:
    try:
        doc = json.loads(out)
    except ValueError:
        raise PluginError(
            f"credential helper {program} printed something that is not JSON", plugin=program
        ) from None
    if not isinstance(doc, dict):
        raise PluginError(f"credential helper {program} printed no JSON object", plugin=program)
    username = doc.get("Username")
    secret = doc.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None  # pass 0.6.4 answers an unknown server with empty fields
    if not isinstance(username, str):
        username = ""
    if username == "<token>":
        return IdentityToken(secret, source=source)
    return BasicCredentials(username, secret, source=source)


def store(suffix: str, server_url: str, username: str, secret: str) -> None:
    program = _program(suffix)
    payload = json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret})
    proc = _run(suffix, "store", payload)
    if proc.returncode != 0:
        raise _failure(program, "store", proc)
    with _lock:
        _cache.pop((suffix, server_url), None)


def erase(suffix: str, server_url: str) -> None:
    program = _program(suffix)
    proc = _run(suffix, "erase", server_url)
    if proc.returncode != 0 and NOT_FOUND not in proc.stdout:
        raise _failure(program, "erase", proc)
    with _lock:
        _cache.pop((suffix, server_url), None)
