"""The Whoosh schema and its version; stored fields are what the result list shows."""

from __future__ import annotations

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from index.analysis import ANALYZER_VERSION, BigramTokenizer, ChineseTokenizer

SCHEMA_VERSION = f"3.{ANALYZER_VERSION}"
UNKNOWN_YEAR = "未知"
UNSTATED = "未注明"


def build_schema(dict_id: str = "") -> Schema:
    """Word fields segment with the domain dictionary `dict_id`; bigram fields catch unknown names."""
    words, grams = ChineseTokenizer(dict_id), BigramTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        source=ID(stored=True),
        title=TEXT(analyzer=words, stored=True, phrase=True),
        title_ng=TEXT(analyzer=grams, phrase=True),
        body=TEXT(analyzer=words, phrase=True),
        body_ng=TEXT(analyzer=grams, phrase=True),
        doc_no=TEXT(analyzer=grams, stored=True, phrase=True),
        # The 文号 as structured fields: one spelling (浙政办发〔2019〕12号) and its 机关代字.
        doc_key=ID,
        doc_code=ID,
        agency=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        pubdate=NUMERIC(int, bits=32, stored=True, sortable=True, signed=False),
        status=ID(stored=True, sortable=True),
        validity=ID(stored=True, sortable=True),
        url=STORED,
        text=STORED,
    )
