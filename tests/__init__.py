"""The test suite; its folders mirror the packages (tests/<package>/), with cross-cutting checks at the top."""
