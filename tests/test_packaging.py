"""A regular (non-editable) install carries every module and data file the product reads."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent
TOP = ("archive", "crawler", "index", "reports", "search_web", "xxgk")


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_of_the_product_is_installed() -> None:
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".") for top in TOP for p in (ROOT / top).rglob("__init__.py")}
    installed = set(find_packages(str(ROOT), include=_config()["packages"]["find"]["include"]))
    assert on_disk - installed == set(), "packages a wheel would leave out"
    assert installed <= on_disk, "packages outside the product"


def test_every_data_file_of_the_product_is_installed() -> None:
    globs = _config()["package-data"]
    missing = []
    for top in TOP:
        for path in (ROOT / top).rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            owner = path.parent
            while not (owner / "__init__.py").exists():
                owner = owner.parent
            package = str(owner.relative_to(ROOT)).replace("/", ".")
            relative = str(path.relative_to(owner))
            if not any(fnmatch.fnmatch(relative, g) for g in globs.get(package, [])):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"data files a wheel would leave out: {missing}"
