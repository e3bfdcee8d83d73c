"""The archive as the source of truth: versions, withdrawals, fixity, migration, rebuild, import/export."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.catalog import _MIGRATIONS, SCHEMA_VERSION, Catalog
from archive.models import Attachment, Document
from archive.store import WarcStore
from archive.transfer import import_documents
from index.api import SearchRequest
from index.whoosh.engine import WhooshEngine
from tests.conftest import Revised, make_settings, warcio_check
from xxgk.cli import main


def test_edit_becomes_a_new_version_and_withdrawal_is_marked(revised: Revised) -> None:
    assert (revised.second.new, revised.second.changed, revised.second.withdrawn) == (0, 1, 1)
    assert revised.second.unchanged == revised.first.new - 2
    with Catalog(revised.settings.catalog_path) as catalog:
        versions = catalog.versions(revised.edited_id)
        assert len(versions) == 2
        assert "顺延一周" in versions[1][1].body and "顺延一周" not in versions[0][1].body
        # Capture times are to the second: two crawls within one second (a fast machine) share one.
        assert versions[0][0] <= versions[1][0]
        gone = catalog.get(revised.withdrawn_id)
        assert gone.status == "withdrawn" and gone.withdrawn_at
        assert gone.doc.title == revised.portal.withdrawn.title  # kept, never deleted
        evidence = [c.status for c in catalog.captures_for(revised.withdrawn_id)]
        assert 410 in evidence
        total_versions = catalog.conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    metadata = 0
    for path in revised.settings.warc_dir.glob("*.warc.gz"):
        with open(path, "rb") as fh:
            metadata += sum(1 for r in ArchiveIterator(fh) if r.rec_type == "metadata")
    assert metadata == total_versions  # every version's extraction is in the WARC files too


def test_withdrawn_document_stays_searchable_with_its_status(revised: Revised) -> None:
    engine = WhooshEngine(revised.settings.index_path)
    hits = engine.search(SearchRequest(q=f'"{revised.portal.withdrawn.title}"')).hits
    assert [(h.id, h.status) for h in hits if h.id == revised.withdrawn_id] == [(revised.withdrawn_id, "withdrawn")]
    engine.close()


def test_verify_passes_then_names_the_file_with_a_flipped_byte(revised: Revised, tmp_path: Path) -> None:
    data = tmp_path / "copy"
    shutil.copytree(revised.settings.data_dir, data, symlinks=True)
    runner = CliRunner()
    ok = runner.invoke(main, ["--data-dir", str(data), "verify"])
    assert ok.exit_code == 0, ok.output
    assert "全部通过" in ok.output
    victim = max((data / "warc").glob("*.warc.gz"), key=lambda p: p.stat().st_size)
    victim.chmod(0o644)
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))
    bad = runner.invoke(main, ["--data-dir", str(data), "verify"])
    assert bad.exit_code == 1
    assert victim.name in bad.output and "sha256 differs" in bad.output


def test_every_warc_passes_warcio_check(revised: Revised) -> None:
    files = sorted(revised.settings.warc_dir.glob("*.warc.gz"))
    assert warcio_check(files).returncode == 0
    manifest = WarcStore(revised.settings.warc_dir).manifest()
    assert set(manifest) == {p.name for p in files}


def test_migration_from_schema_version_1(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_MIGRATIONS[1] + "PRAGMA user_version=1;")
    doc = Document(
        source_id="s",
        url="http://a/1",
        title="旧版目录中的文件",
        body="正文",
        attachments=(Attachment(url="http://a/1.pdf", name="附件.pdf", size=10, text="附件文字"),),
    )
    conn.execute(
        "INSERT INTO documents (id, source_id, url, first_seen, last_seen, current_version, seq) "
        "VALUES (?, 's', 'http://a/1', '2020-01-01', '2020-01-01', 1, 1)",
        (doc.doc_id,),
    )
    conn.execute(
        "INSERT INTO versions (id, doc_id, digest, data, created_at) VALUES (1, ?, ?, ?, '2020-01-01')",
        (doc.doc_id, doc.content_digest(), json.dumps(doc.to_dict(), ensure_ascii=False)),
    )
    conn.commit()
    conn.close()
    with Catalog(path) as catalog:
        assert catalog.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert catalog.get(doc.doc_id).doc == doc
        rows = catalog.conn.execute("SELECT url, name, text_chars FROM attachments").fetchall()
        assert [tuple(r) for r in rows] == [("http://a/1.pdf", "附件.pdf", 4)]
        assert catalog.record_document(doc, None) == "unchanged"


def test_migration_keeps_list_and_url_dates_apart_from_the_publication_date(tmp_path: Path) -> None:
    """A version stored when a list or URL date was taken for 发布日期 reads, and is stored, as a list date;
    a recrawl of the unchanged page then finds the same digest (no spurious version)."""
    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("".join(_MIGRATIONS[v] + ";" for v in range(1, 6)) + "PRAGMA user_version=5;")
    now = Document(source_id="s", url="http://a/art/2025/6/1/art_1_1.html", title="迁移后的旧报告", body="正文")
    rows = [
        {**now.to_dict(), "published": "2025-06-01", "date_source": "url"},  # as version 5 stored it
        {**now.to_dict(), "url": "http://a/2", "published": "2012-03-05", "date_source": "table"},
    ]
    for number, data in enumerate(rows, 1):
        doc_id = Document.from_dict({**data, "date_source": ""}).doc_id
        conn.execute(
            "INSERT INTO documents (id, source_id, url, first_seen, last_seen, current_version, seq)"
            " VALUES (?, 's', ?, '2020-01-01', '2020-01-01', ?, ?)",
            (doc_id, data["url"], number, number),
        )
        blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()
        conn.execute(
            "INSERT INTO versions (id, doc_id, digest, data, created_at) VALUES (?, ?, ?, ?, '2020-01-01')",
            (number, doc_id, digest, json.dumps(data, ensure_ascii=False)),
        )
    conn.commit()
    conn.close()
    with Catalog(path) as catalog:
        migrated = catalog.get(now.doc_id).doc
        assert (migrated.published, migrated.listed, migrated.listed_source) == (None, date(2025, 6, 1), "url")
        recrawled = replace(now, listed=date(2025, 6, 1), listed_source="url")
        assert catalog.record_document(recrawled, None) == "unchanged"
        dated = catalog.get(Document.from_dict(rows[1]).doc_id).doc
        assert (dated.published, dated.date_source, dated.listed) == (date(2012, 3, 5), "table", None)
        assert catalog.record_document(dated, None) == "unchanged"


def test_rebuild_from_the_archive_gives_the_same_answers(revised: Revised) -> None:
    queries = [
        "最低生活保障",
        "信息公开 年度报告",
        '"政府信息公开"',
        "养老 OR 救助",
        "通知 -公告",
        "婚姻登记",
        "title:通知",
        "year:2019",
        "余民",
        "",
    ]

    def snapshot() -> list:
        engine = WhooshEngine(revised.settings.index_path)
        out = [engine.doc_count()]
        for q in queries:
            r = engine.search(SearchRequest(q=q, page_size=10))
            out.append((q, r.total, [h.id for h in r.hits], {f: [(v.value, v.count) for v in vs] for f, vs in r.facets.items()}))
        engine.close()
        return out

    before = snapshot()
    for path in revised.settings.data_path.glob("index*"):
        (path.unlink() if path.is_symlink() else shutil.rmtree(path))
    result = CliRunner().invoke(main, ["--data-dir", str(revised.settings.data_dir), "reindex"])
    assert result.exit_code == 0, result.output
    assert snapshot() == before


def test_searches_keep_working_during_a_reindex(revised: Revised) -> None:
    """`xxgk reindex` in another process builds a new directory and swaps it in under a live searcher."""
    import subprocess
    import sys

    engine = WhooshEngine(revised.settings.index_path)
    before = revised.settings.index_path.resolve()
    cmd = [sys.executable, "-c", "from xxgk.cli import main; main()", "--data-dir", str(revised.settings.data_dir), "reindex"]
    reindex = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    totals, searches = set(), 0
    while reindex.poll() is None or searches == 0:
        engine.refresh()
        totals.add(engine.search(SearchRequest(q="工作")).total)
        searches += 1
    output = reindex.communicate()[0].decode()
    engine.refresh()
    totals.add(engine.search(SearchRequest(q="工作")).total)
    engine.close()
    assert reindex.returncode == 0, output
    assert revised.settings.index_path.resolve() != before  # a new build was swapped in
    assert searches > 1 and len(totals) == 1


def test_export_import_round_trip_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        {
            "url": "http://a.gov.cn/1.html",
            "title": "关于做好防汛工作的通知",
            "agency": "某区应急管理局",
            "published": "2019-06-01",
            "category": "通知公告",
            "doc_no": "某应急〔2019〕3号",
            "index_no": "001/2019-00001",
            "text": "第一段。\n第二段。",
        },
        {"url": "http://a.gov.cn/2.html", "title": "工作动态", "text": "正文", "id": "legacy-42"},
        "{not json",
        {"url": "ftp://x", "title": "坏网址"},
        {"url": "http://a.gov.cn/3.html", "title": "日期错误", "published": "2019-13-01"},
        {"url": "http://a.gov.cn/4.html", "title": "未知字段", "colour": "red"},
        {"url": "http://a.gov.cn/5.html", "title": "没有日期也可以"},
        {"url": "http://a.gov.cn/6.html", "title": "网址日期不是发布日期", "published": "2025-06-01", "published_source": "url"},
        {"url": "http://a.gov.cn/7.html", "title": "迁移", "listed": "2025-06-01", "listed_source": "url"},
        '{"url": "http://a.gov.cn/8.html", "title": "半个字符", "text": "表情\\ud83d被截断"}',  # an escape without its pair
        '{"url": "http://a.gov.cn/9.html", "title": "完整字符", "text": "表情\\ud83d\\ude00完整"}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    first = make_settings(tmp_path / "a")
    runner = CliRunner()
    result = runner.invoke(main, ["--data-dir", str(first.data_dir), "import", str(source), "--no-index"])
    assert result.exit_code == 1  # some lines were skipped
    for number in (3, 4, 5, 8, 10):
        assert f"in.jsonl:{number}: skipped" in result.output
    assert "field 'text' holds \\ud83d at character 3, half of a character" in result.output
    assert "in.jsonl:6: skipped" not in result.output  # another tool's field is ignored, with one warning
    assert "忽略了本程序不认识的字段 colour（1 行）" in result.output
    assert "give it as 'listed'" in result.output
    assert "新增 6" in result.output
    exported = tmp_path / "out.jsonl"
    assert runner.invoke(main, ["--data-dir", str(first.data_dir), "export", "-o", str(exported)]).exit_code == 0
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} >= {"legacy-42"}
    by_url = {r["url"]: r for r in rows}
    assert by_url["http://a.gov.cn/1.html"]["text"] == "第一段。\n第二段。"
    assert by_url["http://a.gov.cn/1.html"]["doc_no"] == "某应急〔2019〕3号"
    assert by_url["http://a.gov.cn/9.html"]["text"] == "表情\U0001f600完整"
    second = make_settings(tmp_path / "b")
    assert runner.invoke(main, ["--data-dir", str(second.data_dir), "import", str(exported), "--no-index"]).exit_code == 0
    again = tmp_path / "again.jsonl"
    runner.invoke(main, ["--data-dir", str(second.data_dir), "export", "-o", str(again)])
    assert again.read_text(encoding="utf-8") == exported.read_text(encoding="utf-8")
    csv_out = tmp_path / "out.csv"
    runner.invoke(main, ["--data-dir", str(second.data_dir), "export", "--format", "csv", "-o", str(csv_out)])
    assert (
        csv_out.read_text(encoding="utf-8-sig").splitlines()[0]
        == "id,source,url,title,agency,published,published_source,listed,listed_source,category,doc_no,index_no,text"
    )


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)

    def exploding_lines():
        yield json.dumps({"url": "http://a/1", "title": "一"})
        yield json.dumps({"url": "http://a/2", "title": "二"})
        raise OSError("disk went away while reading")

    with Catalog(settings.catalog_path) as catalog:
        with pytest.raises(OSError):
            import_documents(catalog, exploding_lines())
        assert catalog.count() == 0
        report = import_documents(catalog, [json.dumps({"url": "http://a/1", "title": "一"})])
        assert report.new == 1 and catalog.count() == 1
        with pytest.raises(RuntimeError):
            with catalog.transaction():
                catalog.record_document(Document(source_id="import", url="http://a/9", title="九"), None)
                raise RuntimeError("crash in the middle of a batch")
        assert catalog.count() == 1


def test_archived_copies_are_served_safely(revised: Revised) -> None:
    from search_web import create_app

    client = create_app(revised.settings).test_client()
    with Catalog(revised.settings.catalog_path) as catalog:
        page = catalog.captures_for(revised.edited_id)[0]
        pdf_item = next(
            i for c in revised.portal.agencies[0].columns for i in c.items if i.attachments and i.attachments[0].kind == "pdf"
        )
        pdf = catalog.last_good_capture(revised.portal.url + pdf_item.attachments[0].path)
    raw = client.get(f"/capture/{page.id}/raw")
    assert raw.status_code == 200
    assert raw.headers["Content-Security-Policy"].startswith("sandbox")
    assert "allow-same-origin" not in raw.headers["Content-Security-Policy"]
    assert raw.headers["X-Content-Type-Options"] == "nosniff" and "Set-Cookie" not in raw.headers
    text = client.get(f"/capture/{page.id}").get_data(as_text=True)
    assert revised.portal.edited.title in text and "<script" not in text.split("<main", 1)[1]
    download = client.get(f"/capture/{pdf.id}/raw")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data.startswith(b"%PDF-")
    assert client.get("/capture/99999999").status_code == 404
    assert client.get("/capture/../../etc/passwd").status_code == 404


def test_document_page_shows_versions_diff_and_withdrawn_badge(revised: Revised) -> None:
    from search_web import create_app

    client = create_app(revised.settings).test_client()
    html = client.get(f"/doc/{revised.edited_id}").get_data(as_text=True)
    assert "版本与修改记录" in html and "<ins>根据工作安排，上述时间节点顺延一周，请各单位相互转告。</ins>" in html
    gone = client.get(f"/doc/{revised.withdrawn_id}").get_data(as_text=True)
    assert "已撤回" in gone


def test_group_commit_keeps_complete_steps_undoes_a_failed_one_and_syncs_first(tmp_path: Path) -> None:
    """A crawl's batch: WARC sync before every commit; a failed step rolls back alone; a crash commits the rest."""
    settings = make_settings(tmp_path)
    seen_at_sync: list[int] = []

    def sync() -> None:  # stands in for WarcSession.sync: runs before the commit, so nothing is visible yet
        with sqlite3.connect(settings.catalog_path) as reader:
            seen_at_sync.append(reader.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def doc(n: int) -> Document:
        return Document(source_id="s", url=f"http://example.org/{n}", title=f"标题{n}", body="正文")

    with Catalog(settings.catalog_path) as catalog:
        with pytest.raises(RuntimeError):
            with catalog.batch(sync, max_age_s=3600) as batch:
                catalog.record_document(doc(1), None)
                batch.flush()
                catalog.record_document(doc(2), None)
                with pytest.raises(ValueError):
                    with catalog.transaction():  # a step that fails half-way
                        catalog.record_document(doc(3), None)
                        raise ValueError("parser blew up")
                raise RuntimeError("crawl interrupted")
        with sqlite3.connect(settings.catalog_path) as reader:
            urls = sorted(r[0] for r in reader.execute("SELECT url FROM documents"))
    assert urls == ["http://example.org/1", "http://example.org/2"]
    assert seen_at_sync == [0, 1]  # each sync ran before its commit


def test_two_runs_of_one_source_in_the_same_second_keep_both_files(tmp_path: Path) -> None:
    """Sealing a second run's file under the first run's name replaced the first file (its records were lost)."""
    from archive.store import WarcStore

    store = WarcStore(tmp_path / "warc")
    for _ in range(20):  # sessions take milliseconds: two of them almost always share their second
        refs, stamps = [], set()
        for k in range(2):
            with store.session(prefix="demo-x") as session:
                written = session.write_response(f"http://127.0.0.1/{k}", [], 200, "OK", [], f"正文{k}".encode())
                refs.append(written.ref)
                stamps.add(written.ref.file.split("-")[2])
        if len(stamps) == 1:
            break
    assert len(stamps) == 1, "could not start two sessions within one second"
    assert refs[0].file != refs[1].file
    for k, ref in enumerate(refs):
        assert store.read(ref).body(1000) == f"正文{k}".encode()
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert warcio_check(files).returncode == 0


def test_a_schema_part_migrates_once_and_readers_wait_for_it(tmp_path: Path) -> None:
    from archive.catalog import SchemaPart
    from archive.errors import ArchiveError

    path = tmp_path / "catalog.sqlite3"
    v1 = SchemaPart("notes", {1: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"})
    v2 = SchemaPart("notes", {**v1.migrations, 2: "ALTER TABLE notes ADD COLUMN lang TEXT NOT NULL DEFAULT 'zh'"})
    Catalog(path).close()
    with Catalog(path, readonly=True) as reader:
        assert reader.ensure_part(v1) is False  # a reader never creates tables
    with Catalog(path) as writer:
        assert writer.ensure_part(v1) and writer.ensure_part(v1)
        writer.conn.execute("INSERT INTO notes (text) VALUES ('一')")
        assert writer.ensure_part(v2)
        assert [tuple(r) for r in writer.conn.execute("SELECT text, lang FROM notes")] == [("一", "zh")]
        assert writer.part_version("notes") == 2
    with Catalog(path, readonly=True) as reader:
        assert reader.ensure_part(v2)
        with pytest.raises(ArchiveError, match="newer than this program"):
            reader.ensure_part(v1)


def test_two_processes_opening_a_new_catalog_at_once_both_succeed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler creating its catalog while `xxgk status` opens it: the one that read the old version
    before the other migrated must not run the migrations again ("table schema_parts already exists")."""
    from archive.catalog import SchemaPart

    path = tmp_path / "catalog.sqlite3"
    Catalog(path).close()  # the other process has migrated everything
    stale = {"catalog": True, "part": True}
    real_version, real_part_version = Catalog._version, Catalog.part_version

    def version_read_before(self: Catalog) -> int:  # this process read the version before that happened
        if stale["catalog"]:
            stale["catalog"] = False
            return 0
        return real_version(self)

    def part_version_read_before(self: Catalog, name: str) -> int:
        if stale["part"]:
            stale["part"] = False
            return 0
        return real_part_version(self, name)

    monkeypatch.setattr(Catalog, "_version", version_read_before)
    with Catalog(path) as catalog:
        assert real_version(catalog) == SCHEMA_VERSION
        part = SchemaPart("notes", {1: "CREATE TABLE notes (id INTEGER PRIMARY KEY)"})
        assert catalog.ensure_part(part)
        monkeypatch.setattr(Catalog, "part_version", part_version_read_before)
        assert catalog.ensure_part(part)
        assert real_part_version(catalog, "notes") == 1


def test_a_version_4_catalog_keeps_its_reports_as_the_reports_part(tmp_path: Path) -> None:
    from reports.store import PART, stored_reports

    path = tmp_path / "catalog.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript("".join(_MIGRATIONS[v] + ";" for v in (1, 2, 3)) + PART.migrations[1] + "PRAGMA user_version=4;")
    conn.execute("INSERT INTO documents (id, source_id, url, first_seen, last_seen, seq) VALUES ('d', 's', 'u', 'x', 'x', 1)")
    conn.execute("INSERT INTO annual_reports VALUES ('d', '某局', 2016, '年报', 'standard', '[]', '[]', '[]', '2020-01-01')")
    conn.commit()
    conn.close()
    with Catalog(path) as catalog:
        assert catalog.part_version("reports") == 1
        assert [r["agency"] for r in stored_reports(catalog)] == ["某局"]


def test_import_strict_refuses_fields_it_does_not_know(tmp_path: Path) -> None:
    source = tmp_path / "other-tool.jsonl"
    source.write_text(
        json.dumps({"url": "http://a.gov.cn/1.html", "title": "通知", "lang": "zh", "notes": "x"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    strict = runner.invoke(main, ["--data-dir", str(tmp_path / "a"), "import", str(source), "--no-index", "--strict"])
    assert strict.exit_code == 1 and "unknown field(s) lang, notes" in strict.output and "新增 0" in strict.output
    lenient = runner.invoke(main, ["--data-dir", str(tmp_path / "b"), "import", str(source), "--no-index"])
    assert lenient.exit_code == 0 and "新增 1" in lenient.output and "lang（1 行）、notes（1 行）" in lenient.output


def test_csv_export_writes_formula_like_cells_as_text(tmp_path: Path) -> None:
    import csv

    settings = make_settings(tmp_path)
    with Catalog(settings.catalog_path) as catalog:
        for n, title in enumerate(
            ['=HYPERLINK("http://evil.example","点我")', "+86 热线", "-", "@SUM(A1)", "关于印发办法的通知"]
        ):
            catalog.record_document(Document(source_id="t", url=f"http://a.gov.cn/{n}.html", title=title, body="正文。"), None)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), "export", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        titles = sorted(row["title"] for row in csv.DictReader(fh))
    assert titles == sorted(['\'=HYPERLINK("http://evil.example","点我")', "'+86 热线", "'-", "'@SUM(A1)", "关于印发办法的通知"])
