"""The cache of compiled Jinja that `make pipeline` and `make load` keep between runs."""

from __future__ import annotations

import marshal

import jinja2
import jinja2.nativetypes
import pytest
from conftest import PROJECT_DIR

from sparkify import jinja_code_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache enabled in a folder of its own; Jinja's own compile is back after the test."""
    monkeypatch.setattr(jinja2.Environment, "compile", jinja2.Environment.compile)
    folder = tmp_path / "jinja-code-cache"
    jinja_code_cache.enable(folder)
    return folder


def test_a_template_compiled_once_is_read_back_not_compiled_again(cache):
    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "2"
    [entry] = cache.iterdir()
    # The stored code is what a later process runs: swap in another template's code.
    entry.write_bytes(marshal.dumps(jinja2.Environment().compile("read from the cache")))

    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "read from the cache"


def test_a_changed_source_is_compiled_again_never_served_stale(cache):
    first = jinja2.Environment().from_string("select {{ column }} from events").render(column="ts")
    changed = jinja2.Environment().from_string("select {{ column }} from songs").render(column="ts")

    assert (first, changed) == ("select ts from events", "select ts from songs")
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("damage", [b"", b"not marshal data", marshal.dumps("a string, not code")])
def test_an_unreadable_entry_is_compiled_again_and_replaced(cache, damage):
    jinja2.Environment().from_string("{{ 6 * 7 }}").render()
    [entry] = cache.iterdir()
    entry.write_bytes(damage)

    assert jinja2.Environment().from_string("{{ 6 * 7 }}").render() == "42"
    assert marshal.loads(entry.read_bytes()).co_filename == "<template>"


def test_settings_that_change_the_generated_code_are_part_of_the_key(cache):
    source = "{% if true %}\nkept{% endif %}"
    assert jinja2.Environment().from_string(source).render() == "\nkept"
    assert jinja2.Environment(trim_blocks=True).from_string(source).render() == "kept"
    assert jinja2.nativetypes.NativeEnvironment().from_string("{{ 1 + 1 }}").render() == 2
    assert jinja2.Environment().from_string("{{ 1 + 1 }}").render() == "2"
    assert len(list(cache.iterdir())) == 4


def test_templates_with_the_same_source_keep_their_own_name_and_file(cache, tmp_path):
    """Errors name the template and the file that failed, read from the cache or not."""
    models = tmp_path / "models"
    models.mkdir()
    for name in ("songplays.sql", "time.sql"):
        (models / name).write_text("select\n{{ 1 // 0 }}")
    for _ in range(2):  # compiled, then read back
        for name in ("songplays.sql", "time.sql"):
            template = jinja2.Environment(loader=jinja2.FileSystemLoader(models)).get_template(name)
            assert template.name == name
            with pytest.raises(ZeroDivisionError) as raised:
                template.render()
            assert raised.traceback[-1].path == models / name
            assert raised.traceback[-1].lineno == 1  # pytest counts from 0: the second line


def test_a_cache_folder_removed_during_a_run_only_costs_the_compile(cache):
    cache.rmdir()  # as `make clean` in another shell would

    assert jinja2.Environment().from_string("{{ 'still' ~ ' renders' }}").render() == "still renders"
    assert not cache.exists()


def test_a_cache_folder_that_cannot_be_made_only_costs_the_compile(tmp_path, monkeypatch):
    monkeypatch.setattr(jinja2.Environment, "compile", jinja2.Environment.compile)
    (tmp_path / "target").write_text("a file where the folder would go")
    jinja_code_cache.enable(tmp_path / "target" / "jinja-code-cache")

    assert jinja2.Environment().from_string("{{ 'still' ~ ' renders' }}").render() == "still renders"


def test_a_daily_run_reads_all_its_code_from_the_run_before(real_sample_build, real_sample):
    """The keys hold across processes: nothing that varies by run (a time, a temporary
    path) reaches a template's source, or each run would compile again and add entries."""
    warehouse, _ = real_sample_build
    folder = PROJECT_DIR / jinja_code_cache.FOLDER
    assert warehouse.pipeline(real_sample).returncode == 0  # the first run with nothing new
    compiled = sorted(folder.iterdir())

    again = warehouse.pipeline(real_sample)

    assert again.returncode == 0, again.stdout + again.stderr
    assert compiled and sorted(folder.iterdir()) == compiled
