"""What a query means beyond its letters: synonyms and abbreviations, question words, word covers, typo edits."""

from __future__ import annotations

import functools
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
    "吗 呢 吧 啊 呀 了 的 地 得 请问 想问 咨询 一下 我 我们 你们 需要 要 可以 能 该 应该 怎么办 有哪些 "
    "在 去 到 哪 几 多久 多长时间 何时 什么时候 啥 咋 咋办 多少钱 钱 能不能 可不可以 有没有 还 都 呀".split()
)
MAX_ALTERNATIVES = 8  # other wordings one synonym-table word of a query may stand for
MAX_COVERS = 6  # segmentations one unbroken string may stand for
MAX_COVER_CHARS = 10  # longer strings are not enumerated (their words and bigrams decide)
WIDE = 60  # typo edits other than homophones use this many of a character's most frequent neighbours
RARE_BIGRAM = 4  # a bigram this many times rarer than the median of a string's bigrams looks mistyped


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

    def with_groups(self, groups: Iterable[Iterable[str]]) -> Synonyms:
        """This table with more groups (the ones an index learned)."""
        merged = {w: dict.fromkeys(alts) for w, alts in self.by_word.items()}
        for word, alts in Synonyms.of(groups).by_word.items():
            merged.setdefault(word, {}).update(dict.fromkeys(a for a in alts if a != word))
        return Synonyms({w: tuple(alts) for w, alts in merged.items()})

    def dictionary_words(self) -> list[str]:
        """The table's short forms, as dictionary words: 2 or 3 CJK characters.

        jieba may cut an abbreviation it does not know across its neighbours (第三批非遗 → 第三 批非 遗);
        longer words are left to jieba, whose parts of them (老旧 小区 改造) also match reworded text."""
        return sorted(w for w in self.by_word if 2 <= len(w) <= 3 and all(analysis.is_cjk(c) for c in w))

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


@functools.lru_cache(maxsize=4)
def neighbour_chars(dict_id: str = "") -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """For each character, the characters that follow it and those that precede it in the
    dictionary's two-character words, most frequent word first: where typo candidates come from
    (a dictionary lookup, not a scan of the index's terms)."""
    after: dict[str, list[tuple[int, str]]] = {}
    before: dict[str, list[tuple[int, str]]] = {}
    for word, freq in analysis.segmenter(dict_id).FREQ.items():
        if freq and len(word) == 2 and analysis.is_cjk(word[0]) and analysis.is_cjk(word[1]):
            after.setdefault(word[0], []).append((-freq, word[1]))
            before.setdefault(word[1], []).append((-freq, word[0]))
    return (
        {ch: tuple(c for _, c in sorted(found)) for ch, found in after.items()},
        {ch: tuple(c for _, c in sorted(found)) for ch, found in before.items()},
    )


@functools.lru_cache(maxsize=1 << 16)
def readings(ch: str) -> frozenset[str]:
    """The pinyin readings of a character, without tones (行 → hang, heng, xing)."""
    from pypinyin import Style, pinyin

    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0] or ())


def sound_alike(a: str, b: str) -> bool:
    """Whether two characters share a reading: the mistake a pinyin input method makes (生火 for 生活)."""
    return bool(readings(a) & readings(b))


def correctable(norm: str) -> bool:
    """Whether typo correction tries `norm`: CJK only, 3 to 12 characters."""
    return 3 <= len(norm) <= 12 and all(analysis.is_cjk(c) for c in norm)


def suspects(norm: str, df: Callable[[str], int]) -> list[int]:
    """Where `norm` looks mistyped: the starts of its bigrams no document holds; or, when the archive
    holds every one of them somewhere (a large archive holds most pairs of characters), of those
    RARE_BIGRAM times rarer than the median of its bigrams (低收入家庭人定: 庭人 beside 家庭)."""
    counts = [df(norm[i : i + 2]) for i in range(len(norm) - 1)]
    unseen = [i for i, count in enumerate(counts) if not count]
    if unseen or len(counts) < 3:
        return unseen
    median = sorted(counts)[len(counts) // 2]
    return [i for i, count in enumerate(counts) if count * RARE_BIGRAM < median]


def one_edit_candidates(
    norm: str,
    neighbours: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]],
    df: Callable[[str], int],
    plausible: Callable[[str], int] = lambda gram: 0,
    limit: int = 12,
    worded: Callable[[str], int] = lambda text: 0,
    suspect: list[int] | None = None,
) -> list[str]:
    """Strings one substitution, insertion or deletion away from `norm` that mend its unseen or rare bigrams.

    Edits touch only the characters of the bigrams `suspects` names; every bigram of a candidate
    must be held. `neighbours` is (following, preceding) characters per character, as
    `neighbour_chars` gives. A substitution by a character that sounds alike (an input method's
    homophone) comes first; other edits use the WIDE most frequent neighbours only. Then candidates
    rank by the share of them that is `worded` (characters inside dictionary words: 临时救助 reads as
    two words, 临要求助 as a word between two single characters), substitutions first, then by how
    `plausible` (a dictionary's frequency) their new bigrams are. Only 3 × `limit` of them are looked
    up in the index, so a correction costs a few dozen `df` calls whatever the vocabulary's size. At
    most `limit` come back, homophones first, then the ones whose rarest bigram is the most common.
    Only `correctable` strings are tried; `suspect` is `suspects(norm, df)` when the caller has it.
    """
    n = len(norm)
    if not correctable(norm):
        return []
    around = sorted({p for i in (suspects(norm, df) if suspect is None else suspect) for p in (i, i + 1)})
    if not around:
        return []
    after, before = neighbours
    homophone: dict[str, bool] = {}
    for i in around:
        pools = (after.get(norm[i - 1], ()) if i > 0 else (), before.get(norm[i + 1], ()) if i < n - 1 else ())
        for pool in pools:  # substitution at i
            for rank, ch in enumerate(pool):
                alike = sound_alike(ch, norm[i])
                if ch != norm[i] and analysis.is_cjk(ch) and (alike or rank < WIDE):
                    homophone[norm[:i] + ch + norm[i + 1 :]] = alike
        if 0 < i < n - 1:  # deletion of i
            homophone.setdefault(norm[:i] + norm[i + 1 :], False)
        if i < n - 1:  # insertion after i
            for ch in after.get(norm[i], ())[:WIDE]:
                if analysis.is_cjk(ch):
                    homophone.setdefault(norm[: i + 1] + ch + norm[i + 1 :], False)
    old = {norm[j : j + 2] for j in range(n - 1)}

    def grams(text: str) -> list[str]:
        return [text[j : j + 2] for j in range(len(text) - 1)]

    def prior(candidate: str) -> tuple[bool, float, bool, int]:
        new = max((plausible(g) for g in grams(candidate) if g not in old), default=0)
        # A wrong character is the commonest typo: substitutions before insertions and deletions.
        return (not homophone[candidate], -worded(candidate) / len(candidate), len(candidate) != n, -new)

    scored = []
    for candidate in sorted(homophone, key=prior)[: 3 * limit]:
        weakest = min(df(g) for g in grams(candidate))
        if weakest:
            scored.append((not homophone[candidate], -weakest, candidate))
    return [c for *_, c in sorted(scored)][:limit]


__all__ = [
    "QUESTION_WORDS",
    "Synonyms",
    "correctable",
    "covers",
    "informative",
    "load_synonyms",
    "one_edit_candidates",
    "suspects",
]
