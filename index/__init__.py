"""The search index: derived from the catalog, rebuildable, behind a backend-neutral interface."""
