"""A generated archive of N documents (catalog + index) kept between benchmark runs."""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_export import iter_lines, make_lines  # noqa: E402

from archive.catalog import Catalog  # noqa: E402
from archive.settings import Settings, load_settings  # noqa: E402
from archive.transfer import import_documents  # noqa: E402

CACHE = Path(os.environ.get("XXGK_BENCH_DIR", Path(__file__).resolve().parent / ".cache"))


def catalog_of(n: int) -> Path:
    """A catalog of `n` generated documents, kept between runs (each archive starts from a copy)."""
    path = CACHE / f"catalog-{n}.sqlite3"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with Catalog(path.with_suffix(".tmp")) as catalog:
            import_documents(catalog, iter_lines(n))
        os.replace(path.with_suffix(".tmp"), path)
    return path


def archive_settings(n: int, backend: str = "whoosh") -> Settings:
    """The settings of the bench archive of `n` documents indexed by `backend` (its catalog copied in)."""
    data = CACHE / (f"archive-{n}" if backend == "whoosh" else f"archive-{n}-{backend}")
    settings = load_settings(env={}, overrides={"data_dir": str(data), "index_backend": backend})
    if not settings.catalog_path.exists():
        data.mkdir(parents=True, exist_ok=True)
        with Catalog(catalog_of(n), readonly=True) as source:
            source.conn.execute("VACUUM INTO ?", (str(settings.catalog_path),))
    return settings


def ensure_archive(n: int, backend: str = "whoosh") -> Settings:
    """The data directory of an archive of `n` generated documents indexed by `backend`, built (once) when missing."""
    settings = archive_settings(n, backend)
    data = settings.data_path
    ready = data / "ready"
    if ready.exists():
        from index.errors import IndexMissingError
        from index.tantivy.writer import check_index as tantivy_check
        from index.whoosh.sync import check_index as whoosh_check

        try:
            (whoosh_check if backend == "whoosh" else tantivy_check)(settings.index_path)
        except IndexMissingError:  # built by an older version of the schema: build it again
            ready.unlink()
    if not ready.exists():
        from index.api import index_writer

        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with Catalog(settings.catalog_path) as catalog:
            index_writer(settings, backend).rebuild(catalog)
        ready.write_text(f"{time.perf_counter() - started:.1f}\n")
    return settings


def ensure_edited(n: int, percent: float) -> Settings:
    """A copy of the `n`-document archive in which `percent` of the documents were edited afterwards and
    synced incrementally, so the index's older segments hold that share of deleted documents."""
    base = ensure_archive(n)
    data = CACHE / f"archive-{n}-edited-{percent:g}"
    settings = load_settings(env={}, overrides={"data_dir": str(data)})
    ready = data / "ready"
    if not ready.exists():
        from index.whoosh.sync import sync

        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(base.data_path, data, symlinks=True)
        lines = make_lines(n)
        edited = []
        for line in random.Random(7).sample(lines, int(n * percent / 100)):
            fields = json.loads(line)
            fields["text"] += "（本文已于发布后更正。）"
            edited.append(json.dumps(fields, ensure_ascii=False))
        started = time.perf_counter()
        with Catalog(settings.catalog_path) as catalog:
            import_documents(catalog, edited)
            sync(settings, catalog)
        ready.write_text(f"{time.perf_counter() - started:.1f}\n")
    return settings
