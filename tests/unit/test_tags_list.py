"""``tags()``'s contract where a real registry cannot break it: tags sorted and each once
however the pages arrive (repeated across and within pages, out of order, not strings), and
never stale although unchanged pages are neither parsed nor sorted again."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ocireg.client import Client


def _page(tags: object, link: str | None = None) -> Response:
    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
    body = json.dumps({"name": "app", "tags": tags})
    return Response(body, headers=headers, content_type="application/json")


def _client(httpserver: HTTPServer) -> Client:
    httpserver.expect_request("/v2/").respond_with_json({})
    client = Client(load_entrypoints=False)
    client.transport.state(f"localhost:{httpserver.port}", "http")
    return client


def _tags(httpserver: HTTPServer) -> list[str]:
    with _client(httpserver) as client:
        return client.tags(f"localhost:{httpserver.port}/app")


def test_tags_repeated_across_and_within_pages_come_once_sorted(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v2/app/tags/list", query_string="last=c").respond_with_response(
        _page(["c", "b", "d", "d", "a"])
    )
    httpserver.expect_request("/v2/app/tags/list", query_string="").respond_with_response(
        _page(["a", "b", "c"], "/v2/app/tags/list?last=c")
    )
    assert _tags(httpserver) == ["a", "b", "c", "d"]


def test_a_sorted_unique_page_comes_back_as_sent(httpserver: HTTPServer) -> None:
    sent = [f"t{i:04d}" for i in range(2000)]
    httpserver.expect_request("/v2/app/tags/list").respond_with_response(_page(sent))
    assert _tags(httpserver) == sent


def test_tags_that_are_not_strings_become_strings(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v2/app/tags/list").respond_with_response(_page(["v1", 2, 1, "2"]))
    assert _tags(httpserver) == ["1", "2", "v1"]


def test_each_call_reads_the_list_again_and_gets_a_list_of_its_own(
    httpserver: HTTPServer,
) -> None:
    answers = [["b", "a"], ["b", "a"], ["c", "b", "a"], ["b", "a"]]

    def handler(request: Request) -> Response:
        return _page(answers.pop(0))

    httpserver.expect_request("/v2/app/tags/list").respond_with_handler(handler)
    with _client(httpserver) as client:
        ref = f"localhost:{httpserver.port}/app"
        first = client.tags(ref)
        first.append("mine")  # the caller's to change
        assert client.tags(ref) == ["a", "b"]
        assert client.tags(ref) == ["a", "b", "c"]  # the registry changed: so does the answer
        assert client.tags(ref) == ["a", "b"]
    assert answers == []
