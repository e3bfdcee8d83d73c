"""What every index engine builds from the same way: a catalog document's index fields, the domain
dictionary's words, the index's meta file, and a rebuild's new directory with its atomic swap."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.catalog import Catalog, StoredDocument
from archive.settings import Settings
from index import dictionary, learned, vocabulary
from index.api import UNKNOWN_YEAR, UNSTATED
from index.docno import parse_doc_no
from index.errors import IndexMissingError
from index.relations.store import derived_changes

META_FILE = "xxgk-index.json"
INDEX_LOCK_WAIT_S = 600.0  # a rebuild of a large archive can hold the writer lock for minutes


def document_fields(stored: StoredDocument, derived: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Index fields of a catalog document; attachment text is indexed with its document.

    `derived` holds (validity, group id) as the documents' relations say: the 有效性 facet shows
    已废止 or 已修订 where the page states none, and results collapse a group of reposts and copies."""
    validity, group = (derived or {}).get(stored.id, ("", ""))
    doc = stored.doc
    attachment_text = "\n".join(a.text for a in doc.attachments if a.text)
    text = doc.body + ("\n" + attachment_text if attachment_text else "")
    # The publisher is searchable with the body (民政局 低保), though not part of the shown text.
    searchable = text + ("\n" + doc.agency if doc.agency else "")
    parsed = parse_doc_no(doc.doc_no) if doc.doc_no else None
    return {
        "id": stored.id,
        "source": doc.source_id,
        "title": doc.title,
        "title_ng": doc.title,
        "body": searchable,
        "body_ng": searchable,
        "doc_no": doc.doc_no,
        "doc_key": parsed.key if parsed else "",
        "doc_code": parsed.code if parsed else "",
        "agency": doc.agency or "未注明",
        "category": doc.category or "未分类",
        "year": str(doc.published.year) if doc.published else UNKNOWN_YEAR,
        "pubdate": int(doc.published.strftime("%Y%m%d")) if doc.published else 0,
        "listdate": int(doc.listed.strftime("%Y%m%d")) if doc.listed and not doc.published else 0,
        "status": stored.status,
        "validity": doc.validity or validity or UNSTATED,
        "group": group,
        "url": doc.url,
        "text": text,
        "seq": stored.seq,
    }


def read_meta(index_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def no_index(index_dir: Path, engine: str = "") -> IndexMissingError:
    """The error for a directory without a search index (of `engine`, when named), with its remedy."""
    return IndexMissingError(f"{index_dir} 没有{f' {engine} ' if engine else ''}检索索引", "运行 `xxgk reindex` 从存档建立索引")


def checked_meta(index_dir: Path, schema_version: str) -> dict[str, Any]:
    """The index's meta, or IndexMissingError when another version of the program (another schema or
    analysis) built the index: the remedy is a rebuild."""
    meta = read_meta(index_dir)
    if meta.get("schema_version") != schema_version:
        raise IndexMissingError(
            f"{index_dir} 的检索索引由其他版本的程序建立（格式 {meta.get('schema_version')!r}，本程序需要 {schema_version!r}）",
            "运行 `xxgk reindex` 从存档重建索引",
        )
    return meta


def write_meta(index_dir: Path, meta: dict[str, Any]) -> None:
    tmp = index_dir / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(tmp, index_dir / META_FILE)


def swap(link: Path, new_dir: Path) -> None:
    """Point `link` at `new_dir` atomically; remove the directory it pointed at before."""
    old_target = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        legacy = link.with_name(link.name + "-legacy-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S"))
        os.replace(link, legacy)
        old_target = legacy
    tmp = link.with_name(link.name + ".swap")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(new_dir.name, tmp)
    os.replace(tmp, link)
    # Keep the previous build (searchers still open on it finish their work); remove older ones and
    # builds left behind by a killed rebuild.
    keep = {new_dir.resolve(), old_target.resolve() if old_target else None}
    for stale in link.parent.glob(link.name + "-*"):
        if stale.is_dir() and stale.resolve() not in keep:
            shutil.rmtree(stale, ignore_errors=True)


