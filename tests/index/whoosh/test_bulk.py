"""The bulk writer writes the segments Whoosh's own writer writes, posting for posting; parallel rebuilds."""

from __future__ import annotations

import os
import signal
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index

from archive.catalog import Catalog
from archive.models import Document
from index import analysis, build, dictionary
from index.api import SearchRequest
from index.whoosh import sync
from index.whoosh.bulk import BulkWriter, bigram_arrays
from index.whoosh.codec import codec
from index.whoosh.engine import WhooshEngine
from index.whoosh.schema import build_schema
from tests.conftest import make_settings
from tests.search_eval import corpus

TEXT_FIELDS = ("title", "title_ng", "body", "body_ng", "doc_no")
ODD = [  # bodies that stress the analysis: astral characters, full-width, traditional, pinyin, nothing at all
    ("astral", "𠀀𠀁 测试 𪚥字 🙂 表情", "ＡＢＣ１２３ 全角"),
    ("traditional", "關於開展資訊公開工作的通知", "標(biāo)準(zhǔn)化建設 行政機關"),
    ("empty", "只有标题", ""),
    ("punct", "……", "，。！？——"),
]


def _catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "data" / "catalog.sqlite3")
    for doc in corpus.documents():
        catalog.record_document(doc, None)
    for key, title, body in ODD:
        catalog.record_document(
            Document(
                source_id="odd",
                url=f"http://odd.example.gov.cn/{key}.html",
                title=title,
                body=body,
                published=date(2020, 1, 2),
                doc_no="余政办发［2020］1號",
            ),
            None,
        )
    return catalog


