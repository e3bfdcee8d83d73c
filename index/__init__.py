"""The search index, derived from the catalog and rebuildable: shared analysis, query language, 文号,
dictionary and highlighting, the interface in `index.api`, and one sub-package per engine.
May import `archive` only; outside `index`, everything goes through `index.api`."""
