"""Settings precedence and errors, source files, the WARC store, the CLI, and the docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.errors import ConfigError
from archive.settings import SETTINGS, load_settings
from archive.store import WarcStore
from crawler.errors import SourceError
from crawler.sources import load_source, load_sources
from tests.conftest import Crawled, warcio_check
from xxgk.cli import main
from xxgk.demo import demo_sources_dir
from xxgk.demo.render import column_url
from xxgk.demo.server import DemoPortal

ROOT = Path(__file__).resolve().parents[2]


def test_settings_precedence(tmp_path: Path) -> None:
    config = tmp_path / "xxgk.toml"
    config.write_text('crawl_delay_s = 3\nport = 9000\nuser_agent = "file"\n', encoding="utf-8")
    settings = load_settings(config, env={"XXGK_PORT": "9100", "XXGK_USER_AGENT": "env"}, overrides={"user_agent": "cli"})
    assert (settings.crawl_delay_s, settings.port, settings.user_agent) == (3.0, 9100, "cli")
    assert load_settings(env={}).crawl_delay_s == 1.0


@pytest.mark.parametrize(
    "content, words",
    [
        ("crawl_delay = 2", ["unknown setting", "crawl_delay_s"]),
        ('port = "80"', ["must be a int", "remove quotes"]),
        ("port = ", ["not valid TOML"]),
    ],
)
def test_bad_config_names_the_problem_and_the_remedy(tmp_path: Path, content: str, words: list[str]) -> None:
    config = tmp_path / "xxgk.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, env={})
    for word in words:
        assert word in str(info.value)


def test_bad_env_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="crawl_delay_s"):
        load_settings(env={"XXGK_CRAWL_DELAY_S": "fast"})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in readme, setting.name


def test_demo_source_files_match_the_portal(portal: DemoPortal) -> None:
    sources = load_sources([demo_sources_dir()])
    for agency in portal.agencies:
        source = sources[f"demo-{agency.key}"]
        assert source.platform == agency.platform and source.agency == agency.name
        assert [(c.name, c.url) for c in source.columns] == [(c.name, column_url(agency, c)) for c in agency.columns]


@pytest.mark.parametrize(
    "content, words",
    [
        ('name = "x"', ["missing key 'id'"]),
        ('id = "x"\nplatform = "drupal"\nbase_url = "http://a"\n[[columns]]\nname="a"\nurl="/"', ["platform 'drupal'", "hanweb"]),
        ('id = "x"\nplatform = "trs"\nbase_url = "ftp://a"\n[[columns]]\nname="a"\nurl="/"', ["base_url"]),
        ('id = "x"\nplatform = "trs"\nbase_url = "http://a"\n[[columns]]\nname="a"', ["columns[1]", "missing key 'url'"]),
        ('id = "x"\nplatform = "trs"\nbase_url = "http://a"\ncolumns = []', ["no [[columns]]"]),
    ],
)
def test_bad_source_file_names_file_and_key(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load_source(path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


_CRASHING_WRITER = """
import os, sys
from archive.store import WarcStore
session = WarcStore(sys.argv[1]).session("t")
session.write_response("http://a/1", [], 200, "OK", [("Content-Type", "text/plain")], b"one")
session.write_response("http://a/2", [], 200, "OK", [("Content-Type", "text/plain")], b"two" * 1000)
os._exit(0)  # die without sealing, like a killed crawler
"""


def test_store_recovers_an_open_file_with_a_partial_tail(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", _CRASHING_WRITER, str(tmp_path)], check=True, cwd=ROOT)
    open_file = next(tmp_path.glob("*.open"))
    with open(open_file, "r+b") as fh:  # the crash came in the middle of the last record
        fh.truncate(open_file.stat().st_size - 200)
    store = WarcStore(tmp_path)
    assert store.recover() == [open_file.name[: -len(".open")]]
    sealed = tmp_path / open_file.name[: -len(".open")]
    assert warcio_check([sealed]).returncode == 0
    from warcio.archiveiterator import ArchiveIterator

    with open(sealed, "rb") as fh:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(fh)]
    assert ("response", "http://a/1") in records and ("response", "http://a/2") not in records
    assert not list(tmp_path.glob("*.open"))


def test_store_rolls_over_to_sealed_files_each_valid_alone(tmp_path: Path) -> None:
    import random

    payloads = [random.Random(i).randbytes(3000) for i in range(6)]  # incompressible
    store = WarcStore(tmp_path, max_bytes=4000)
    with store.session("roll") as session:
        refs = [
            session.write_response(f"http://a/{i}", [], 200, "OK", [("Content-Type", "application/octet-stream")], payload).ref
            for i, payload in enumerate(payloads)
        ]
    files = store.files()
    assert len(files) >= 3 and not list(tmp_path.glob("*.open"))
    assert set(store.manifest()) == {p.name for p in files}
    for path in files:
        assert warcio_check([path]).returncode == 0
        assert not path.stat().st_mode & 0o222  # sealed files are read-only
    assert [store.read(ref).payload for ref in refs] == payloads


def test_cli_search_and_errors(crawled: Crawled, indexed) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(crawled.settings.data_dir)]
    result = runner.invoke(main, [*data, "search", "信息公开 年度报告", "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert '"title": "余杭区民政局2016年度政府信息公开工作年度报告"' in result.output
    bad = runner.invoke(main, [*data, "search", '"abc'])
    assert bad.exit_code == 1 and "引号" in bad.output and "Traceback" not in bad.output
    unknown = runner.invoke(main, [*data, "crawl", "no-such-source"])
    assert unknown.exit_code == 2 and "unknown source" in unknown.output


def test_cli_reports_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "xxgk.toml"
    config.write_text("colour = 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "reindex"])
    assert result.exit_code == 1 and "unknown setting 'colour'" in result.output


def test_readme_quick_start() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^make run$", readme, re.M) and re.search(r"^make test$", readme, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
