#!/usr/bin/env bash
# ansible-test sanity on the ocireg.registry collection, without internet access beyond the
# package registries (ANSIBLE-NOTES 2.4): ansible-test bootstraps each sanity venv with a
# get-pip script from a host we cannot reach, but takes a pre-placed file from its cache,
# so we place a stand-in built on the stdlib's ensurepip. ansible-test keeps its venvs and
# cache under $HOME/.ansible, so HOME points at a cache folder of our own (reused between
# runs on one machine; a fresh machine builds it in about a minute and a half).
# Usage: bash tests/ansible/sanity.sh [extra ansible-test sanity arguments]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
ansible_test="$repo/.venv/bin/ansible-test"
[ -x "$ansible_test" ] || { echo "sanity.sh: $ansible_test is missing: bash .ci/setup" >&2; exit 1; }
python_version=$("$repo/.venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# ansible-test makes its sanity venvs with "python$python_version" from PATH; offer it the
# real interpreter behind the project's venv, so that no version-manager shim is picked.
base_python=$("$repo/.venv/bin/python" -c 'import os, sys; print(os.path.realpath(sys._base_executable))')

export HOME="${OCIREG_ANSIBLE_TEST_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ocireg-ansible-test}"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache" "$HOME/bin"
ln -sf "$base_python" "$HOME/bin/python$python_version"
export PATH="$HOME/bin:$PATH"
stand_in=$(cat <<'PY'
# Stand-in for get-pip.py (written by tests/ansible/sanity.sh): installs pip with ensurepip,
# then restores the environment ensurepip changes (it sets PIP_CONFIG_FILE=/dev/null, which
# would lose the machine's pip configuration) and installs what was asked.
import ensurepip, os, subprocess, sys
saved = dict(os.environ); ensurepip.bootstrap(upgrade=True)
os.environ.clear(); os.environ.update(saved)
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
pkgs = [a for a in args if not a.startswith('-')]
if pkgs:
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + [a for a in args if a.startswith('-')] + pkgs)
PY
)
for version in 24_2 25_2; do
  printf '%s\n' "$stand_in" > "$cache/get_pip_$version.py"
done

cd "$repo/ansible_collections/ocireg/registry"
exec "$ansible_test" sanity --python "$python_version" --color no "$@"
