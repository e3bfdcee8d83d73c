"""References in a document's title and text (文号 and 《titles》), each typed by the sentence it is in.

Pure functions over text. A reference is one mention of another document: a 《title》, a 文号, or a
title followed by its 文号 in brackets (one reference, both keys). Its type comes from the clause that
holds it (or, for a list, the clause that announces it): repeals (废止, 停止执行, 不再执行 ...), amends
(修订, 修改, 修正), replaces (代替, 以本办法为准), interprets (解读, 图解), reposts (转发); any other mention
cites. The document's own title and 文号 are never a reference (a 印发 notice names the 办法 it issues).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.analysis import normalize
from index.docno import parse_doc_no

KINDS = ("cites", "repeals", "amends", "replaces", "interprets", "reposts")

# Verbs, checked on a clause with its mentions masked (so 《…（2019年修订）》 amends nothing).
_VERBS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("repeals", re.compile("废止|废除|停止执行|不再执行|(?:同时|自行|宣布)失效|予以撤销|停止施行")),
    # Not "新修订的《X》" or "《X》修订后": a revision this document only reports.
    ("amends", re.compile("(?<![新经])(?:修订|修改|修正)(?![后版稿])|补充(?:通知|规定|意见)|(?:进行|作出|作如下)调整")),
    ("replaces", re.compile("代替|替代|取代|以本(?:办法|规定|通知|意见|细则|方案|决定|条例|规则|制度|标准|准则)为准")),
    ("reposts", re.compile("转发")),
    ("interprets", re.compile("解读|图解|一图读懂|答记者问")),
)
# A reference's own parenthetical (2019年修订, 试行, 征求意见稿 ...) belongs to it, not to the clause.
_ANNOTATION = re.compile(r"^\s*\((?:[^()]{0,16}(?:修订|修正|修改|试行|暂行|征求意见稿|草案|版)[^()]{0,6})\)")
_DOCNO = re.compile(r"[\u3400-\u9fff]{2,12}(?:〔|\()(?:19|20)\d{2}(?:〕|\))第?\d{1,6}号")
# Words that run into a 文号's 机关代字 in running text ("根据余政办〔2016〕8号"): not part of it.
# Only words no 机关代字 holds; the resolver also tries the code's tails, for what is left.
_LEAD_IN = re.compile(
    "^.*(?:根据|依据|依照|遵照|按照|参照|参考|对照|执行|落实|贯彻|废止|修订|修改|转发|印发|关于|结合|详见|参见|的|和|与|及|或)"
)
_SENTENCE = re.compile(r"[^。!?！？\n]+[。!?！？]?")
# A sentence can hold a mention only with a title bracket or a 号; a list heading ends with a colon.
_MAY_REFER = re.compile(r"[《〈]|[号號]|[:：]\s*$")
_CLAUSE_END = ",;:"
_SELF_ISSUING = re.compile("^(?:印发|发布|公布|颁布|下发|出台)")
_INTERPRET_WORDS = re.compile(r"^(?:关于)?(?:一图读懂|图解|解读)[:\s]*|的?(?:政策)?(?:解读|图解|问答)$")
_ISSUED = re.compile(r"^(?:印发|发布|公布|颁布|下发)(?P<inner>.+?)的(?:通知|决定)$")
# A document kind ends a title worth a relation (so 《余杭时报》, a newspaper, is none).
_DOC_KIND = re.compile(
    "(?:办法|规定|条例|法|通知|意见|决定|细则|方案|规划|纲要|报告|要点|制度|标准|批复|函|公告|通告|令|准则|规则|目录|清单|"
    "指南|计划|措施|章程|解读|规程|守则|导则|公约|决议|命令|指引|指示|通报|答复|复函)$"
)
_ALIAS = re.compile(r"以下简称[“\"《]?(?P<alias>[^”\"》)]{1,12})")
_BASIS = re.compile("根据|依据|依照|遵照|按照|参照|贯彻|落实|为了?执行")


@dataclass(frozen=True)
class Mention:
    """A 《title》 and/or 文号 at a place in a normalised sentence."""

    start: int
    end: int
    title: str  # the title inside 《》 as written (normalised), "" for a bare 文号
    doc_no: str  # DocNo.key, "" when none


@dataclass(frozen=True)
class Reference:
    """One typed reference to another document, with the sentence that says so."""

    kind: str
    title: str  # normalised title key ("" for a bare 文号)
    doc_no: str  # DocNo.key ("" for a title alone)
    mention: str  # the mention as the normalised text has it
    sentence: str  # the evidence: the sentence (or the title) it was found in, as written


def title_key(title: str) -> str:
    """One spelling of a title for matching: simplified, no punctuation, no issuer before 关于, no 关于."""
    t = normalize(title)
    t = re.sub(r"[《》〈〉<>\"'“”‘’「」『』()（）〔〕\[\]【】,，、.。:;!?\s·・\-—_]", "", t)
    head = t.find("关于")
    if 0 <= head <= 30:
        t = t[head + 2 :]
    return t


def own_keys(title: str, doc_no: str = "") -> set[str]:
    """What the document itself answers to: its title and 文号, and the 《title》 it issues (关于印发《X》的通知)."""
    keys = {title_key(title)} if title.strip() else set()
    parsed = parse_doc_no(doc_no) if doc_no else None
    if parsed:
        keys.add(parsed.key)
    norm = normalize(title)
    after = norm[norm.find("关于") + 2 :] if "关于" in norm else norm
    if _SELF_ISSUING.match(after):
        keys.update(title_key(m) for m in _titles(norm))
        if (issued := _ISSUED.match(after)) and "《" not in after:  # 关于印发X的通知, X without brackets
            keys.add(title_key(issued.group("inner")))
    return keys - {""}


def is_document_title(title: str) -> bool:
    """Whether a 《title》 names a document (a kind word ends it, an annotation in brackets aside)."""
    text = re.sub(r"\([^()]*\)$", "", normalize(title).strip())
    return bool(_DOC_KIND.search(text)) and not _DOC_KIND.fullmatch(text)


def _bracketed(norm: str) -> list[tuple[int, int]]:
    """(start, end) of each outermost 《…》 of a normalised text, brackets included (inner 《》 kept inside)."""
    found, depth, start = [], 0, 0
    for i, ch in enumerate(norm):
        if ch == "《":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "》" and depth:
            depth -= 1
            if depth == 0:
                found.append((start, i + 1))
    return found


def _titles(norm: str) -> list[str]:
    """The outermost 《…》 titles of a normalised text, without their brackets."""
    return [norm[start + 1 : end - 1] for start, end in _bracketed(norm)]


def mentions(norm: str) -> list[Mention]:
    """The mentions in a normalised sentence, in order; a 文号 right after a 《title》 joins it."""
    spans = [Mention(start, end, norm[start + 1 : end - 1], "") for start, end in _bracketed(norm) if end - start > 3]
    for m in _DOCNO.finditer(norm):
        if any(s.start <= m.start() < s.end for s in spans):
            continue  # a 文号 inside a title is part of the title
        raw = _LEAD_IN.sub("", m.group(0))
        parsed = parse_doc_no(raw)
        if not parsed:
            raw, parsed = m.group(0), parse_doc_no(m.group(0))
        if not parsed:
            continue
        offset = m.end() - len(raw)
        prev = next((s for s in reversed(spans) if s.end <= offset and not s.doc_no), None)
        if prev is not None and re.fullmatch(r"\s*\(?\s*", norm[prev.end : offset]) and _closes(norm, m.end()):
            spans[spans.index(prev)] = Mention(prev.start, _closes(norm, m.end()), prev.title, parsed.key)
        else:
            spans.append(Mention(offset, m.end(), "", parsed.key))
    spans.sort(key=lambda s: s.start)
    # A title's own annotation in brackets is part of the mention.
    out = []
    for s in spans:
        note = _ANNOTATION.match(norm[s.end :])
        out.append(Mention(s.start, s.end + note.end(), s.title, s.doc_no) if note else s)
    return out


def _closes(norm: str, end: int) -> int:
    """The end of a 文号 in brackets after a title: past its ")" when there is one."""
    m = re.match(r"\s*\)", norm[end:])
    return end + m.end() if m else end


def _verb(text: str) -> str:
    for kind, pattern in _VERBS:
        if pattern.search(text):
            return kind
    return ""


def _clauses(norm: str, spans: list[Mention]) -> list[tuple[int, int]]:
    """Clause boundaries of a normalised sentence, never inside a mention."""
    cuts, start = [], 0
    for i, ch in enumerate(norm):
        if ch in _CLAUSE_END and not any(s.start <= i < s.end for s in spans):
            cuts.append((start, i + 1))
            start = i + 1
    if start < len(norm):
        cuts.append((start, len(norm)))
    return cuts


def _masked(norm: str, spans: list[Mention], lo: int, hi: int) -> str:
    chars = list(norm[lo:hi])
    for s in spans:
        for i in range(max(s.start, lo), min(s.end, hi)):
            chars[i - lo] = "□"
    return "".join(chars)


def _typed(norm: str, spans: list[Mention], carried: str) -> tuple[list[tuple[str, Mention]], str]:
    """Each mention of a sentence with its type; and the type a trailing "…废止:" carries to the next lines."""
    clauses = _clauses(norm, spans)
    kinds = [_verb(_masked(norm, spans, lo, hi)) for lo, hi in clauses]
    # A mention brought in as the basis (根据《X》, 按照《X》) is cited, whatever the clause then does.
    basis = {s.start for lo, hi in clauses for s in spans if lo <= s.start < hi and _BASIS.search(norm[lo : s.start])}
    members = [[s for s in spans if lo <= s.start < hi and s.start not in basis] for lo, hi in clauses]
    typed: dict[int, str] = {}
    waiting: list[Mention] = []  # mentions of clauses before the verb that governs them
    announce, announced = carried, False
    for (lo, hi), kind, held in zip(clauses, kinds, members):
        if kind and held:
            for s in held:
                typed[s.start] = kind
            waiting = []
        elif kind:
            for s in waiting:
                typed[s.start] = kind
            waiting = []
            if norm[lo:hi].rstrip().endswith(":"):
                announce, announced = kind, True  # "下列文件同时废止:" types the list that follows
        elif held and announce:
            for s in held:
                typed[s.start] = announce
        elif held:
            waiting.extend(held)
    # The list goes on while its lines hold mentions; a line without one ends it.
    carry = announce if announced or (carried and spans) else ""
    return [(typed.get(s.start, "cites"), s) for s in spans], carry


def _title_reference(title: str) -> list[Reference]:
    """What a document's title says of another: 关于废止/修改《X》, 转发…的通知, 《X》解读."""
    norm = normalize(title).strip()
    inner = _titles(norm)
    kind = _verb(_masked(norm, mentions(norm), 0, len(norm)))
    if kind == "reposts" and not inner:
        at = norm.find("转发")
        target = norm[at + 2 :]
        if norm[:at].endswith("关于") or re.search("的(?:通知|意见|决定|函)的(?:通知|函)$", target):
            target = re.sub("的(?:通知|函)$", "", target)  # 关于转发X的通知: X is the original
        parsed = next((parse_doc_no(d.group(0)) for d in _DOCNO.finditer(target)), None)
        return [Reference("reposts", title_key(target) if not parsed else "", parsed.key if parsed else "", target, title)]
    if kind == "interprets":
        targets = inner or [_INTERPRET_WORDS.sub("", _INTERPRET_WORDS.sub("", norm))]
        return [Reference("interprets", title_key(t), "", t, title) for t in targets[:1] if t]
    after = norm[norm.find("关于") + 2 :] if "关于" in norm else norm
    if kind and inner and not _SELF_ISSUING.match(after):
        return [Reference(kind, title_key(t), "", t, title) for t in inner]
    return []


