"""Shared fixtures: the real demo portal on loopback, a real crawl into a temp archive, a real index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.models import doc_id_for
from archive.settings import Settings, load_settings
from archive.store import WarcStore
from crawler.run import CrawlReport, crawl_source
from crawler.sources import Source, load_sources
from index.api import index_writer, open_backend, sync_relations
from index.whoosh.sync import rebuild
from xxgk.demo import demo_sources_dir
from xxgk.demo.server import DemoPortal


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings isolated from the developer's environment and config file."""
    return load_settings(env={}, overrides={"data_dir": str(data_dir), **overrides})


def warcio_check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """Run `warcio check` (the standard tool) on WARC files in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True, check=False
    )


def write_sources(sources: dict[str, Source], directory: Path, **edits: str) -> Path:
    """The sources' TOML files, pointed at their (test) base URLs, written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in sources.values():
        text = Path(source.path).read_text(encoding="utf-8")
        text = text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{source.base_url}"')
        for old, new in edits.items():
            text = text.replace(old, new)
        (directory / Path(source.path).name).write_text(text, encoding="utf-8")
    return directory


@dataclass
class Crawled:
    settings: Settings
    sources: dict[str, Source]
    reports: dict[str, CrawlReport]
    first_run_requests: int


@pytest.fixture(scope="session")
def portal() -> DemoPortal:
    portal = DemoPortal()
    portal.serve()
    yield portal
    portal.stop()


@pytest.fixture(scope="session")
def demo_sources(portal: DemoPortal) -> dict[str, Source]:
    return {k: s.with_base_url(portal.url) for k, s in load_sources([demo_sources_dir()]).items()}


@pytest.fixture(scope="session")
def crawled(portal: DemoPortal, demo_sources: dict[str, Source], tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One full crawl of the demo portal into a fresh data directory."""
    settings = make_settings(tmp_path_factory.mktemp("data"))
    store = WarcStore(settings.warc_dir)
    with Catalog(settings.catalog_path) as catalog:
        reports = {sid: crawl_source(src, settings, catalog, store) for sid, src in demo_sources.items()}
    return Crawled(settings, demo_sources, reports, len(portal.requests))


BACKENDS = ("whoosh", "tantivy")


@pytest.fixture(scope="session", params=BACKENDS)
def indexed(request: pytest.FixtureRequest, crawled: Crawled, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The crawled archive with what every crawl derives: the relations, then the index, by each engine
    (tests that use it run once per engine; each engine's archive is a copy of the one crawl)."""
    settings = crawled.settings
    if request.param != "whoosh":
        data = tmp_path_factory.mktemp(f"data-{request.param}")
        shutil.copytree(settings.data_path, data, dirs_exist_ok=True, ignore=shutil.ignore_patterns("index*", "locks"))
        settings = make_settings(data, index_backend=request.param)
    with Catalog(settings.catalog_path) as catalog:
        sync_relations(catalog)
        index_writer(settings).rebuild(catalog)
    return settings


@pytest.fixture(scope="session")
def engine(indexed: Settings):
    engine = open_backend(indexed)
    yield engine
    engine.close()


@pytest.fixture()
def client(indexed: Settings):
    from search_web import create_app

    app = create_app(indexed)
    app.testing = True
    return app.test_client()


@dataclass
class Revised:
    settings: Settings
    portal: DemoPortal
    first: CrawlReport
    second: CrawlReport
    edited_id: str
    withdrawn_id: str


@pytest.fixture(scope="session")
def revised(tmp_path_factory: pytest.TempPathFactory) -> Revised:
    """A crawl of 余杭区民政局, the portal edits one item and withdraws another, a second crawl."""
    portal = DemoPortal()
    portal.serve()
    source = load_sources([demo_sources_dir()])["demo-mzj"].with_base_url(portal.url)
    settings = make_settings(tmp_path_factory.mktemp("revised"))
    store = WarcStore(settings.warc_dir)
    with Catalog(settings.catalog_path) as catalog:
        first = crawl_source(source, settings, catalog, store)
        portal.revise()
        second = crawl_source(source, settings, catalog, store)
        sync_relations(catalog)  # what every crawl derives: the relations, then the index
        rebuild(settings, catalog)
    assert portal.edited and portal.withdrawn
    yield Revised(
        settings,
        portal,
        first,
        second,
        doc_id_for(source.id, portal.url + portal.edited.path),
        doc_id_for(source.id, portal.url + portal.withdrawn.path),
    )
    portal.stop()
