"""What a query means beyond its letters: synonyms and abbreviations, question words, word covers, typo edits."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from archive.errors import ConfigError
from archive.settings import read_toml
from index import analysis

log = logging.getLogger(__name__)

# Words that shape a question but say nothing of its subject: they never have to match.
QUESTION_WORDS = frozenset(
    "怎样 怎么样 怎么 如何 多少 哪些 哪里 哪儿 哪个 什么 为什么 为何 是否 能否 可否 有没有 是不是 "
    "吗 呢 吧 啊 呀 了 的 地 得 请问 想问 咨询 一下 我 我们 你们 需要 要 可以 能 该 应该 怎么办 办法 有哪些".split()
)
MAX_ALTERNATIVES = 6  # other wordings one clause may stand for
MAX_COVERS = 6  # segmentations one unbroken string may stand for
MAX_COVER_CHARS = 10  # longer strings are not enumerated (their words and bigrams decide)


@dataclass(frozen=True)
class Synonyms:
    """Groups of words that mean the same; a query word in a group also searches the others."""

    by_word: dict[str, tuple[str, ...]] = field(default_factory=dict)  # each word: the others of its groups

    @classmethod
    def of(cls, groups: Iterable[Iterable[str]]) -> Synonyms:
        by_word: dict[str, dict[str, None]] = {}
        for group in groups:
            words = [w for w in (analysis.normalize(t).replace(" ", "") for t in group) if w]
            for word in words:
                by_word.setdefault(word, {}).update((w, None) for w in words if w != word)
        return cls({w: tuple(alts) for w, alts in by_word.items() if alts})

    def alternatives(self, word: str) -> tuple[str, ...]:
        return self.by_word.get(word, ())

    def found_in(self, norm: str, dict_id: str = "") -> list[tuple[int, int, str]]:
        """(start, end, word) of the table's words in normalised text, longest first, on word boundaries.

        A match must start and end where jieba's words do (or be the whole text), so 低保 is not
        found inside 最低保障.
        """
        present = sorted((w for w in self.by_word if w in norm), key=len, reverse=True)
        if not present:
            return []  # the usual case: no segmentation needed
        bounds = {0, len(norm)}
        for _, start, end in analysis.words_with_spans(norm, dict_id):
            bounds.update((start, end))
        found: list[tuple[int, int, str]] = []
        taken = [False] * len(norm)
        for word in present:
            start = norm.find(word)
            while start >= 0:
                end = start + len(word)
                if start in bounds and end in bounds and not any(taken[start:end]):
                    found.append((start, end, word))
                    taken[start:end] = [True] * len(word)
                start = norm.find(word, start + 1)
        return sorted(found)

    def rewordings(self, text: str, dict_id: str = "") -> list[tuple[str, list[str]]]:
        """Other wordings of `text` (normalised), each with the table words it brought in; at most MAX_ALTERNATIVES."""
        norm = analysis.normalize(text).replace(" ", "")
        out: list[tuple[str, list[str]]] = []
        for start, end, word in self.found_in(norm, dict_id):
            for alt in self.alternatives(word):
                out.append((norm[:start] + alt + norm[end:], [alt]))
                if len(out) >= MAX_ALTERNATIVES:
                    return out
        return out


def load_synonyms(extra_file: str | Path | None = None) -> Synonyms:
    """The shipped table, plus the operator's file when named (a missing or malformed one is a ConfigError)."""
    shipped = resources.files("index").joinpath("data/synonyms.toml").read_text(encoding="utf-8")
    groups = list(tomllib.loads(shipped)["groups"])
    if extra_file:
        path = Path(extra_file)
        data = read_toml(path, "synonyms file", "create it or unset synonyms_file")
        extra = data.get("groups")
        if not isinstance(extra, list) or not all(isinstance(g, list) and all(isinstance(w, str) for w in g) for g in extra):
            raise ConfigError(
                f"synonyms file {path}: `groups` must be a list of lists of words",
                'write e.g. groups = [["低保", "最低生活保障"]]',
            )
        groups += extra
    return Synonyms.of(groups)


def informative(words: Iterable[str]) -> list[str]:
    """The words that must match: all but question and function words (all of them if nothing else is left)."""
    words = list(words)
    kept = [w for w in words if w not in QUESTION_WORDS]
    return kept or words


def covers(text: str, dict_id: str = "") -> list[list[str]]:
    """Ways dictionary words cover an unbroken string, neighbours overlapping by at most one character.

    余杭区长 → [余杭区, 区长], [余杭, 区长], ...; fewest words first, at most MAX_COVERS. Strings
    that are not one run of CJK characters, or longer than MAX_COVER_CHARS, give none.
    """
    norm = analysis.normalize(text).replace(" ", "")
    n = len(norm)
    if not 3 <= n <= MAX_COVER_CHARS or not all(analysis.is_cjk(c) for c in norm):
        return []
    freq = analysis.segmenter(dict_id).FREQ
    starts: dict[int, list[int]] = {i: [j for j in range(i + 2, n + 1) if freq.get(norm[i:j])] for i in range(n)}
    found: list[list[str]] = []

    def walk(pos: int, path: list[str]) -> Iterator[list[str]]:
        if pos >= n:
            yield path
            return
        for end in sorted(starts.get(pos, []), reverse=True):
            for step in (end, end - 1) if end < n else (end,):
                if step > pos:
                    yield from walk(step, [*path, norm[pos:end]])

    for cover in walk(0, []):
        if len(cover) >= 2 and cover not in found:
            found.append(cover)
        if len(found) >= 4 * MAX_COVERS:
            break
    found.sort(key=len)
    return found[:MAX_COVERS]


def correctable(norm: str) -> bool:
    """Whether typo correction tries `norm`: CJK only, 3 to 12 characters."""
    return 3 <= len(norm) <= 12 and all(analysis.is_cjk(c) for c in norm)


def one_edit_candidates(norm: str, following: Callable[[str], Iterable[str]], df: Callable[[str], int]) -> list[str]:
    """Strings one substitution, insertion or deletion away from `norm` that mend its unseen bigrams.

    Edits touch only the characters of bigrams no document holds (`df(gram) == 0`); every bigram of
    a candidate must be held. `following(ch)` lists characters seen after `ch`. Candidates come
    most plausible first (the rarest of their bigrams is the most common). Only `correctable` strings
    are tried.
    """
    n = len(norm)
    if not correctable(norm):
        return []
    unseen = [i for i in range(n - 1) if not df(norm[i : i + 2])]
    around = sorted({p for i in unseen for p in (i, i + 1)})
    if not around:
        return []
    out: dict[str, None] = {}
    for i in around:
        for ch in following(norm[i - 1]) if i > 0 else ():  # substitution at i
            if ch != norm[i] and analysis.is_cjk(ch):
                out[norm[:i] + ch + norm[i + 1 :]] = None
        if 0 < i < n - 1:  # deletion of i
            out[norm[:i] + norm[i + 1 :]] = None
        if i < n - 1:  # insertion after i
            for ch in following(norm[i]):
                if analysis.is_cjk(ch):
                    out[norm[: i + 1] + ch + norm[i + 1 :]] = None
    scored = []
    for candidate in out:
        weakest = min(df(candidate[j : j + 2]) for j in range(len(candidate) - 1))
        if weakest:
            scored.append((-weakest, candidate))
    return [c for _, c in sorted(scored)]


__all__ = [
    "QUESTION_WORDS",
    "Synonyms",
    "correctable",
    "covers",
    "informative",
    "load_synonyms",
    "one_edit_candidates",
]
