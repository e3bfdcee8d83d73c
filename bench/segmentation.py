"""Benchmark: segmentation speed of jieba and jieba-rs (rjieba), with and without HMM, and whether they agree.

The texts are the judged evaluation's documents and N generated bench documents, normalised as the
index normalises them. Speed is characters per second on one core; "identical" counts documents whose
(word, start, end) sequence is the same as jieba's with the same HMM setting.

Usage: python bench/segmentation.py [N]   (default 1000 generated documents)
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from import_export import make_lines  # noqa: E402

from index import analysis  # noqa: E402
from tests.search_eval.corpus import documents  # noqa: E402


def texts(n: int) -> list[str]:
    out = [analysis.normalize(f"{d.title}\n{d.body}") for d in documents()]
    for line in make_lines(n):
        item = json.loads(line)
        out.append(analysis.normalize(f"{item['title']}\n{item['text']}"))
    return out


def timed(cut: Callable[[str], list[tuple[str, int, int]]], corpus: list[str]) -> tuple[float, list[list[tuple[str, int, int]]]]:
    cut(corpus[0])  # dictionaries loaded before the clock starts
    started = time.perf_counter()
    result = [[tuple(t) for t in cut(text)] for text in corpus]  # type: ignore[misc]
    return time.perf_counter() - started, result


def main() -> None:
    import rjieba

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    corpus = texts(n)
    chars = sum(map(len, corpus))
    jieba_tk = analysis.segmenter("")
    fast = rjieba.Jieba()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{len(corpus)} documents, {chars:,} characters ({chars // len(corpus)} a document)")
    print(f"{'cutter':<22}{'M chars/s':>10}{'docs/s':>9}{'identical to jieba':>22}")
    for hmm in (True, False):
        spent, reference = timed(lambda t, hmm=hmm: list(jieba_tk.tokenize(t, HMM=hmm)), corpus)
        print(f"{'jieba, HMM ' + ('on' if hmm else 'off'):<22}{chars / spent / 1e6:>10.2f}{len(corpus) / spent:>9.0f}{'-':>22}")
        spent, result = timed(lambda t, hmm=hmm: fast.tokenize(t, "default", hmm), corpus)
        same = sum(1 for a, b in zip(reference, result, strict=True) if a == b)
        share = f"{same}/{len(corpus)} ({100 * same / len(corpus):.1f}%)"
        print(
            f"{'jieba-rs, HMM ' + ('on' if hmm else 'off'):<22}{chars / spent / 1e6:>10.2f}{len(corpus) / spent:>9.0f}{share:>22}"
        )
    # The whole word analysis the index runs (dictionary cut, sub-words, positions), as shipped.
    started = time.perf_counter()
    tokens = sum(sum(1 for _ in analysis.word_tokens(text)) for text in corpus)
    spent = time.perf_counter() - started
    print(f"word_tokens as shipped: {chars / spent / 1e6:.2f} M chars/s, {len(corpus) / spent:.0f} docs/s, {tokens:,} tokens")


if __name__ == "__main__":
    main()
