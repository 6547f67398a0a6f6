{% macro forget_user(user_id=none, reason=none) %}
  {%- if user_id is none or not reason -%}
    {{ exceptions.raise_compiler_error(
        "forget_user erases the user that `make forget` names: run `make forget USER_ID=<id> REASON=\"...\"`.") }}
  {%- endif -%}
  {%- set schema = var('raw_schema') -%}
  {%- set tables = erasure_tables(user_id) -%}
  {%- set found = tables and run_query(user_rows_sql(tables | selectattr('finds_user'))).rows[0][0] > 0 -%}
  {%- if not found -%}
    {%- set erased = existing_relation(schema, 'erasures') and run_query(
        'select max(erased_at) from ' ~ schema ~ ".erasures where user_id = '" ~ user_id ~ "'").rows[0][0] -%}
    {% do report_event({'event': 'erasure', 'user_id': user_id, 'status': 'already_erased' if erased else 'not_found',
        'erased_at': erased | string if erased else none, 'tables': {}}) %}
    {% do return(none) %}
  {%- endif -%}

  {% do create_load_tables(schema) %}
  {%- set erased_at = modules.datetime.datetime.utcnow() -%}
  {%- set counts = {} -%}
  {#- One transaction: the statements below run on one connection, committed once at the end. -#}
  {% call statement('note_erased_values') %}{{ erased_values_sql(tables[0].relation, user_id) }}{% endcall %}
  {%- for table in tables %}
    {%- set rows = run_query('select count(*) from ' ~ table.relation ~ ' where ' ~ table.condition).rows[0][0] -%}
    {%- do counts.update({table.relation.schema ~ '.' ~ table.relation.identifier: rows | int}) -%}
    {% call statement('erase_from_' ~ table.relation.identifier) %}
      delete from {{ table.relation }} where {{ table.condition }}
    {% endcall %}
  {%- endfor %}
  {% call statement('record_erasure') %}
    {{ staging_deletion_insert_sql({'schema': schema, 'source_table': 'staging_events', 'loaded_at': erased_at},
        counts[schema ~ '.staging_events']) }};
    insert into {{ schema }}.erasures (user_id, erased_at, reason, erasure_id, rows_erased)
    values (
        '{{ user_id }}', {{ load_time_sql(erased_at) }}, {{ sql_string(reason) }}, '{{ invocation_id }}',
        {{ counts.values() | sum }}
    )
  {% endcall %}
  {% do adapter.commit() %}
  {% do report_event({'event': 'erasure', 'user_id': user_id, 'status': 'erased', 'erased_at': erased_at | string,
      'tables': counts}) %}
{% endmacro %}


{% macro erasure_tables(user_id) %}
  {%- set schema = var('raw_schema') -%}
  {%- set tables = [] -%}
  {%- set events = existing_relation(schema, 'staging_events') -%}
  {%- if events is none -%}
    {% do return(tables) %}
  {%- endif -%}
  {%- do tables.append({'relation': events, 'condition': erased_event_condition(user_id),
      'finds_user': whole_number_value(raw_user_id_column()) ~ ' = ' ~ user_id}) -%}
  {%- set rejects = existing_relation(schema, 'load_rejects') -%}
  {%- if rejects is not none -%}
    {%- set condition = rejected_line_user_id('raw_line') ~ " = '" ~ user_id ~ "'" -%}
    {%- do tables.append({'relation': rejects, 'condition': condition, 'finds_user': condition}) -%}
  {%- endif -%}
  {%- for node in graph.nodes.values() | sort(attribute='name')
      if node.resource_type == 'model' and node.config.materialized in ('table', 'incremental')
      and 'user_id' in node.columns %}
    {%- set relation = existing_relation(node.schema, node.alias, node.database) -%}
    {%- if relation is not none -%}
      {%- do tables.append({'relation': relation, 'condition': 'user_id = ' ~ user_id,
          'finds_user': 'user_id = ' ~ user_id}) -%}
    {%- endif -%}
  {%- endfor -%}
  {#- After the facts: the dimensions that hold no user_id, but values that only the user's
      rows may have had. A full build keeps a value while another row has it; so does this. -#}
  {%- set songplays = ref('songplays') -%}
  {%- set time = existing_relation(ref('time').schema, ref('time').identifier) -%}
  {%- if time is not none and existing_relation(songplays.schema, songplays.identifier) is not none -%}
    {%- do tables.append({'relation': time, 'finds_user': none,
        'condition': 'start_time in (select start_time from erased_start_times) and start_time not in ('
            ~ 'select start_time from ' ~ songplays ~ ')'}) -%}
  {%- endif -%}
  {%- set staging = ref('stg_sparkify__events') -%}
  {%- set agents = existing_relation(ref('user_agents').schema, ref('user_agents').identifier) -%}
  {%- if agents is not none and existing_relation(staging.schema, staging.identifier) is not none -%}
    {%- do tables.append({'relation': agents, 'finds_user': none,
        'condition': 'user_agent in (select user_agent from erased_user_agents) and user_agent not in ('
            ~ 'select user_agent from ' ~ staging ~ ' where user_agent is not null)'}) -%}
  {%- endif -%}
  {% do return(tables) %}
{% endmacro %}


{% macro existing_relation(schema, identifier, database=none) %}
  {{ return(adapter.get_relation(database=database or target.database, schema=schema, identifier=identifier)) }}
{% endmacro %}


{% macro erased_event_condition(user_id) -%}
{{ users_events_condition(whole_number_value(raw_user_id_column()) ~ ' = ' ~ user_id, 'select sessionid from erased_sessions') }}
{%- endmacro %}


{% macro erased_values_sql(events, user_id) -%}
{%- set songplays = ref('songplays') -%}
create temp table erased_sessions as
select distinct sessionid from {{ events }} where {{ whole_number_value(raw_user_id_column()) }} = {{ user_id }};
create temp table erased_user_agents as
select distinct {{ empty_as_null(strip_double_quotes('useragent')) }} as user_agent
from {{ events }}
where {{ erased_event_condition(user_id) }} and useragent is not null;
create temp table erased_start_times as
{%- if existing_relation(songplays.schema, songplays.identifier) is not none %}
select distinct start_time from {{ songplays }} where user_id = {{ user_id }}
{%- else %}
select cast(null as timestamp) as start_time where 1 = 0
{%- endif %}
{%- endmacro %}


{% macro user_rows_sql(tables) -%}
select 0
{%- for table in tables %}
    + (select count(*) from {{ table.relation }} where {{ table.finds_user }})
{%- endfor %}
{%- endmacro %}
