"""The tantivy engine behind the backend-neutral interface (index.api): schema, writer and reader."""