def _dump(ix: Any) -> dict[str, Any]:
    """Everything a reader sees: terms, term statistics, postings with values, field lengths, stored fields."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = {}
        for fieldname, btext in reader.all_terms():
            info = reader.term_info(fieldname, btext)
            matcher = reader.postings(fieldname, btext)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), round(matcher.weight(), 4), matcher.value()))
                matcher.next()
            terms[(fieldname, btext)] = (
                info.doc_frequency(),
                round(info.weight(), 2),
                round(info.max_weight(), 4),
                info.min_id(),
                info.max_id(),
                postings,
            )
        count = reader.doc_count_all()
        return {
            "terms": terms,
            "lengths": {f: [reader.doc_field_length(d, f) for d in range(count)] for f in TEXT_FIELDS},
            "totals": {f: reader.field_length(f) for f in TEXT_FIELDS},
            "stored": [reader.stored_fields(d) for d in range(count)],
        }


def _build(where: Path, dict_id: str, fields: list[dict[str, Any]], bulk: bool, spill_every: int = 0) -> Any:
    where.mkdir()
    ix = whoosh_index.create_in(str(where), build_schema(dict_id))
    writer = BulkWriter(ix) if bulk else ix.writer(codec=codec())
    for k, f in enumerate(fields, 1):
        writer.add_document(**f)
        if spill_every and k % spill_every == 0:
            writer.spill()
    writer.commit()
    return ix


@pytest.mark.parametrize("spill_every", [0, 37], ids=["in-memory", "spilled-runs"])
def test_bulk_segment_equals_whoosh_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spill_every: int) -> None:
    # Small chunks, so terms reach the codec in several batches (one term is bigger than a chunk); with
    # spilled runs, small merge pieces, so a term's postings come from several runs in one piece, and
    # pieces end between terms (words seen only after a spill rank between the earlier ones).
    monkeypatch.setattr("index.whoosh.bulk.CHUNK_POSTINGS", 200)
    monkeypatch.setattr("index.whoosh.bulk.MERGE_TOKENS", 2000)
    monkeypatch.setattr("index.whoosh.bulk.SAMPLE", 50)
    catalog = _catalog(tmp_path)
    analysis.configure(tmp_path / "cache")
    words, _ = build.domain_words(make_settings(tmp_path / "data"), catalog)
    dict_id = dictionary.save(tmp_path, words)
    fields = [build.document_fields(s) for s in catalog.iter_documents()]
    plain = _dump(_build(tmp_path / "plain", dict_id, fields, bulk=False))
    bulk_ix = _build(tmp_path / "bulk", dict_id, fields, bulk=True, spill_every=spill_every)
    assert len(bulk_ix._segments()) == 1
    bulk = _dump(bulk_ix)
    assert len(plain["stored"]) == len(fields) > 280
    # The comparison covers multi-block terms (128 postings a block), astral bigrams and sub-words.
    assert max(t[0] for t in plain["terms"].values()) > 128
    assert ("title_ng", "𠀀𠀁".encode()) in plain["terms"]
    assert plain["terms"].keys() == bulk["terms"].keys()
    for key, value in plain["terms"].items():
        assert bulk["terms"][key] == value, key
    assert bulk["lengths"] == plain["lengths"]
    assert bulk["totals"] == plain["totals"]
    assert bulk["stored"] == plain["stored"]


@pytest.mark.parametrize("text", ["", "a", "南京市长江大桥", "ＡＢ，ｃｄ 12", "𠀀𠀁𠀂x", "關於(guān yú)…開展", "a b\nc"])
def test_bigram_arrays_match_the_tokenizer(text: str) -> None:
    keys, positions = bigram_arrays(text)
    tokens = [(t.text, t.pos) for t in analysis.BigramTokenizer()(text, positions=True)]
    got = [(chr(int(k) >> 21) + chr(int(k) & 0x1FFFFF), int(p)) for k, p in zip(keys, positions)]
    assert got == tokens


def test_failed_document_leaves_no_postings(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    writer = BulkWriter(ix)
    writer.add_document(id="a", title="第一份文件", body="养老服务补贴", pubdate=20200101)
    with pytest.raises(Exception):  # noqa: B017 - whatever Whoosh raises for a bad number, the document is dropped
        # Fields are written in name order: body and title are buffered before pubdate fails.
        writer.add_document(id="b", title="坏文件", body="独有词汇甲乙丙", pubdate="不是日期")
    writer.add_document(id="c", title="第三份文件", body="低保救助", pubdate=20200102)
    writer.commit()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert reader.doc_count_all() == 2
        assert [f["id"] for f in reader.all_stored_fields()] == ["a", "c"]
        terms = set(reader.all_terms())
        assert ("body_ng", "甲乙".encode()) not in terms
        assert ("id", b"b") not in terms and ("id", b"c") in terms
        assert "坏文件".encode() not in [t for f, t in reader.all_terms() if f == "title"]


def test_parallel_rebuild_finds_what_a_single_build_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "data")
    queries = ["南京市长江大桥", "马克思", "资讯公开", "养老", "招标 -中标", '"维修加固"', "余政办发〔2020〕1号"]

    def results() -> list[tuple[int, list[str]]]:
        engine = WhooshEngine(settings.index_path)
        try:
            return [(r.total, [h.id for h in r.hits]) for r in (engine.search(SearchRequest(q=q)) for q in queries)]
        finally:
            engine.close()

    monkeypatch.setattr(sync, "PARALLEL_FROM", 10**9)
    assert sync.rebuild(settings, catalog) == catalog.count()
    single = results()
    seen: list[int] = []
    monkeypatch.setattr(sync, "PARALLEL_FROM", 10)
    monkeypatch.setattr("index.whoosh.bulk.worker_count", lambda total, parallel_from: 2)
    assert sync.rebuild(settings, catalog, progress=seen.append) == catalog.count()
    ix = whoosh_index.open_dir(str(settings.index_path))
    assert len(ix._segments()) == 2  # one per worker
    ix.close()
    assert results() == single
    assert all(total > 0 for total, _ in single)
    assert seen and seen[-1] == catalog.count()
    # A worker whose buffers fill up (the smallest buffer: 10k tokens) spills them to disk and still
    # writes one segment (before, it started another each time: more than 4 here); the runs go with
    # the writers' temporary directories.
    monkeypatch.setattr("index.whoosh.bulk.BYTES_PER_TOKEN", 1 << 40)
    assert sync.rebuild(settings, catalog) == catalog.count()
    ix = whoosh_index.open_dir(str(settings.index_path))
    assert len(ix._segments()) == 2 and ix.doc_count() == catalog.count()
    ix.close()
    assert not list(settings.index_path.resolve().parent.rglob("*.npy"))
    assert results() == single
    spills: list[int] = []  # counted in a build without workers
    spill = BulkWriter.spill
    monkeypatch.setattr(BulkWriter, "spill", lambda self: spills.append(1) or spill(self))
    monkeypatch.setattr("index.whoosh.bulk.worker_count", lambda total, parallel_from: 1)
    assert sync.rebuild(settings, catalog) == catalog.count()
    assert len(spills) > 4
    ix = whoosh_index.open_dir(str(settings.index_path))
    assert len(ix._segments()) == 1
    ix.close()
    assert results() == single
    # A segment full (SEGMENT_TOKENS) is written and another started; every run is gone once merged,
    # before Whoosh copies the segment's files into its compound file (disk would hold all three).
    monkeypatch.setattr("index.whoosh.bulk.SEGMENT_TOKENS", 60_000)
    assembled: list[int] = []
    assemble = BulkWriter._assemble_segment

    def assemble_without_runs(self: BulkWriter) -> None:
        assert not list(Path(self._tempstorage.folder).glob("*.npy"))
        assembled.append(1)
        assemble(self)

    monkeypatch.setattr(BulkWriter, "_assemble_segment", assemble_without_runs)
    assert sync.rebuild(settings, catalog) == catalog.count()
    ix = whoosh_index.open_dir(str(settings.index_path))
    assert len(ix._segments()) == len(assembled) > 2 and ix.doc_count() == catalog.count()
    ix.close()
    assert not list(settings.index_path.resolve().parent.rglob("*.npy"))
    assert results() == single


@pytest.mark.parametrize("failure", ["raises", "killed"])
def test_failing_worker_keeps_the_old_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    catalog = _catalog(tmp_path)
    settings = make_settings(tmp_path / "data")
    sync.rebuild(settings, catalog)
    before = settings.index_path.resolve()
    real = sync.document_fields

    def broken(stored: Any, *derived: Any) -> dict[str, Any]:
        if stored.doc.url.endswith("filler0200.html"):  # in the second worker's range
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError("a broken document")
        return real(stored, *derived)

    monkeypatch.setattr(sync, "document_fields", broken)
    monkeypatch.setattr(sync, "PARALLEL_FROM", 10)
    monkeypatch.setattr("index.whoosh.bulk.worker_count", lambda total, parallel_from: 2)
    expected = "a broken document" if failure == "raises" else r"index worker died \(xxgk-index-1 exit -9\)"
    with pytest.raises(RuntimeError, match=expected):
        sync.rebuild(settings, catalog)
    assert settings.index_path.resolve() == before
    assert sorted(p.name for p in settings.index_path.parent.glob(settings.index_path.name + "-*")) == [before.name]
    engine = WhooshEngine(settings.index_path)
    assert engine.search(SearchRequest(q="南京市长江大桥")).total > 0
    engine.close()


def test_catalog_ranges_cover_every_document_once(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    for parts in (1, 2, 3, 7):
        cuts = catalog.seq_cuts(parts)
        assert len(cuts) == parts + 1 and cuts == sorted(cuts)
        seen = [s.id for lo, hi in zip(cuts, cuts[1:]) for s in catalog.iter_documents(since_seq=lo, until_seq=hi)]
        assert sorted(seen) == sorted(s.id for s in catalog.iter_documents())
        sizes = [sum(1 for _ in catalog.iter_documents(since_seq=lo, until_seq=hi)) for lo, hi in zip(cuts, cuts[1:])]
        assert max(sizes) - min(sizes) <= 1
