"""The example plugin's own package is not a test module: keep pytest out of it."""

collect_ignore = ["example_plugin"]
