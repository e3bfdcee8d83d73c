"""Tests of the `search_web` package."""
