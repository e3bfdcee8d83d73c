"""Tests of the `xxgk` package."""
