"""The layout's rules that an import can break, read from the source with `ast` (nothing is imported to check).

- The stand-in servers (`orchestration.demo`) are not production code: no module of the library, the Dagster
  definitions or the CLI imports them, except the two CLI commands that are the offline demo (`demo` and
  `serve-sample`), and those only inside the function that serves it.
- The library is plain Python: nothing under `orchestration/lib/` imports Dagster.
- Every source is one folder of the same shape, its facts citing SOURCES.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from orchestration.lib.config import REPO_ROOT

PACKAGE_DIR = REPO_ROOT / "orchestration"
DEMO = "orchestration.demo"
# (module, function): the offline demo's own commands, which start the stand-ins they serve.
MAY_IMPORT_DEMO = {("orchestration.cli.run", "_run_offline_demo"), ("orchestration.cli.sample", "serve_sample")}
SOURCE_SHAPE = {"__init__", "facts", "client", "parse", "ingest", "releases"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def pipeline_modules() -> dict[str, Path]:
    """Every module of the package except the demo package itself."""
    modules = {module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    return {name: path for name, path in modules.items() if name != DEMO and not name.startswith(DEMO + ".")}


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[str, str | None]]:
    """(imported module, enclosing function or None at module level) for every import in `source`, relative
    imports resolved against `module`; `from a import b` counts as importing both a and a.b."""
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".") if is_package else module.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.append((base, function))
                found.extend((f"{base}.{alias.name}", function) for alias in child.names)
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def is_demo(name: str) -> bool:
    return name == DEMO or name.startswith(DEMO + ".")


def demo_imports() -> list[tuple[str, str | None, str]]:
    """(module, enclosing function, imported) for every import of the demo package by a pipeline module."""
    out = []
    for name, path in pipeline_modules().items():
        for imported, function in imported_modules(path.read_text(), name, path.name == "__init__.py"):
            if is_demo(imported):
                out.append((name, function, imported))
    return out


def test_the_walk_covers_the_pipeline_and_leaves_out_only_the_demo() -> None:
    modules = pipeline_modules()
    for expected in (
        "orchestration.definitions",
        "orchestration.lib.http",
        "orchestration.lib.sources.comext.client",
        "orchestration.lib.sources.comtrade.ingest",
        "orchestration.defs.ingest.partners",
        "orchestration.cli.run",
    ):
        assert expected in modules
    assert len(modules) > 40
    assert not any(is_demo(name) for name in modules)
    assert (PACKAGE_DIR / "demo" / "eurostat.py").is_file(), "the stand-ins live in the demo package"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import orchestration.demo.eurostat", "orchestration.lib.x", True),
        ("from orchestration.demo.comtrade import ComtradeServer", "orchestration.lib.x", True),
        ("from orchestration import demo", "orchestration.defs.x", True),
        ("from ..demo import ecb", "orchestration.lib.x", True),
        ("from ...demo.servers import LocalServer", "orchestration.lib.sources.comext", True),
        ("from ..sources import comext", "orchestration.lib.x", False),
        ("def f():\n    from orchestration.demo import offline\n", "orchestration.lib.x", True),
        ("from orchestration.lib.sources.comtrade.client import ComtradeApi", "orchestration.lib.x", False),
        ("import orchestration.demography", "orchestration.lib.x", False),
    ],
)
def test_the_finder_sees_every_form_of_import(source: str, module: str, expected: bool) -> None:
    assert any(is_demo(name) for name, _ in imported_modules(source, module)) is expected


def test_the_finder_resolves_relative_imports_of_a_package() -> None:
    found = imported_modules("from .demo import offline", "orchestration", is_package=True)
    assert ("orchestration.demo.offline", None) in found


def test_the_pipeline_never_imports_the_stand_in_servers() -> None:
    found = demo_imports()
    assert {(module, function) for module, function, _ in found} == MAY_IMPORT_DEMO, (
        "only the offline demo's commands may start the stand-ins, inside the function that serves them"
    )
    pipeline = [
        f for f in found if f[0].startswith(("orchestration.lib", "orchestration.defs", "orchestration.definitions"))
    ]
    assert pipeline == []


def test_the_library_is_free_of_dagster() -> None:
    offenders = [
        (name, imported)
        for name, path in pipeline_modules().items()
        if name.startswith("orchestration.lib")
        for imported, _ in imported_modules(path.read_text(), name, path.name == "__init__.py")
        if imported == "dagster" or imported.startswith(("dagster.", "dagster_"))
    ]
    assert offenders == []


def test_every_source_is_one_folder_of_the_same_shape_citing_its_facts() -> None:
    folders = sorted(p for p in (PACKAGE_DIR / "lib" / "sources").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert [p.name for p in folders] == ["comext", "comtrade", "ecb"]
    for folder in folders:
        assert {p.stem for p in folder.glob("*.py")} == SOURCE_SHAPE, folder.name
        facts = ast.get_docstring(ast.parse((folder / "facts.py").read_text())) or ""
        assert "../shared/docs/SOURCES.md, section" in facts, folder.name
        for path in folder.glob("*.py"):
            assert ast.get_docstring(ast.parse(path.read_text())), f"{folder.name}/{path.name} says what it owns"


def test_no_source_reaches_into_another() -> None:
    crossings = []
    for name, path in pipeline_modules().items():
        if not name.startswith("orchestration.lib.sources."):
            continue
        own = name.split(".")[3]
        for imported, _ in imported_modules(path.read_text(), name, path.name == "__init__.py"):
            parts = imported.split(".")
            if imported.startswith("orchestration.lib.sources.") and len(parts) > 3 and parts[3] != own:
                crossings.append((name, imported))
    assert crossings == [], "shared pieces belong in lib/, not in another source's folder"
