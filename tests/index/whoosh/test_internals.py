"""Every private Whoosh name the index code uses is listed in index/whoosh/internals.py and still exists in the pinned Whoosh."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import numpy as np
import pytest
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import RamStorage

from index.analysis import BigramTokenizer
from index.whoosh import internals
from index.whoosh.codec import codec
from index.whoosh.internals import INTERNALS, Internal, SegmentTerms, length_codes, term_postings
from index.whoosh.schema import _text

INDEX_DIR = Path(internals.__file__).parent.parent  # all of index/


def _resolve(dotted: str) -> object:
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _small_index(deleted: bool) -> object:
    """A real two-segment index; `deleted`: one document of the first segment replaced in the second."""
    schema = Schema(id=ID(stored=True, unique=True), body=_text(BigramTokenizer()))
    ix = RamStorage().create_index(schema)
    with ix.writer(codec=codec()) as w:
        for i in range(300):  # more than one posting block (the codec's block limit is 128)
            w.add_document(id=f"d{i}", body=f"公开{i % 7}目录")
    with ix.writer(codec=codec()) as w:
        if deleted:
            w.update_document(id="d5", body="公开目录更新")
        else:
            w.add_document(id="e1", body="公开目录更新")
    return ix


@pytest.mark.parametrize("item", INTERNALS, ids=lambda i: f"{i.owner.rsplit('.', 1)[-1]}.{i.name}")
def test_each_listed_internal_exists_in_the_pinned_whoosh(item: Internal) -> None:
    owner = _resolve(item.owner)
    if item.kind in ("method", "attribute", "module"):
        assert hasattr(owner, item.name), f"{item.owner}.{item.name} is gone: see {item.used_in}"
        if item.kind == "method":
            assert callable(getattr(owner, item.name))
        return
    # Instance attributes: the class's own source assigns them (Whoosh sets them in __init__ or at run time).
    assert item.kind == "instance"
    sources = "".join(inspect.getsource(k) for k in inspect.getmro(owner) if k.__module__.startswith("whoosh"))
    assert f"self.{item.name} =" in sources, f"{item.owner} no longer sets self.{item.name}: see {item.used_in}"


def _private_names(path: Path) -> set[str]:
    """Private names a module uses that it does not define itself (attributes, imports from whoosh)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute):
                    defined.add(sub.attr)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            used.add(node.attr)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
            used |= {a.name for a in node.names if a.name.startswith("_")}
    own_classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    whoosh_based = any(isinstance(b, ast.Name) and b.id[0].isupper() for c in own_classes for b in c.bases)
    if whoosh_based:
        # A subclass of a Whoosh class that sets or overrides a private name of its base depends on it too.
        listed = {i.name for i in INTERNALS}
        used |= defined & listed
    return used - (defined - {i.name for i in INTERNALS})


def test_no_private_whoosh_name_is_used_without_being_listed() -> None:
    listed = {i.name for i in INTERNALS}
    sources = {path: path.read_text(encoding="utf-8") for path in sorted(INDEX_DIR.rglob("*.py"))}
    unlisted = {}
    for path in sources:
        # Names this project defines in any of its own modules (a method, an attribute it sets) are not Whoosh's.
        names = {
            n
            for n in _private_names(path) - listed
            if not any(f"def {n}(" in text or f"self.{n} =" in text or f"self.{n}:" in text for text in sources.values())
        }
        if names:
            unlisted[str(path.relative_to(INDEX_DIR.parent))] = sorted(names)
    assert not unlisted, f"private Whoosh names used but not listed in index/whoosh/internals.py: {unlisted}"


