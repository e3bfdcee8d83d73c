"""Changing engine: `xxgk reindex --backend` builds beside the old index and swaps; syncs keep the
engine the index was built with; the site reads whichever engine built the index and names it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from index.api import built_backend
from search_web import create_app
from tests.conftest import make_settings
from tests.index.test_live import WORDS, _line
from xxgk.cli import main


def _cli(data: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_reindex_switches_engine_and_back_and_syncs_keep_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(_line(n, 1, (WORDS[n % 6], WORDS[(n + 2) % 6])) for n in range(30)) + "\n", encoding="utf-8")
    _cli(data, "import", str(first))
    settings = make_settings(data)
    assert built_backend(settings) == "whoosh"  # the setting's default built it
    running = create_app(settings).test_client()  # a site serving all along, as under gunicorn
    assert running.get(f"/search.json?q={WORDS[0]}").get_json()["ok"]

    out = _cli(data, "reindex", "--backend", "tantivy")
    assert "tantivy" in out and built_backend(settings) == "tantivy"
    for site in (running, running):  # the running site follows the switch, and stays on it
        assert site.get("/healthz").get_json()["index_backend"] == "tantivy"
        assert site.get(f"/search.json?q={WORDS[0]}").get_json()["ok"]
    client = create_app(settings).test_client()
    health = client.get("/healthz").get_json()
    assert health["index_backend"] == "tantivy" and health["documents"] == 30 and health["ok"], health
    found = client.get(f"/search.json?q={WORDS[0]}").get_json()
    assert found["total"] == sum(1 for n in range(30) if WORDS[0] in (WORDS[n % 6], WORDS[(n + 2) % 6]))

    # An import syncs the index it finds: still tantivy, now with the new documents.
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(_line(n, 1, ("防汛",)) for n in range(30, 34)) + "\n", encoding="utf-8")
    _cli(data, "import", str(more))
    assert built_backend(settings) == "tantivy"
    client = create_app(settings).test_client()
    assert client.get("/search.json?q=防汛").get_json()["total"] == 4
    assert client.get("/healthz").get_json()["documents"] == 34
    assert "索引：检索引擎 tantivy，34 篇文档" in _cli(data, "status")
    assert json.loads(_cli(data, "status", "--json"))["index"]["backend"] == "tantivy"

    assert running.get("/search.json?q=防汛").get_json()["total"] == 4  # the sync, seen by the running site
    out = _cli(data, "reindex", "--backend", "whoosh")
    assert built_backend(settings) == "whoosh"
    assert running.get("/search.json?q=防汛").get_json()["total"] == 4
    assert running.get("/healthz").get_json()["index_backend"] == "whoosh"
    client = create_app(settings).test_client()
    assert client.get("/healthz").get_json()["index_backend"] == "whoosh"
    assert "索引：检索引擎 whoosh，34 篇文档" in _cli(data, "status")
    assert client.get("/search.json?q=防汛").get_json()["total"] == 4
    # Only the current build and the one before it are kept.
    assert len(list(settings.index_path.parent.glob(settings.index_path.name + "-*"))) <= 2
