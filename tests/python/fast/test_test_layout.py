"""The suite's own layout: every test module sits in a tier's folder, which its marker names,
and none imports another test module or conftest (shared code lives in support/)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from support.project import PROJECT_DIR, TESTS_DIR


def tier_modules() -> list[Path]:
    return sorted(TESTS_DIR.glob("*/test_*.py"))


def imported_modules(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported


def test_no_test_module_imports_another_or_conftest():
    offenders = {
        path.relative_to(TESTS_DIR).as_posix(): sorted(name for name in imported_modules(path)
                                                       if name.startswith("test_") or name == "conftest")
        for path in tier_modules()
    }  # fmt: skip
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_test_module_is_in_a_declared_tier():
    pytest_options = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    tiers = {marker.split(":")[0] for marker in pytest_options["markers"]}
    folders = {path.parent.name for path in tier_modules()}
    stray = sorted(path.name for path in TESTS_DIR.glob("test_*.py"))

    assert stray == []
    assert folders == tiers