def test_the_checker_sees_an_unlisted_private_name(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(reader):\n    return reader._secret_cache\n", encoding="utf-8")
    assert "_secret_cache" in _private_names(sample)


@pytest.mark.parametrize("deleted", [False, True])
def test_term_postings_equal_the_public_matcher(deleted: bool) -> None:
    """A whole-term read gives every posting the public per-posting matcher gives, plus the deleted ones."""
    ix = _small_index(deleted)
    with ix.searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():
            reader = leaf.reader()
            for text in ("公开", "目录", "开1", "不在"):
                found = term_postings(SegmentTerms(reader), "body", text, values=True)
                assert (found is None) == ((("body", text)) not in reader)
                ids = found.ids.tolist() if found else []
                public_ids, public_weights, public_values = [], [], []
                if found is not None:
                    m = reader.postings("body", text)
                    while m.is_active():
                        public_ids.append(m.id())
                        public_weights.append(m.weight())
                        public_values.append(m.value())
                        m.next()
                dead = set(range(reader.doc_count_all())) - set(reader.all_doc_ids())
                if text == "公开" and reader.doc_count_all() > 100:
                    assert len(ids) > 2 * 128  # the read crosses posting blocks
                live = [i not in dead for i in ids]
                assert [i for i, keep in zip(ids, live) if keep] == public_ids
                assert found is None or np.allclose(found.weights[live], public_weights)
                assert [v for v, keep in zip(found.values or [] if found else [], live) if keep] == public_values
                if deleted and text == "公开" and reader.doc_count_all() > 1:
                    assert dead and dead <= set(ids)  # the deleted document's posting is still read


@pytest.mark.parametrize("writer", ["bulk", "codec", "compressed"])
def test_term_postings_read_what_each_writer_wrote(tmp_path: Path, writer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Terms written whole by the bulk writer (index/whoosh/bulk.py), per posting by Whoosh's writer with
    our codec, and compressed, read back as Whoosh's own matcher reads them."""
    from whoosh import index as whoosh_index

    from index.whoosh.bulk import BulkWriter
    from index.whoosh.codec import Codec
    from index.whoosh.schema import build_schema

    real_deltas = internals._deltas

    def short(parts: list[bytes]) -> tuple[int, ...]:
        return real_deltas(parts)[:-1]

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    w = BulkWriter(ix) if writer == "bulk" else ix.writer(codec=codec() if writer == "codec" else Codec(compression=3))
    for i in range(1500):
        body = "公开" * (1 + i % 3) + f"目录{i % 11} 养老服务 养老"  # 养老: weight 2 everywhere
        if i % 300 == 7:
            body += " 稀有词"  # a sparse term: deltas of 300 (two-byte ints)
        w.add_document(id=f"d{i}", title=f"通知{i % 5}", body=body, pubdate=20200101 + i % 28)
    w.commit()
    with ix.searcher() as searcher:
        reader = next(leaf.reader() for leaf, _ in searcher.leaf_searchers())
        for field, text in (("body", "公开"), ("body", "目录"), ("body", "养老"), ("title", "通知"), ("body", "稀有")):
            m = reader.postings(field, text)
            expected = []
            while m.is_active():
                expected.append((m.id(), m.weight(), m.value()))
                m.next()
            assert len(expected) > 4
            found = term_postings(SegmentTerms(reader), field, text, values=True)
            assert found is not None
            assert list(zip(found.ids.tolist(), found.weights.tolist(), found.values or [])) == expected
            # Without values, the blocks are decoded without unpickling them: the same ids and weights.
            bare = term_postings(SegmentTerms(reader), field, text)
            assert bare is not None and bare.values is None
            assert list(zip(bare.ids.tolist(), bare.weights.tolist())) == [(i, wt) for i, wt, _ in expected]
            # A block the fast way misreads (an item short, a record not a float) sends the whole term
            # the slow way, with the same result.
            for name, broken in (("_deltas", short), ("_floats", lambda _: None)):
                with monkeypatch.context() as patch:
                    patch.setattr(internals, name, broken)
                    again = term_postings(SegmentTerms(reader), field, text)
                assert again is not None
                assert list(zip(again.ids.tolist(), again.weights.tolist())) == [(i, wt) for i, wt, _ in expected]


@pytest.mark.parametrize(
    "deltas, weights",
    [
        ((1, 2, 3, 255), None),
        ((7, 256, 300, 65535, 1), 2.0),
        ((0, 1, 1, 1, 1), (1.0, 2.0, 0.5, 3.0, 1.0)),
        ((3, 70000, 1, 1), None),  # a four-byte int
        ((3, 2**31, 1, 1), None),  # a long: not the common shape
        ((1, 2, 3), None),  # three postings: TUPLE3, no MARK
        ((1, 2, 3, 4), (1.0, 2.0, 3.0, 4.0)[:3] + (5,)),  # an int weight: not the common shape
    ],
)
def test_block_without_values_equals_the_block_unpickled(deltas: tuple[int, ...], weights: object) -> None:
    import pickle

    from index.whoosh.internals import _block_fields, _decoded, _weight_part

    values = tuple(bytes([1, 0, 0, 0]) * (k % 3 + 1) for k in range(len(deltas)))
    expected: list[object] = [1.0] * len(deltas) if weights is None else [weights] * len(deltas)
    if isinstance(weights, tuple):
        expected = list(weights)
    for memo in (False, True):
        block = pickle.dumps((deltas, weights, values), 2)
        if memo:  # a long memo store after the deltas, as a pickler past 256 memoised objects writes it
            block = block.replace(b"tq\x00", b"tr\x00\x00\x00\x00", 1)
            assert pickle.loads(block) == (deltas, weights, values)
        fields = _block_fields(block, len(deltas))
        common = (
            len(deltas) >= 4
            and max(deltas) < 2**31
            and (weights is None or all(isinstance(w, float) for w in (weights if isinstance(weights, tuple) else [weights])))
        )
        assert (fields is not None) == common
        if fields is None:
            continue
        # Decoded alone, and together with a block unpickled whole (as a short last block is).
        for before in ([], [((9, 1), (3.0, 4.0))]):
            steps, got = _decoded(
                [*(d for d, _ in before), fields[0]],
                [_weight_part(w, len(d)) for d, w in before] + [_weight_part(fields[1], len(deltas))],
                [len(d) for d, _ in before] + [len(deltas)],
            )
            assert steps is not None and got is not None
            assert steps.tolist() == [x for d, _ in before for x in d] + list(deltas)
            assert got.tolist() == [x for _, w in before for x in w] + expected
        # A block whose count is not what its opcodes hold is refused (the read then unpickles it).
        assert _decoded([fields[0]], [_weight_part(fields[1], len(deltas))], [len(deltas) + 1])[0] is None


def test_length_codes_equal_the_public_lengths() -> None:
    from whoosh.util.numeric import byte_to_length, length_to_byte

    ix = _small_index(deleted=True)
    with ix.searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():
            reader = leaf.reader()
            codes = length_codes(reader, "body")
            assert codes is not None and len(codes) == reader.doc_count_all()
            for d in range(reader.doc_count_all()):
                assert byte_to_length(int(codes[d])) == byte_to_length(length_to_byte(reader.doc_field_length(d, "body")))


def test_a_read_within_some_documents_decodes_their_blocks_only(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    from index.whoosh.bulk import BulkWriter
    from index.whoosh.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    w = BulkWriter(ix)
    for i in range(1500):
        w.add_document(id=f"d{i}", title="通知", body="公开" * (1 + i % 3) + " 目录", pubdate=20200101)
    w.commit()
    with ix.searcher() as searcher:
        reader = next(leaf.reader() for leaf, _ in searcher.leaf_searchers())
        whole = term_postings(SegmentTerms(reader), "body", "公开", values=True)
        assert whole is not None and whole.values is not None
        values = dict(zip(whole.ids.tolist(), whole.values))
        for within in ([3], [0, 700, 1499], list(range(200, 260)), [], [1499]):
            part = term_postings(SegmentTerms(reader), "body", "公开", values=True, within=np.array(within, dtype=np.int64))
            assert part is not None and part.values is not None
            got = dict(zip(part.ids.tolist(), part.values))
            assert set(within) <= set(got) and all(values[d] == v for d, v in got.items())
            blocks = {d // 128 for d in within}
            assert len(got) <= 128 * len(blocks)  # one block (128 postings) per block a wanted document is in


def test_phrases_checked_on_a_few_blocks_equal_phrases_checked_on_whole_postings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh import index as whoosh_index

    from index.analysis import word_runs
    from index.whoosh.bulk import BulkWriter
    from index.whoosh.postings import PostingCache, phrase_docs
    from index.whoosh.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    w = BulkWriter(ix)
    bodies = ["的工作", "政府信息公开", "公开政府信息", "政府的信息公开工作", "信息公开的政府"]
    for i in range(1200):
        w.add_document(id=f"d{i}", title="通知", body=bodies[i % 5] + ("。政府信息公开" if i == 1111 else ""), pubdate=20200101)
    w.commit()
    runs = [run for text in ("政府信息公开", "信息公开工作", "公开政府", "的工作") for run in word_runs(text)]
    with ix.searcher() as searcher:
        live = np.ones(searcher.reader().doc_count_all(), dtype=bool)
        found = {}
        for sparse in (0, 10**9):  # never, always only the candidates' blocks
            monkeypatch.setattr("index.whoosh.postings.SPARSE", sparse)
            # A fresh cache for each phrase: a term asked for twice is read whole the second time.
            found[sparse] = [phrase_docs(PostingCache(searcher, live), "body", run).tolist() for run in runs]
            few = np.array([3, 1111], dtype=np.int64)
            found[sparse].append(phrase_docs(PostingCache(searcher, live), "body", ["政府", "信息", "公开"], within=few).tolist())
            again = PostingCache(searcher, live)  # and the same phrase twice in one cache
            assert phrase_docs(again, "body", ["政府", "信息"], within=few).tolist() == [1111]
            assert phrase_docs(again, "body", ["政府", "信息"], within=few).tolist() == [1111]
        assert found[0] == found[10**9]
        assert found[0][-1] == [1111] and len(found[0][0]) == 240  # 政府信息公开: every fifth body (d1111 is one)


def test_direct_lookups_equal_whooshs_for_every_term(tmp_path: Path) -> None:
    """The hash probe read straight from the segment file finds every term Whoosh finds, with the same info and
    postings, and misses what Whoosh misses (absent terms, an unknown field)."""
    from whoosh import index as whoosh_index

    from index.whoosh.bulk import BulkWriter
    from index.whoosh.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    w = BulkWriter(ix)
    for i in range(700):
        w.add_document(id=f"d{i}", title=f"通知{i % 13}", body=f"政府信息公开{i % 97} 目录{i % 5}", pubdate=20200101 + i % 28)
    w.commit()
    with ix.writer(codec=codec()) as writer:  # a second segment, by Whoosh's own writer
        writer.update_document(id="d3", title="更新的通知", body="政府信息公开 更新", pubdate=20210101)
    from index.whoosh.sync import open_index

    with open_index(tmp_path, mmap=False).searcher() as searcher:  # as the engine opens it
        leaves = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert len(leaves) == 2
        for reader in leaves:
            direct, plain = SegmentTerms(reader), SegmentTerms(reader, direct=False)
            assert direct._file is not None and plain._file is None  # the probe is what is tested
            terms = list(reader.all_terms())
            assert len(terms) > (500 if reader.doc_count_all() > 1 else 10)
            for field, btext in terms:
                text = reader.schema[field].from_bytes(btext)
                if not isinstance(text, str):  # the numeric date fields: never looked up by term
                    continue
                whoosh_info = reader._terms.term_info(field, btext)
                info = direct.info(field, text)
                assert info is not None, (field, text)
                assert (info.doc_frequency(), info.extent()) == (whoosh_info.doc_frequency(), whoosh_info.extent())
                assert direct.doc_frequency(field, text) == reader.doc_frequency(field, btext)
            for field, text in (("body", "不在索引"), ("title", "目录"), ("nosuchfield", "通知"), ("body", "")):
                assert direct.info(field, text) is None and plain.info(field, text) is None
            texts = [(f, t.decode("utf-8")) for f, t in terms if f in ("title", "body", "title_ng", "body_ng")]
            assert len(texts) > (100 if reader.doc_count_all() > 1 else 5)
            for field, text in texts[::17]:
                a, b = term_postings(direct, field, text, values=True), term_postings(plain, field, text, values=True)
                assert a is not None and b is not None
                assert a.ids.tolist() == b.ids.tolist() and a.weights.tolist() == b.weights.tolist() and a.values == b.values
            direct.close()


def test_a_term_far_more_common_than_its_candidates_is_never_read_whole_for_positions(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    from index.whoosh.bulk import BulkWriter
    from index.whoosh.postings import SPARSE, PostingCache
    from index.whoosh.schema import build_schema
    from index.whoosh.sync import open_index

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    w = BulkWriter(ix)
    for i in range(1200):
        w.add_document(id=f"d{i}", title="通知", body=f"政府信息公开{i % 7}", pubdate=20200101)
    w.commit()
    with open_index(tmp_path, mmap=False).searcher() as searcher:
        cache = PostingCache(searcher, np.ones(1200, dtype=bool))
        assert cache.doc_freq("body", "政府") == 1200
        few = np.array([5, 600], dtype=np.int64)  # 2 * SPARSE² candidates are far fewer than 1200 holders
        assert len(few) * SPARSE * SPARSE < 1200
        some = np.arange(0, 1200, 50, dtype=np.int64)  # 24: fewer than 1/SPARSE, not far fewer
        assert len(some) * SPARSE < 1200 <= len(some) * SPARSE * SPARSE
        for docs, kept in ((few, False), (some, True)):
            for _ in range(2):  # asked twice: a recurring phrase
                pos_docs, pos = cache.positions("body", "政府", docs)
                assert set(docs.tolist()) <= set(pos_docs.tolist())
            held = cache.cached("body", "政府")
            assert (held is not None and held.pos is not None) == kept
        cache.close()


def test_a_term_counted_is_read_without_probing_its_segments_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A term's per-segment infos, looked up for its count, serve its read: one probe per segment, and
    the postings are those Whoosh's own matcher gives, across segments and with an absent term."""
    from whoosh import index as whoosh_index

    from index.whoosh.bulk import BulkWriter
    from index.whoosh.postings import PostingCache
    from index.whoosh.schema import build_schema

    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for part in range(2):  # two segments
        w = BulkWriter(ix)
        for i in range(300):
            w.add_document(id=f"d{part}-{i}", title="通知", body="信息公开" if i % 3 else "工作动态", pubdate=20200101)
        w.commit(merge=False)
    probes: list[tuple[str, str]] = []
    original = SegmentTerms.info

    def counted(self: SegmentTerms, field: str, text: str) -> object:
        probes.append((field, text))
        return original(self, field, text)

    monkeypatch.setattr(SegmentTerms, "info", counted)
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 2
        cache = PostingCache(searcher, np.ones(searcher.reader().doc_count_all(), dtype=bool))
        for text in ("公开", "没有"):
            probes.clear()
            count = cache.doc_freq("body", text)
            within = cache.among("body", text, np.array([1, 2, 450], dtype=np.int64)).tolist()  # the candidates' blocks
            ids = cache.get("body", text).ids.tolist()
            assert probes == [("body", text)] * 2, text
            matcher = [] if not count else list(searcher.postings("body", text).all_ids())
            assert ids == matcher and len(ids) == count and within == [d for d in (1, 2, 450) if d in matcher]
        assert count == 0 and ids == []
