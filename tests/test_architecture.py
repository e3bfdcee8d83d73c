"""The dependency rule holds, and the contracts that check it catch a wrong import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("archive", "crawler", "index", "reports", "search_web", "xxgk")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(tmp: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__", "data", "*.pdf"))
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def test_the_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_lazy_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    models = root / "archive" / "models.py"
    models.write_text(
        models.read_text(encoding="utf-8") + "\n\ndef _late() -> None:\n    import crawler.run  # noqa: F401\n", encoding="utf-8"
    )
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "archive.models -> crawler.run" in result.stdout, result.stdout


def test_the_site_may_not_reach_an_engine_package(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    views = root / "search_web" / "views.py"
    views.write_text(
        views.read_text(encoding="utf-8") + "\nfrom index.whoosh.engine import WhooshEngine  # noqa: E402,F401\n",
        encoding="utf-8",
    )
    result = _lint_imports(root)
    assert result.returncode != 0
    assert "search_web.views -> index.whoosh.engine" in result.stdout, result.stdout


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_each_package_keeps_its_errors_in_its_errors_module() -> None:
    import importlib
    import pkgutil

    from archive.errors import XxgkError

    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    placed = {cls.__qualname__: cls.__module__ for cls in _subclasses(XxgkError)}
    assert {"FetchError", "QueryError", "LockHeld", "ArchiveError"} <= placed.keys()
    misplaced = {name: module for name, module in placed.items() if module.split(".", 1)[-1] != "errors"}
    assert not misplaced, f"errors defined outside a package's errors.py: {misplaced}"
    assert placed["FetchError"] == "crawler.errors" and placed["QueryError"] == "index.errors"
