"""``Client.copy`` against real registries: mounts inside one registry, streaming between two,
indexes with all or one platform, the fast check, and blobs the destination already has.

Images are pushed by :class:`tests.fixtures.images.Pusher` (plain ``requests``), so what is
copied does not depend on ocireg's own upload code; what arrives is checked through HEADs
and verified pulls.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocireg.client import Client
from ocireg.errors import ManifestError, NotFoundError
from ocireg.reference import Reference
from tests.fixtures.clients import count_requests
from tests.fixtures.images import Pushed, Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


# -- helpers ---------------------------------------------------------------------------------


def _repo(prefix: str) -> str:
    return f"copy/{prefix}-{uuid.uuid4().hex[:10]}"


def _ref(registry: Registry, repo: str, tag: str | None = None, digest: str | None = None) -> str:
    text = f"{registry.host}/{repo}"
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return text


def _client(*registries: Registry) -> Client:
    creds = {r.host: r.credentials("alice") for r in registries if "alice" in r.users}
    return Client(credentials=creds or None, load_entrypoints=False)


@pytest.fixture(params=["open", "token"])
def one_registry(request: pytest.FixtureRequest) -> Registry:
    registry: Registry = request.getfixturevalue(f"registry_{request.param}")
    return registry


@pytest.fixture
def open_client(registry_open: Registry) -> Iterator[Client]:
    with _client(registry_open) as client:
        yield client


@pytest.fixture
def cross_client(registry_open: Registry, registry_token: Registry) -> Iterator[Client]:
    with _client(registry_open, registry_token) as client:
        yield client


def _assert_image_at(client: Client, registry: Registry, repo: str, image: Pushed) -> None:
    """The manifest and every blob of ``image`` are in ``repo`` with the source's digests."""
    desc = client.head_manifest(_ref(registry, repo, digest=image.digest))
    assert desc.digest == image.digest
    for digest in image.blobs:
        assert client.blob_exists(_ref(registry, repo), digest)


# -- one registry: mounts --------------------------------------------------------------------


def test_copy_within_registry_mounts_every_blob(one_registry: Registry) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(one_registry).image(src_repo, "v1", layers=2)

    server = one_registry.token_server
    tokens_before = len(server.requests) if server else 0
    with _client(one_registry) as client:
        result = client.copy(_ref(one_registry, src_repo, "v1"), _ref(one_registry, dst_repo, "v2"))
        if server is not None:
            # dst pull (fast check), src pull (manifest), then one token with dst push and
            # src pull for every blob HEAD, mount and the manifest push.
            assert len(server.requests) - tokens_before <= 3

        assert result.digest == image.digest
        assert result.media_type == image.media_type
        assert result.blobs_mounted == len(image.blobs) == 3
        assert (result.blobs_copied, result.blobs_skipped, result.bytes_transferred) == (0, 0, 0)
        assert result.manifests_written == 1
        assert client.head_manifest(_ref(one_registry, dst_repo, "v2")).digest == image.digest
        _assert_image_at(client, one_registry, dst_repo, image)


def test_second_copy_is_a_noop(registry_open: Registry, open_client: Client) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(registry_open).image(src_repo, "v1")
    src, dst = _ref(registry_open, src_repo, "v1"), _ref(registry_open, dst_repo, "v1")

    first = open_client.copy(src, dst)
    again = open_client.copy(src, dst)
    by_digest = open_client.copy(_ref(registry_open, src_repo, digest=image.digest), dst)

    assert first.manifests_written == 1 and not first.noop
    for result in (again, by_digest):
        assert result.noop and result.manifests_written == 0
        assert result.digest == image.digest
        assert (result.blobs_copied, result.blobs_mounted, result.blobs_skipped) == (0, 0, 0)


# -- two registries: streaming ---------------------------------------------------------------


