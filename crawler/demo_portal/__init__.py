"""A bundled demo portal: a realistic disclosure site served on loopback for `xxgk demo` and tests."""
