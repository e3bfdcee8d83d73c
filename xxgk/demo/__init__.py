"""The bundled demo portal (a realistic disclosure site served on loopback) and the `xxgk demo` command.

Owns the portal's content, its source files and the demo's composition; may import every package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_sources_dir() -> Path:
    """The source TOML files of the demo portal's three agencies."""
    return Path(str(resources.files("xxgk.demo").joinpath("sources")))
