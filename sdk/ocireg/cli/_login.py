"""``ocireg login``, ``logout`` and ``auth explain``: credentials checked against the
registry, then stored (or removed) where docker keeps them, by the SDK's
:mod:`ocireg.builtin.docker_config`; and which provider answers for a registry."""

from __future__ import annotations

import argparse
import sys

from ._common import EXIT_NOT_FOUND, emit, make_client, read_password, registry_arg, usage_error


def cmd_login(args: argparse.Namespace) -> int:
    from ..builtin.docker_config import store_login

    host = registry_arg(args.registry)
    if not args.username:
        usage_error("login needs -u/--username")
    password = read_password(args)  # read once: make_client gets the same, with no warning
    if not password:
        usage_error("login needs a password: --password-stdin (or -p)")
    with make_client(args, [host]) as client:
        client.ping(host)  # raises AuthenticationError when refused
    where = store_login(host, args.username, password, config_dir=args.config)
    print(f"Login succeeded; credentials stored in {where}", file=sys.stderr)
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from ..builtin.docker_config import erase_login

    host = registry_arg(args.registry)
    if not erase_login(host, config_dir=args.config):
        print(f"ocireg: not logged in to {host}", file=sys.stderr)
        return EXIT_NOT_FOUND
    print(f"Removed credentials for {host}", file=sys.stderr)
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    host = registry_arg(args.registry)
    with make_client(args, [host]) as client:
        info = client.explain_credentials(host)
        api = client.remote.native_api(host)  # a plugin's registry-native API, if any
        if api is not None:
            info["api"] = api.describe()

    def text() -> list[str]:
        extra = [f"api: {info['api']}"] if info.get("api") else []
        if info["provider"] is None:
            return [f"{host}: anonymous (asked: {', '.join(info['asked'])})", *extra]
        who = f" as {info['username']}" if info.get("username") else ""
        return [f"{host}: {info['kind']}{who} from {info['provider']}: {info['source']}", *extra]

    emit(args, info, text)
    return 0
