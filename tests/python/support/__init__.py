"""What the tests share and are not tests: the project's paths, the warehouses they drive
(DuckDB and the Redshift double), the AWS emulator, headless Chromium, dataset helpers and
the project's known figures. Fixtures that use them live in tests/python/conftest.py."""
