"""After an upgrade whose analysis or schema differs, the old index is refused with its remedy by
the site, its health check and `xxgk status`, and `xxgk reindex` brings everything back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from archive.settings import Settings
from search_web import create_app
from tests.conftest import make_settings
from xxgk.cli import main


def test_an_index_of_an_older_version_is_refused_with_its_remedy_everywhere(indexed: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(indexed.data_path, data, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    settings = make_settings(data, index_backend=indexed.index_backend)
    meta_path = settings.index_path / "xxgk-index.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["schema_version"] = "0.old"  # as the program before the upgrade wrote it
    meta_path.write_text(json.dumps(meta), encoding="utf-8")

    site = create_app(settings).test_client()
    health = site.get("/healthz")
    assert health.status_code == 503 and health.is_json
    body = health.get_json()
    assert body["ok"] is False and body["index_backend"] is None
    assert any("'0.old'" in p and "xxgk reindex" in p for p in body["problems"]), body["problems"]
    page = site.get("/?q=低保")
    assert page.status_code == 503 and "xxgk reindex" in page.get_data(as_text=True)

    runner = CliRunner()
    status = runner.invoke(main, ["--data-dir", str(data), "status"])
    assert "索引：不可用" in status.output and "xxgk reindex" in status.output, status.output
    assert json.loads(runner.invoke(main, ["--data-dir", str(data), "status", "--json"]).output)["index"]["error"]

    assert runner.invoke(main, ["--data-dir", str(data), "reindex"]).exit_code == 0
    assert "索引：检索引擎" in runner.invoke(main, ["--data-dir", str(data), "status"]).output
    fresh = create_app(settings).test_client()
    assert fresh.get("/healthz").get_json()["ok"] is True
    assert "最低生活保障" in fresh.get("/?q=低保").get_data(as_text=True)
