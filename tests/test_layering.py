"""The apps depend on each other one way only (docs/architecture.md): each imports only the
layers below it. Parsing the imports keeps a circle from creeping back in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top. The project modules (settings, urls, celery) sit above all and are not checked.
LAYERS = [
    "partnerhub.core",
    "partnerhub.accounts",
    "licensing",
    "trials",
    "customers",
    "controlhub",
    "partnerhub.demo",
]
FOLDERS = {name: ROOT.joinpath(*name.split(".")) for name in LAYERS}


def _layer_of(module: str) -> str | None:
    for name in LAYERS:
        if module == name or module.startswith(name + "."):
            return name
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_an_app_imports_only_the_layers_below_it(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    offending = []
    for path in sorted(FOLDERS[layer].rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for module in _imports(path):
            target = _layer_of(module)
            if target is not None and target not in allowed:
                offending.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offending, "\n".join(offending)
