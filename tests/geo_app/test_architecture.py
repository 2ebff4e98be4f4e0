"""The layout's rules (docs/architecture.md), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("geo_app", "layers", "analysis")


def modules():
    for pkg in PACKAGES:
        for py in sorted((REPO / pkg).rglob("*.py")):
            name = ".".join(py.relative_to(REPO).with_suffix("").parts)
            yield name.removesuffix(".__init__"), ast.parse(py.read_text(encoding="utf-8"))


def imports(tree):
    """(module, name or None) of every import in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                yield node.module, a.name


def owner(module: str) -> str:
    """The package a module belongs to, for the private-name rule: a top-level package, or a
    sub-package of geo_app."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "geo_app" and len(parts) > 2 else parts[0]


def test_maps_and_pages_call_no_kernel_and_pages_read_no_file():
    bad = []
    for name, tree in modules():
        if name.startswith(("geo_app.maps", "geo_app.ui")):
            for mod, _ in imports(tree):
                if mod.split(".")[0] == "analysis":
                    bad.append(f"{name} imports {mod}")
                if name.startswith("geo_app.ui") and mod.split(".")[0] == "layers":
                    bad.append(f"{name} imports {mod}")
    assert not bad, bad


def test_no_private_names_across_packages():
    bad = []
    for name, tree in modules():
        for mod, item in imports(tree):
            if mod.split(".")[0] not in PACKAGES:
                continue
            if item and item.startswith("_") and not item.startswith("__") \
                    and owner(mod) != owner(name):
                bad.append(f"{name}: from {mod} import {item}")
            if mod.split(".")[-1].startswith("_") and not mod.endswith("__main__"):
                bad.append(f"{name}: import {mod}")
    assert not bad, bad


def test_analysis_does_no_io_and_no_ui():
    banned = {"geo_app", "streamlit", "folium", "pyogrio", "pyrosm", "osmnx"}
    bad = [f"{name} imports {mod}" for name, tree in modules() if name.startswith("analysis")
           for mod, _ in imports(tree) if mod.split(".")[0] in banned]
    assert not bad, bad


def test_architecture_doc_names_every_module_folder():
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, _ in modules():
        parts = name.split(".")
        if parts[0] == "geo_app" and len(parts) >= 2:
            key = f"{parts[1]}/" if (REPO / "geo_app" / parts[1]).is_dir() else f"{parts[1]}.py"
            assert f"`{key}`" in doc, f"docs/architecture.md does not name geo_app/{key}"
        elif parts[0] in ("layers", "analysis") and len(parts) == 2:
            assert f"{parts[1]}.py" in doc or f"`{parts[1]}`" in doc, name
