"""Judged relation extraction: every labelled document's references, typed and resolved, against the labels;
prints precision and recall per relation type. A found relation is right when its source, type and
target are labelled and its evidence sentence holds the labelled words.

Usage: python -m tests.relations_eval.evaluate [--show-misses]
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from index.analysis import normalize
from index.docno import parse_doc_no
from index.relations.extract import KINDS, extract, title_key
from index.relations.resolve import Candidate, Resolver

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Score:
    kind: str
    labelled: int
    found: int
    right: int

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.labelled if self.labelled else 1.0


def _target(text: str) -> str:
    """A label's target: a document id, or "?" and the key of a title or 文号 not in the archive."""
    if not text.startswith("?"):
        return text
    parsed = parse_doc_no(text[1:])
    return "?" + (parsed.key if parsed else title_key(text[1:]))


def load() -> tuple[list[dict[str, object]], dict[tuple[str, str, str], str]]:
    """The documents, and each labelled (source, kind, target) with the words of its evidence sentence."""
    docs = tomllib.loads((HERE / "corpus.toml").read_text(encoding="utf-8"))["doc"]
    labels = {(str(d["id"]), kind, _target(target)): evidence for d in docs for kind, target, evidence in d.get("rel", [])}
    return docs, labels


def predict(docs: list[dict[str, object]]) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(source, kind, targets, evidence) of every reference the extractor and resolver find: targets is
    the resolved document's id, or "?" and each key of an unresolved reference (文号 first)."""
    candidates = [Candidate(str(d["id"]), str(d["title"]), str(d.get("doc_no", "")), d.get("published")) for d in docs]  # type: ignore[arg-type]
    resolver = Resolver(candidates)
    found = []
    for doc, me in zip(docs, candidates):
        for ref in extract(me.title, str(doc["body"]), me.doc_no):
            where = resolver.resolve(ref, me)
            targets = (where.target,) if where.target else tuple("?" + k for k in (ref.doc_no, ref.title) if k)
            found.append((me.id, ref.kind, targets, ref.sentence))
    return found


def scores(show_misses: bool = False) -> list[Score]:
    docs, labels = load()
    predicted: dict[tuple[str, str, str], str] = {}
    for src, kind, targets, sentence in predict(docs):
        # An unresolved reference counts once, under the key its label uses (else its first key).
        target = next((t for t in targets if (src, kind, t) in labels), targets[0])
        predicted[(src, kind, target)] = sentence
    # Right: the labelled relation, with the labelled words in its evidence sentence.
    right = {t for t in predicted if t in labels and normalize(labels[t]) in normalize(predicted[t])}
    out = []
    for kind in KINDS:
        want = {t for t in labels if t[1] == kind}
        got = {t for t in predicted if t[1] == kind}
        out.append(Score(kind, len(want), len(got), len(want & got & right)))
        if show_misses:
            for miss in sorted(want - got):
                print(f"  missed  {miss}", file=sys.stderr)
            for extra in sorted(got - want):
                print(f"  extra   {extra}  ← {predicted[extra][:60]}", file=sys.stderr)
            for wrong in sorted((want & got) - right):
                print(f"  evidence {wrong}: {predicted[wrong][:60]} (labelled: {labels[wrong]})", file=sys.stderr)
    return out


def main(argv: list[str]) -> int:
    table = scores("--show-misses" in argv)
    print(f"{'relation':<11}{'labelled':>9}{'found':>7}{'right':>7}{'precision':>11}{'recall':>8}")
    for s in table:
        print(f"{s.kind:<11}{s.labelled:>9}{s.found:>7}{s.right:>7}{s.precision:>11.3f}{s.recall:>8.3f}")
    total = Score("all", *(sum(getattr(s, f) for s in table) for f in ("labelled", "found", "right")))
    print(f"{'all':<11}{total.labelled:>9}{total.found:>7}{total.right:>7}{total.precision:>11.3f}{total.recall:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