def domain_words(settings: Settings, catalog: Catalog) -> tuple[list[str], list[list[str]]]:
    """The dictionary's words and the learned synonym groups, from the catalog's metadata and texts.

    Every synonym-table word (shipped, the operator's, learned) is a dictionary word too, so that
    非遗 in 第三批非遗 is segmented whole and found as a table word."""
    agencies: set[str] = set()
    titles: list[str] = []
    texts: list[str] = []
    defining: list[str] = []
    doc_nos: list[str] = []
    for stored in catalog.iter_documents():
        doc = stored.doc
        if doc.agency:
            agencies.add(doc.agency)
        titles.append(doc.title)
        if "《" in doc.body or "〔" in doc.body:
            texts.append(doc.body)
        if "简称" in doc.body:
            defining.append(doc.body)
        if doc.doc_no:
            doc_nos.append(doc.doc_no)
    groups = learned.collect(agencies, defining)
    table = vocabulary.load_synonyms(settings.synonyms_file or None).with_groups(groups)
    words = dictionary.collect(agencies, titles, texts, doc_nos, table.dictionary_words())
    return words, groups


@dataclass
class Build:
    """A rebuild in progress: its new directory and what every engine's build starts from."""

    dir: Path
    seq: int  # the catalog's last change, included
    derived: dict[str, tuple[str, str]]  # (validity, group) as the relations say, by document id
    vseq: int
    dict_id: str
    count: int = 0  # documents indexed: the engine sets it


@contextlib.contextmanager
def new_build(settings: Settings, catalog: Catalog, meta: Mapping[str, Any]) -> Iterator[Build]:
    """A new index directory beside the current one, with the domain dictionary and learned synonyms
    saved; when the block ends its meta (`meta` and the build's figures) is written and it is swapped
    in, and when the block fails it is removed."""
    link = settings.index_path
    link.parent.mkdir(parents=True, exist_ok=True)
    new_dir = link.with_name(f"{link.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}")
    new_dir.mkdir()
    try:
        seq = catalog.max_seq()
        derived, vseq = derived_changes(catalog, 0)
        words, groups = domain_words(settings, catalog)
        learned.save(new_dir, groups)
        build = Build(new_dir, seq, derived, vseq, dictionary.save(new_dir, words))
        yield build
        figures = {"catalog_seq": seq, "relations_vseq": vseq, "documents": build.count, "dict_id": build.dict_id}
        write_meta(new_dir, {**meta, **figures, "built_at": datetime.now(UTC).isoformat()})
    except BaseException:
        shutil.rmtree(new_dir, ignore_errors=True)
        raise
    swap(link, new_dir)


@dataclass
class SyncPlan:
    """What a sync writes: documents changed since the index's catalog seq, then those whose derived
    fields moved (another document's arrival repealed them or grouped them with a repost)."""

    documents: list[StoredDocument]
    derived: dict[str, tuple[str, str]]
    seq: int
    vseq: int

    @classmethod
    def of(cls, catalog: Catalog, meta: Mapping[str, Any]) -> SyncPlan:
        seq = catalog.max_seq()
        derived, vseq = derived_changes(catalog, 0)
        moved = set(derived_changes(catalog, int(meta.get("relations_vseq", 0)))[0])
        changed = list(catalog.iter_documents(since_seq=int(meta.get("catalog_seq", 0))))
        moved -= {s.id for s in changed}
        changed += [other for doc_id in sorted(moved) if (other := catalog.get(doc_id)) is not None]
        return cls(changed, derived, seq, vseq)

    def record(self, index_dir: Path, meta: dict[str, Any], catalog: Catalog) -> None:
        """The index's meta after the sync: the seqs it now includes."""
        now = datetime.now(UTC).isoformat()
        meta.update(catalog_seq=self.seq, relations_vseq=self.vseq, documents=catalog.count(), synced_at=now)
        write_meta(index_dir, meta)


class BoundWriter:
    """An `IndexWriter`: one engine's rebuild and sync functions, bound to one settings object."""

    def __init__(
        self,
        settings: Settings,
        rebuild: Callable[[Settings, Catalog, Callable[[int], None] | None], int],
        sync: Callable[[Settings, Catalog], int],
    ) -> None:
        self.settings = settings
        self._rebuild = rebuild
        self._sync = sync

    def rebuild(self, catalog: Catalog, progress: Callable[[int], None] | None = None) -> int:
        return self._rebuild(self.settings, catalog, progress)

    def sync(self, catalog: Catalog) -> int:
        return self._sync(self.settings, catalog)
