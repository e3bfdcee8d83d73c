"""`xxgk demo`, the command behind `make run`, as a user runs it: portal, crawls, index, site, scheduler."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, process_env, wait_for
from xxgk.demo.showcase import QUERIES


@pytest.mark.slow
def test_demo_serves_the_seed_report_and_its_scheduler_does_not_repeat_the_crawls_just_made(tmp_path: Path) -> None:
    port, portal_port = free_port(), free_port()
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        demo = subprocess.Popen(
            [sys.executable, "-m", "xxgk", "--data-dir", str(tmp_path / "data"), "demo", "--port", str(port)]
            + ["--portal-port", str(portal_port), "--publish-every", "0"],
            stdout=out,
            stderr=err,
            env=process_env(),
        )
        try:
            ready = wait_for(lambda: "搜索页已就绪" in out_path.read_text() or demo.poll() is not None, 600)
            assert ready and demo.poll() is None, out_path.read_text() + err_path.read_text()
            # The scheduler starts beside the site, right after the demo's own crawls of every source.
            assert wait_for(lambda: "scheduler started" in err_path.read_text(), 60), err_path.read_text()
            found = httpx.get(f"http://127.0.0.1:{port}/search.json", params={"q": "信息公开 年度报告"}, timeout=30).json()
            # The relation examples the output names each show what they say.
            printed = out_path.read_text()
            shows = {}
            for _, query in QUERIES:
                assert query in printed
                answer = httpx.get(f"http://127.0.0.1:{port}/search.json", params={"q": query}, timeout=30)
                shows[query] = answer.json()["hits"][0]
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        finally:
            demo.send_signal(signal.SIGTERM)
            code = demo.wait(timeout=60)
    log = err_path.read_text()
    assert code == 0, log
    started = next(line for line in log.splitlines() if "scheduler started" in line)
    assert "4 sources scheduled, 0 catching up" in started, started
    assert "catching up once now" not in log
    assert "scheduler stopped cleanly" in log
    top = found["hits"][0]
    assert "2016" in top["title"] and "余杭区民政局" in top["title"], top["title"]
    assert health.status_code == 200
    repealed, interpretation, repost = (shows[q] for _, q in QUERIES)
    assert repealed["validity"] == "已废止" and "2016" not in repealed["title"] and "实施办法" in repealed["title"]
    assert "解读" in interpretation["title"]
    assert len(repost["copies"]) == 2 and {c["agency"] for c in repost["copies"]} == {"余杭区卫生健康局", "余杭区教育局"}
