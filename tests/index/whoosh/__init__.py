"""Tests of the `index.whoosh` package."""
