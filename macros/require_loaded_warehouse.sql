{#- on-run-start hook (dbt_project.yml). On a warehouse that was never loaded the sources do
    not exist, and dbt build printed over a hundred lines about a missing schema raw with no
    word of what to do; this stops the commands that read the sources first, in one line.
    Not run-operation (the load is `dbt run-operation load_raw`, which creates the raw schema),
    nor seed, compile, show, docs generate or parse: seed needs no raw data, and the others run
    no on-run-start hook (sqlfluff's templater, which renders the models against an empty
    warehouse for make lint, compiles). Not at parse time either, when execute is false.
    load_audit is the table the load creates with the raw tables; get_relation finds it, or
    not, on DuckDB and Redshift alike. -#}
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