def extract(title: str, body: str, doc_no: str = "") -> list[Reference]:
    """The typed references of a document (its title first, then its text in order), without itself."""
    own = own_keys(title, doc_no)
    # Short titles the text defines (以下简称《条例》) and a bare kind word name nothing new.
    own |= {title_key(m.group("alias")) for m in _ALIAS.finditer(normalize(body))}
    refs = _title_reference(title)
    # A 解读 or 转发 page tells what its subject does; it repeals, amends and replaces nothing itself.
    describes = any(r.kind in ("interprets", "reposts") for r in refs)
    carried = ""
    for line in body.splitlines():
        if not line.strip():
            carried = ""
            continue
        for m in _SENTENCE.finditer(line):
            sentence = m.group(0)
            if not _MAY_REFER.search(sentence):
                carried = ""  # no mention and no list heading: a list the previous lines announced has ended
                continue
            norm = normalize(sentence)
            spans = mentions(norm)
            typed, carried = _typed(norm, spans, carried)
            for kind, s in typed:
                key = title_key(s.title) if s.title else ""
                # Itself (a same-titled document of another year has another 文号), or not a document.
                if s.doc_no in own or (not s.doc_no and (key in own or not is_document_title(s.title))):
                    continue
                if describes and kind in ("repeals", "amends", "replaces"):
                    kind = "cites"
                refs.append(Reference(kind, key, s.doc_no, norm[s.start : s.end], sentence.strip()))
    return _merged(refs, title)


def _merged(refs: list[Reference], title: str) -> list[Reference]:
    """One reference per target: a stronger type wins over cites; the evidence is the first sentence of
    the text that names it (the title says less: 关于修改《X》的通知 vs 对《X》作如下修改)."""
    out: dict[tuple[str, str], Reference] = {}
    order: list[tuple[str, str]] = []
    targets: dict[str, tuple[str, str]] = {}
    for ref in refs:
        target = ref.doc_no or ref.title
        if not target:
            continue
        known = targets.get(ref.title) or targets.get(ref.doc_no)
        if known and known in out:
            first = out[known]
            better = ref if first.kind == "cites" and ref.kind != "cites" else first
            evidence = ref if first.sentence == title and ref.sentence != title else better
            merged = Reference(
                better.kind, first.title or ref.title, first.doc_no or ref.doc_no, evidence.mention, evidence.sentence
            )
            out[known] = merged
        else:
            known = (ref.kind, target)
            out[known] = ref
            order.append(known)
        for key in (ref.title, ref.doc_no):
            if key:
                targets[key] = known
    return [out[k] for k in order]