def test_copy_between_registries_streams_verified_blobs(
    registry_open: Registry, registry_token: Registry, cross_client: Client, tmp_path: Path
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    # Layers over the 1 MiB read size of the blob reader, so each is streamed in pieces.
    image = Pusher(registry_open).image(src_repo, "v1", layers=3, layer_size=3 * 1024 * 1024 + 7)

    result = cross_client.copy(
        _ref(registry_open, src_repo, "v1"), _ref(registry_token, dst_repo, "v1")
    )

    assert result.digest == image.digest
    assert result.blobs_copied == 4 and result.blobs_mounted == 0
    assert result.bytes_transferred == sum(len(b) for b in image.blobs.values())
    assert cross_client.head_manifest(_ref(registry_token, dst_repo, "v1")).digest == image.digest
    for digest, data in image.blobs.items():
        target = tmp_path / digest.replace(":", "-")
        cross_client.pull_blob(_ref(registry_token, dst_repo), digest, target)
        assert target.read_bytes() == data


def test_blobs_already_at_destination_are_skipped(
    registry_open: Registry, registry_token: Registry, cross_client: Client
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(registry_open).image(src_repo, "v1", layers=2)
    present = list(image.blobs.items())[:2]  # the config and the first layer
    dst_pusher = Pusher(registry_token)
    for _, data in present:
        dst_pusher.blob(dst_repo, data)

    result = cross_client.copy(
        _ref(registry_open, src_repo, "v1"), _ref(registry_token, dst_repo, "v1")
    )

    assert (result.blobs_skipped, result.blobs_copied) == (2, 1)
    assert result.bytes_transferred == len(list(image.blobs.values())[2])
    _assert_image_at(cross_client, registry_token, dst_repo, image)


# -- indexes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-list"])
def test_copy_index_with_all_platforms(
    registry_open: Registry, registry_token: Registry, cross_client: Client, docker: bool
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    index = Pusher(registry_open).index(src_repo, "multi", docker=docker)

    result = cross_client.copy(
        _ref(registry_open, src_repo, "multi"), _ref(registry_token, dst_repo, "multi")
    )

    assert result.digest == index.digest and result.media_type == index.media_type
    assert result.manifests_written == 3  # two children, then the index
    assert result.blobs_copied == 6
    dst = cross_client.head_manifest(_ref(registry_token, dst_repo, "multi"))
    assert (dst.digest, dst.media_type) == (index.digest, index.media_type)
    for child in index.children:
        _assert_image_at(cross_client, registry_token, dst_repo, child)


def test_copy_one_platform_tags_the_child(registry_open: Registry, open_client: Client) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    index = Pusher(registry_open).index(src_repo, "multi")
    amd64, arm64 = index.children

    result = open_client.copy(
        _ref(registry_open, src_repo, "multi"),
        _ref(registry_open, dst_repo, "arm"),
        platform="linux/arm64",
    )

    assert result.digest == arm64.digest and result.media_type == arm64.media_type
    assert result.manifests_written == 1 and result.blobs_mounted == 3
    assert open_client.head_manifest(_ref(registry_open, dst_repo, "arm")).digest == arm64.digest
    with pytest.raises(NotFoundError):
        open_client.head_manifest(_ref(registry_open, dst_repo, digest=amd64.digest))
    with pytest.raises(NotFoundError):
        open_client.head_manifest(_ref(registry_open, dst_repo, digest=index.digest))

    default = open_client.copy(
        _ref(registry_open, src_repo, "multi"),
        _ref(registry_open, dst_repo, "default"),
        all_platforms=False,
    )
    assert default.digest == amd64.digest


def test_children_already_at_destination_are_not_rewritten(
    registry_open: Registry, open_client: Client
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    index = Pusher(registry_open).index(src_repo, "multi")
    src = _ref(registry_open, src_repo, "multi")
    open_client.copy(src, _ref(registry_open, dst_repo, "arm"), platform="linux/arm64")

    result = open_client.copy(src, _ref(registry_open, dst_repo, "multi"))

    assert result.digest == index.digest
    assert (result.manifests_written, result.manifests_skipped) == (2, 1)
    assert result.blobs_mounted == 3  # only the amd64 child's blobs
    for child in index.children:
        _assert_image_at(open_client, registry_open, dst_repo, child)


def test_unknown_platform_names_the_available_ones(
    registry_open: Registry, open_client: Client
) -> None:
    src_repo = _repo("src")
    Pusher(registry_open).index(src_repo, "multi")
    with pytest.raises(ManifestError, match=r"linux/s390x.*available: linux/amd64"):
        open_client.copy(
            _ref(registry_open, src_repo, "multi"),
            _ref(registry_open, _repo("dst"), "x"),
            platform="linux/s390x",
        )


# -- references by digest --------------------------------------------------------------------


def test_copy_from_digest_to_tag_and_to_digest(
    registry_open: Registry, registry_token: Registry, cross_client: Client
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(registry_open).image(src_repo, None, docker=True)
    src = _ref(registry_open, src_repo, digest=image.digest)

    tagged = cross_client.copy(src, _ref(registry_token, dst_repo, "from-digest"))
    assert tagged.digest == image.digest
    got = cross_client.head_manifest(_ref(registry_token, dst_repo, "from-digest"))
    assert got.digest == image.digest

    other_repo = _repo("dst")
    by_digest = cross_client.copy(src, _ref(registry_token, other_repo, digest=image.digest))
    assert by_digest.digest == image.digest and by_digest.manifests_written == 1
    assert by_digest.dst == Reference.parse(_ref(registry_token, other_repo, digest=image.digest))
    _assert_image_at(cross_client, registry_token, other_repo, image)

    wrong = "sha256:" + "0" * 64
    with pytest.raises(ManifestError, match="digests differ"):
        cross_client.copy(src, _ref(registry_token, other_repo, digest=wrong))


# -- progress --------------------------------------------------------------------------------


class _Progress:
    """``progress`` and ``progress_total`` callbacks that remember what they were told."""

    def __init__(self) -> None:
        self.moved = 0
        self.totals: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self._lock:  # called from the copy's worker threads
            self.moved += n

    def total(self, n: int) -> None:
        self.totals.append(n)


def test_progress_counts_streamed_bytes_and_drops_skipped_blobs_from_the_total(
    registry_open: Registry, registry_token: Registry, cross_client: Client
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(registry_open).image(src_repo, "v1", layers=2, layer_size=2 * 1024 * 1024)
    config, *layers = image.blobs.values()
    sizes = [len(config), *map(len, layers)]
    Pusher(registry_token).blob(dst_repo, config)  # the destination has the config already

    seen = _Progress()
    result = cross_client.copy(
        _ref(registry_open, src_repo, "v1"),
        _ref(registry_token, dst_repo, "v1"),
        progress=seen,
        progress_total=seen.total,
    )

    assert result.blobs_skipped == 1
    assert seen.totals == [sum(sizes), sum(sizes) - sizes[0]]
    assert seen.moved == result.bytes_transferred == sum(sizes[1:])


def test_progress_of_a_mounting_copy_moves_nothing(registry_open: Registry) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    image = Pusher(registry_open).image(src_repo, "v1")
    seen = _Progress()
    with _client(registry_open) as client:
        client.copy(
            _ref(registry_open, src_repo, "v1"),
            _ref(registry_open, dst_repo, "v1"),
            progress=seen,
            progress_total=seen.total,
        )
    assert seen.totals[0] == sum(len(b) for b in image.blobs.values())
    assert seen.totals[-1] == 0 and seen.moved == 0


# -- requests sent ---------------------------------------------------------------------------

_THREE_PLATFORMS = [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "s390x", None)]


def _repeated(calls: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return {call: n for call, n in Counter(calls).items() if n > 1}


def test_copy_within_one_registry_sends_no_request_twice(registry_open: Registry) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    index = Pusher(registry_open).index(src_repo, "multi", _THREE_PLATFORMS)
    blobs = sum(len(child.blobs) for child in index.children)  # 3 x (config + 2 layers)
    with _client(registry_open) as client:
        calls = count_requests(client)
        result = client.copy(
            _ref(registry_open, src_repo, "multi"), _ref(registry_open, dst_repo, "multi")
        )

    assert result.blobs_mounted == blobs == 9
    assert _repeated(calls) == {}
    methods = Counter(method for method, _ in calls)
    # No ping (the loopback registry answered the TLS probe in plain http, and the first
    # request learns that no credentials are asked for); HEAD of the destination tag and GET
    # of the index; per child a HEAD at the destination and a GET; per blob one mount (no
    # HEAD first: the mount answers 201 whether or not the blob was there); 3 + 1 manifest
    # PUTs.
    assert methods == {"GET": 1 + 3, "HEAD": 1 + 3, "POST": blobs, "PUT": 4}
    assert len(calls) == 21


def test_copy_between_registries_sends_no_request_twice(
    registry_open: Registry, registry_no_delete: Registry
) -> None:
    src_repo, dst_repo = _repo("src"), _repo("dst")
    index = Pusher(registry_open).index(src_repo, "multi", _THREE_PLATFORMS)
    blobs = sum(len(child.blobs) for child in index.children)
    with _client(registry_open, registry_no_delete) as client:
        calls = count_requests(client)
        result = client.copy(
            _ref(registry_open, src_repo, "multi"), _ref(registry_no_delete, dst_repo, "multi")
        )

    assert result.blobs_copied == blobs == 9
    # Every upload session opens with a POST to the same URL; nothing else is sent twice.
    start_upload = ("POST", f"{registry_no_delete.url}/v2/{dst_repo}/blobs/uploads/")
    assert _repeated(calls) == {start_upload: blobs}
    methods = Counter(method for method, _ in calls)
    # No pings; the destination tag; the index, 3 children (HEAD there, GET here); per blob
    # a HEAD, a POST and a PUT there and a GET here; 3 + 1 manifest PUTs.
    assert methods == {
        "GET": 1 + 3 + blobs,
        "HEAD": 1 + 3 + blobs,
        "POST": blobs,
        "PUT": blobs + 4,
    }
    assert len(calls) == 48
