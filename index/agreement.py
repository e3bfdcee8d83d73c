"""Does the index equal the catalog? Every document present once, at its current version and status, nothing extra."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from archive.catalog import Catalog
from index.api import SearchBackend


@dataclass
class Agreement:
    """The differences between an index and the catalog it was derived from (none: they agree)."""

    index_documents: int = 0
    catalog_documents: int = 0
    missing: list[str] = field(default_factory=list)  # in the catalog, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, not in the catalog
    duplicated: list[str] = field(default_factory=list)  # in the index more than once
    stale: list[tuple[str, int, int]] = field(default_factory=list)  # (id, index seq, catalog seq)
    status: list[tuple[str, str, str]] = field(default_factory=list)  # (id, index status, catalog status)

    @property
    def differences(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.duplicated) + len(self.stale) + len(self.status)

    @property
    def ok(self) -> bool:
        return not self.differences

    def problems(self, limit: int = 20) -> list[str]:
        """One line per difference (at most `limit` of each kind), in Chinese for the user."""
        lines = [f"缺失（存档有、索引无）：{d}" for d in self.missing[:limit]]
        lines += [f"多余（索引有、存档无）：{d}" for d in self.extra[:limit]]
        lines += [f"重复（索引中出现多次）：{d}" for d in self.duplicated[:limit]]
        lines += [f"版本过期：{d}（索引为变更序号 {i}，存档为 {c}）" for d, i, c in self.stale[:limit]]
        lines += [f"状态不符：{d}（索引为 {i}，存档为 {c}）" for d, i, c in self.status[:limit]]
        return lines


def compare(engine: SearchBackend, catalog: Catalog) -> Agreement:
    """Compare the documents `engine` serves with the catalog's current documents."""
    indexed = engine.documents()
    counts = Counter(d.id for d in indexed)
    seen = {d.id: (d.seq, d.status) for d in indexed}
    report = Agreement(index_documents=len(indexed), duplicated=sorted(d for d, n in counts.items() if n > 1))
    current = set()
    for stored in catalog.iter_documents():
        report.catalog_documents += 1
        current.add(stored.id)
        found = seen.get(stored.id)
        if found is None:
            report.missing.append(stored.id)
            continue
        seq, status = found
        if seq != stored.seq:
            report.stale.append((stored.id, seq, stored.seq))
        if status != stored.status:
            report.status.append((stored.id, status, stored.status))
    report.extra = sorted(set(seen) - current)
    return report
