"""The Cliniko package stays a plain HTTP client: no Flask, no SQLAlchemy, no app imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import oncord.cliniko

PACKAGE = Path(oncord.cliniko.__file__).parent
ALLOWED_THIRD_PARTY = {"requests", "urllib3"}  # urllib3 is requests' own transport


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_cliniko_package_imports_only_stdlib_requests_and_itself():
    """Every module under oncord/cliniko imports the stdlib, requests or oncord.cliniko only."""
    modules = sorted(PACKAGE.glob("*.py"))
    assert modules
    for module in modules:
        for name in _imports(module):
            top = name.split(".")[0]
            if top == "oncord":
                assert name.startswith("oncord.cliniko"), f"{module.name} imports {name}"
            elif top != "__future__":
                assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
                    f"{module.name} imports {name}"
                )


def test_every_module_uses_future_annotations():
    """STYLE.md: each module starts with `from __future__ import annotations`."""
    for module in PACKAGE.glob("*.py"):
        assert "from __future__ import annotations" in module.read_text(encoding="utf-8"), module.name
