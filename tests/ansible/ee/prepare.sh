#!/usr/bin/env bash
# Prepares, once per machine, what tests/ansible/test_ee_build.py builds an execution
# environment from, so that build runs offline (podman build --network none):
#   CACHE/base-rootfs.tar  a Debian root file system with python3 and pip (debootstrap from
#                          the mirror apt uses), imported by the test as the EE's base image;
#   CACHE/wheels/          wheels for that Python: ansible-core (the venv's version),
#                          ansible-runner, the SDK's dependencies, what ansible-builder's
#                          stages install (bindep, dumb-init) and what builds the SDK's wheel.
# Usage: bash tests/ansible/ee/prepare.sh [CACHE]   (as root; .ci/setup runs it)
# CACHE defaults to $OCIREG_EE_CACHE or /var/cache/ocireg-ee; the test reads the same place.
set -euo pipefail
cd "$(dirname "$0")/../../.."
cache=${1:-${OCIREG_EE_CACHE:-/var/cache/ocireg-ee}}
python=${PYTHON:-$PWD/.venv/bin/python}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"

if [ ! -s "$cache/base-rootfs.tar" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include=python3,python3-pip "$suite" "$work/rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -cf "$cache/base-rootfs.tar.part" . && mv "$cache/base-rootfs.tar.part" "$cache/base-rootfs.tar"
fi

# Wheels for the image's Python version; its glibc is the host's (same Debian suite).
pyver=$(tar -tf "$cache/base-rootfs.tar" | sed -n 's#^\./usr/bin/python\(3\.[0-9]*\)$#\1#p' | head -1)
[ -n "$pyver" ] || { echo "prepare.sh: no python3 in the base root file system" >&2; exit 1; }
glibc_minor=$(ldd --version | sed -n '1s/.* 2\.\([0-9]*\)$/\1/p')
platforms=()  # pip does not widen --platform to older manylinux tags: name them all
for minor in $(seq 5 "$glibc_minor"); do platforms+=(--platform "manylinux_2_${minor}_$(uname -m)"); done
core=$("$python" -c 'from ansible.release import __version__; print(__version__)')
"$python" -m pip download -q --disable-pip-version-check -d "$cache/wheels" \
  --only-binary :all: --implementation cp --python-version "$pyver" \
  "${platforms[@]}" \
  "ansible-core==$core" ansible-runner bindep pyyaml packaging 'dumb-init==1.2.5' \
  'pluggy>=1.3' 'tqdm>=4.66' 'setuptools>=77' wheel
ls "$cache/wheels" | wc -l | sed 's/^/prepare.sh: wheels: /'
