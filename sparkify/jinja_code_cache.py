"""Keep the Python code that Jinja compiles dbt's templates to, on disk, across processes.

dbt compiles the Jinja of each macro and node again in every process, the first time it is
used: about 0.7 s of a daily `make pipeline` at 10M events, a tenth of the run, on code that
changes only when the project or a package does. (dbt-common keeps templates in memory
only, and per environment: dbt-labs/dbt-common#365.) Like Python's __pycache__, this
stores each compiled template, keyed by everything its code depends on: the source, the
template's name and file, the environment's class, extensions and syntax settings, the
Jinja version and the interpreter's bytecode version. A changed macro is a new key, never
stale code; an unreadable entry is compiled again. Entries of old sources stay, a few
kilobytes each, until `make clean`.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType

import jinja2

# In dbt's target folder, which `dbt clean` and `make clean` remove; relative, as dbt runs in
# the project.
FOLDER = Path("target/jinja-code-cache")
# Environment settings that change the code Jinja generates for the same source.
SYNTAX_SETTINGS = (
    "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
    "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
    "autoescape",
)  # fmt: skip


def enable(folder: Path = FOLDER) -> None:
    """From now on, in this process, Jinja reads compiled templates from `folder` and writes
    the ones it compiles there."""
    if getattr(jinja2.Environment.compile, "code_cache_folder", None) is not None:
        return
    compile_source = jinja2.Environment.compile
    with contextlib.suppress(OSError):  # a read-only project still runs, compiling as dbt does
        folder.mkdir(parents=True, exist_ok=True)

    def compile_cached(self, source, name=None, filename=None, raw=False, defer_init=False):
        key = None if raw else cache_key(self, source, name, filename, defer_init)  # raw: Python source
        if key is None:
            return compile_source(self, source, name, filename, raw, defer_init)
        entry = folder / key
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            code = marshal.loads(entry.read_bytes())
            if isinstance(code, CodeType):
                return code
        code = compile_source(self, source, name, filename, raw, defer_init)
        store(entry, marshal.dumps(code))
        return code

    compile_cached.code_cache_folder = folder
    jinja2.Environment.compile = compile_cached


def cache_key(environment: jinja2.Environment, source, name, filename, defer_init) -> str | None:
    """The entry's file name, or None when the code cannot be keyed: a parsed template rather
    than source text, or an environment whose autoescape is a function."""
    if not isinstance(source, str) or callable(environment.autoescape):
        return None
    settings = [repr(getattr(environment, setting)) for setting in SYNTAX_SETTINGS]
    parts = [
        sys.implementation.cache_tag, jinja2.__version__,
        f"{type(environment).__module__}.{type(environment).__qualname__}", *sorted(environment.extensions),
        *settings, repr(environment.finalize is not None), repr(name), repr(filename), repr(defer_init), source,
    ]  # fmt: skip
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def store(entry: Path, data: bytes) -> None:
    """Write the entry whole or not at all: two threads or processes may compile the same
    template, and a reader must never see half a file. A cache that cannot be written is
    only slower."""
    with contextlib.suppress(OSError):
        descriptor, partial = tempfile.mkstemp(dir=entry.parent, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(partial, entry)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
