"""The Whoosh backend: schema, bulk writer and codec, posting arrays, the engine, and its sync.

Owns everything that knows Whoosh; the rest of the project reaches it only through `index.api`.
May import `archive` and the shared parts of `index` (analysis, query, docno, dictionary, highlight, api).
"""
