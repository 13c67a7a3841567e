"""Settings modules: ``base`` (development and tests) and ``production``."""
