"""Benchmark: import N documents from JSON lines, export them, and check the round trip is exact.

Usage: python bench/import_export.py [N]   (default 100000)
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from archive.catalog import Catalog
from archive.transfer import export_documents, import_documents
from xxgk.demo.corpus import people_daily_sentences

AGENCIES = ["余杭区民政局", "余杭区教育局", "余杭区卫生健康局", "余杭区财政局", "余杭区人力资源和社会保障局"]
CATEGORIES = ["通知公告", "政策文件", "工作动态", "政府信息公开年度报告"]


def iter_lines(n: int) -> Iterator[str]:
    """`n` generated documents as import lines, made one at a time (a million do not fit in memory twice)."""
    rng = random.Random(42)
    sentences = people_daily_sentences()
    for i in range(n):
        year = rng.randint(2010, 2024)
        body = "".join(rng.choice(sentences) for _ in range(rng.randint(4, 20)))
        yield json.dumps(
            {
                "url": f"http://bench.example.gov.cn/art/{year}/{i}.html",
                "title": body[: rng.randint(12, 30)],
                "agency": rng.choice(AGENCIES),
                "published": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "category": rng.choice(CATEGORIES),
                "doc_no": f"余政〔{year}〕{rng.randint(1, 99)}号" if i % 3 == 0 else "",
                "index_no": f"002510{i % 1000:03d}/{year}-{i:05d}",
                "text": body,
            },
            ensure_ascii=False,
        )


def make_lines(n: int) -> list[str]:
    return list(iter_lines(n))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    lines = make_lines(n)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        catalog = Catalog(Path(tmp) / "a.sqlite3")
        started = time.perf_counter()
        with open(src, encoding="utf-8") as fh:
            report = import_documents(catalog, fh)
        imported = time.perf_counter() - started
        out = Path(tmp) / "out.jsonl"
        started = time.perf_counter()
        with open(out, "w", encoding="utf-8") as fh:
            exported_count = export_documents(catalog, fh)
        exported = time.perf_counter() - started
        catalog.close()
        again_catalog = Catalog(Path(tmp) / "b.sqlite3")
        with open(out, encoding="utf-8") as fh:
            import_documents(again_catalog, fh)
        again = Path(tmp) / "again.jsonl"
        with open(again, "w", encoding="utf-8") as fh:
            export_documents(again_catalog, fh)
        again_catalog.close()
        exact = out.read_bytes() == again.read_bytes()
    print(f"documents: {n}")
    print(f"import: {imported:.1f} s ({n / imported:,.0f} docs/s), new={report.new}, errors={len(report.errors)}")
    print(f"export: {exported:.1f} s ({exported_count / exported:,.0f} docs/s)")
    print(f"round trip exact: {exact}")


if __name__ == "__main__":
    main()
