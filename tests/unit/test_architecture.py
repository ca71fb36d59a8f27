"""The layering rules of docs/architecture.md, checked by walking the code with ``ast``.

* No module imports a private (``_name``) name from another module. Importing a
  package-private *module* (``from . import _common``, the collection's ``module_utils._sdk``)
  is fine: the leading underscore there marks the module as internal to its package.
* No module reads a private attribute of another object (``client._request``,
  ``reader._read_owned``): only ``self``/``cls`` may use their own.
* The SDK's modules import each other without cycles (imports under ``if TYPE_CHECKING:``
  aside; imports inside functions count, since they still tie the modules together).
* No SDK module is over the size the design allows.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk"
COLLECTION = ROOT / "ansible_collections"
MAX_LINES = 450
#: Underscored names that are another library's public API: namedtuple methods, the
#: attributes Ansible documents for modules in diff mode and for their own name, and the
#: type of hashlib objects (only spelt that way in annotations).
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_diff", "_name", "_Hash"}


def _module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(base: Path, top: str) -> dict[str, Path]:
    return {_module_name(p, base): p for p in sorted((base / top).rglob("*.py"))}


SDK_MODULES = _sources(SDK, "ocireg")
COLLECTION_MODULES = _sources(ROOT, "ansible_collections/ocireg/registry/plugins")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping ``if TYPE_CHECKING:`` blocks."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_module(name: str, known: dict[str, Path]) -> bool:
    return name in known


def _violations(modules: dict[str, Path]) -> list[str]:
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            source = _resolve(name, is_package, node)
            for alias in node.names:
                if _private(alias.name) and not _is_module(f"{source}.{alias.name}", modules):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in PUBLIC_UNDERSCORED
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{node.attr}")
    return found


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif node.module == "__future__":
                continue
            else:
                source = _resolve(name, is_package, node)
                targets = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                    for a in node.names
                ]
            edges[name].update(t for t in targets if t in modules and t != name)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize(
    "modules", [SDK_MODULES, COLLECTION_MODULES], ids=["sdk", "ansible-collection"]
)
def test_no_private_names_cross_a_module_boundary(modules: dict[str, Path]) -> None:
    assert len(modules) > 5
    assert _violations(modules) == []


def test_the_sdk_has_no_import_cycles() -> None:
    edges = _graph(SDK_MODULES)
    # the walk sees edges (the client imports its operations, such as deletion, on first use)
    assert edges["ocireg.client"] >= {"ocireg.remote", "ocireg.transport"}
    assert _cycles(edges) == []


def test_no_sdk_module_is_over_the_size_limit() -> None:
    sizes = {n: len(p.read_text().splitlines()) for n, p in SDK_MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """The walk itself: a private import, a private attribute and a cycle are each found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import _helper\nfrom . import b\n")
    (pkg / "b.py").write_text("import pkg.a\n\ndef f(c):\n    return c._secret\n")
    (pkg / "_inner.py").write_text("")
    (pkg / "c.py").write_text("from . import _inner\nfrom typing import TYPE_CHECKING\n")
    modules = {_module_name(p, tmp_path): p for p in pkg.rglob("*.py")}
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = _violations(modules)
    finally:
        ROOT = saved
    assert problems == ["pkg/a.py:1 imports _helper", "pkg/b.py:4 reads ._secret"]
    assert _cycles(_graph(modules)) == [["pkg.a", "pkg.b"]]


def test_the_types_client_methods_return_are_exported() -> None:
    """Whatever a public ``Client`` method hands back is importable from ``ocireg``."""
    import typing

    import requests

    import ocireg
    from ocireg import blobs, copy, deletion
    from ocireg import client as client_module

    # The client imports these for its annotations only (type checking): resolve them here.
    namespace = {**vars(blobs), **vars(copy), **vars(deletion), **vars(client_module)}
    namespace["requests"] = requests
    returned: set[type] = set()
    for name, member in vars(ocireg.Client).items():
        if name.startswith("_") or not callable(member):
            continue
        hints = typing.get_type_hints(member, globalns=namespace)
        stack = [hints.get("return")]
        while stack:
            hint = stack.pop()
            stack.extend(typing.get_args(hint))
            origin = typing.get_origin(hint)
            if isinstance(hint, type) and origin is None:
                returned.add(hint)
    ours = {t for t in returned if t.__module__.startswith("ocireg")}
    assert {t.__name__ for t in ours} >= {"BatchPlan", "BatchResult", "BlobReader", "CopyResult"}
    assert sorted(t.__name__ for t in ours if t.__name__ not in ocireg.__all__) == []
