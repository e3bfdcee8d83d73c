"""The tantivy schema, and a catalog document's index fields as the tantivy document that holds them.

Text is analysed in Python by `index.analysis`, exactly as for Whoosh, so both engines hold the same
terms at the same positions:
- word fields (`title`, `body`): jieba's words at word ordinals, punctuation leaving a position gap,
  and the search-mode sub-words of long words at their parent's position (so 本 报告 matches
  本年度报告 in both). Several tokens share a position, so these go to tantivy pre-tokenised;
- bigram fields (`title_ng`, `body_ng`, `doc_no`): character bigrams of the word characters, one
  position each, handed over as one whitespace-joined string (cheaper than a token object each).
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import tantivy

from index.analysis import ANALYZER_VERSION, normalize, word_lists

SCHEMA_VERSION = f"t3.{ANALYZER_VERSION}"  # t2: the `written` stamp; t3: the shown text stored only
WORDS, GRAMS = ("title", "body"), ("title_ng", "body_ng", "doc_no")
KEYWORDS = ("id", "source", "doc_key", "doc_code", "agency", "category", "year", "status", "validity", "group")
NUMBERS = ("pubdate", "listdate", "seq")
# As written, for the result list: stored only, as UTF-8 bytes (a text field indexes its whole value as
# one term, which made the term dictionary half the index and a good part of the rebuild).
STORED = ("url", "text", "title_text", "doc_no_text")
# The write that added a document: 0 for a rebuild, then one more for each sync. A reader reopened
# after a sync finds what it wrote by this stamp, and keeps the numbering of everything else.
WRITTEN = "written"


def build_schema() -> Any:
    """Token fields split on whitespace (positions kept); keywords and numbers as fast fields for facets and sorts."""
    sb = tantivy.SchemaBuilder()
    for name in WORDS:
        sb.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in GRAMS:
        sb.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in KEYWORDS:
        sb.add_text_field(name, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    for name in NUMBERS:
        sb.add_unsigned_field(name, stored=True, indexed=True, fast=True)
    sb.add_unsigned_field(WRITTEN, indexed=True, fast=True)
    for name in STORED:
        sb.add_bytes_field(name, stored=True, indexed=False)
    return sb.build()


def bigram_stream(norm: str) -> str:
    """The character bigrams of normalised text's word characters, in order, joined by spaces."""
    chars = "".join(filter(str.isalnum, norm))
    return " ".join(map(operator.add, chars, chars[1:]))


def analysed(fields: dict[str, Any], dict_id: str) -> dict[str, Any]:
    """A document's fields (`index.build.document_fields`) with its text fields as token streams.

    Plain strings and numbers only: a forked worker computes this and the parent adds it."""
    out: dict[str, Any] = {name: str(fields[name]) for name in KEYWORDS}
    out.update({name: int(fields[name]) for name in NUMBERS})
    out.update(url=fields["url"], text=fields["text"], title_text=fields["title"], doc_no_text=fields["doc_no"])
    title, body = normalize(fields["title"]), normalize(fields["body"])  # each text normalised once
    out["title"], out["body"] = word_lists(title, dict_id), word_lists(body, dict_id)
    # Whoosh's bigram fields analyse the same texts as its word fields (title_ng = title, body_ng = body).
    out["title_ng"], out["body_ng"] = bigram_stream(title), bigram_stream(body)
    out["doc_no"] = bigram_stream(normalize(fields["doc_no"]))
    return out


def to_document(values: dict[str, Any], written: int = 0) -> Any:
    """The tantivy document of `analysed` values, stamped with the write that adds it."""
    doc = tantivy.Document()
    doc.add_unsigned(WRITTEN, written)
    for name, value in values.items():
        if name in NUMBERS:
            doc.add_unsigned(name, value)
        elif name in STORED:
            doc.add_bytes(name, value.encode())
        elif name in WORDS:
            words, positions = value
            zeros = itertools.repeat(0)
            tokens = list(map(tantivy.Token, words, positions, zeros, zeros))
            doc.add_pre_tokenized_text(name, tantivy.PreTokenizedString("", tokens))
        else:
            doc.add_text(name, value)
    return doc


def last_written(searcher: Any) -> int:
    """The highest `written` stamp a searcher's documents carry (0 for none)."""
    if not searcher.num_docs:
        return 0
    hits = searcher.search(tantivy.Query.all_query(), limit=1, count=False, order_by_field=WRITTEN, order=tantivy.Order.Desc).hits
    return int(hits[0][0]) if hits else 0
