"""The tantivy engine behind the backend-neutral interface (index.api): schema and writer so far."""
