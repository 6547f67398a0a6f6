"""Paths of the DuckDB extensions that reading s3:// needs, as shipped in PyPI wheels.

DuckDB would download httpfs and aws on first use; these wheels carry them, so they load by
path with no network. The load macro reads the paths from SPARKIFY_DUCKDB_EXTENSIONS, which
`make load` and `python -m sparkify.pipeline` set from `python -m sparkify.duckdb_extensions`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import duckdb_extension_aws
import duckdb_extension_httpfs

ENV_VAR = "SPARKIFY_DUCKDB_EXTENSIONS"


def extension_paths() -> list[Path]:
    paths = []
    for module, name in ((duckdb_extension_httpfs, "httpfs"), (duckdb_extension_aws, "aws")):
        path = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: install {module.__name__} for duckdb {duckdb.__version__}")
        paths.append(path)
    return paths


def env_value() -> str:
    """The paths joined with commas, the form SPARKIFY_DUCKDB_EXTENSIONS takes."""
    return ",".join(str(path) for path in extension_paths())


if __name__ == "__main__":
    print(env_value())
    sys.exit(0)
