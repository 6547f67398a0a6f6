{% macro require_loaded_warehouse() %}
    {%- if execute and flags.WHICH in ("build", "run", "test", "freshness", "snapshot", "retry") -%}
        {%- set load_audit = adapter.get_relation(
            database=target.database, schema=var("raw_schema"), identifier="load_audit"
        ) -%}
        {%- if load_audit is none -%}
            {{ exceptions.raise_compiler_error(
                "The warehouse has no loaded data: run `make load` (or `make demo`) first."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
