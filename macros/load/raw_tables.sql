{% macro raw_staging_tables() %}
  {% do return({
    'staging_events': {'columns': [
        {'name': 'artist', 'json_key': 'artist', 'type': 'varchar(1024)'},
        {'name': 'auth', 'json_key': 'auth', 'type': 'varchar(32)'},
        {'name': 'firstname', 'json_key': 'firstName', 'type': 'varchar(256)'},
        {'name': 'gender', 'json_key': 'gender', 'type': 'varchar(8)', 'values': ['F', 'M']},
        {'name': 'iteminsession', 'json_key': 'itemInSession', 'type': 'integer', 'required': true, 'min': 0},
        {'name': 'lastname', 'json_key': 'lastName', 'type': 'varchar(256)'},
        {'name': 'length', 'json_key': 'length', 'type': 'double precision', 'min': 0},
        {'name': 'level', 'json_key': 'level', 'type': 'varchar(16)', 'values': ['free', 'paid'],
         'required_with': 'userid'},
        {'name': 'location', 'json_key': 'location', 'type': 'varchar(512)'},
        {'name': 'method', 'json_key': 'method', 'type': 'varchar(16)'},
        {'name': 'page', 'json_key': 'page', 'type': 'varchar(64)', 'required': true},
        {'name': 'registration', 'json_key': 'registration', 'type': 'double precision',
         'min': 0, 'max': 'latest_event_ms'},
        {'name': 'sessionid', 'json_key': 'sessionId', 'type': 'integer', 'required': true},
        {'name': 'song', 'json_key': 'song', 'type': 'varchar(1024)'},
        {'name': 'status', 'json_key': 'status', 'type': 'integer'},
        {'name': 'ts', 'json_key': 'ts', 'type': 'bigint', 'required': true,
         'min': 'earliest_event_ms', 'max': 'latest_event_ms'},
        {'name': 'useragent', 'json_key': 'userAgent', 'type': 'varchar(1024)'},
        {'name': 'userid', 'json_key': 'userId', 'type': 'varchar(64)', 'whole_number': true,
         'identifies_user': true},
    ]},
    'staging_songs': {'columns': [
        {'name': 'num_songs', 'json_key': 'num_songs', 'type': 'integer'},
        {'name': 'artist_id', 'json_key': 'artist_id', 'type': 'varchar(32)', 'required': true},
        {'name': 'artist_latitude', 'json_key': 'artist_latitude', 'type': 'double precision', 'min': -90, 'max': 90},
        {'name': 'artist_longitude', 'json_key': 'artist_longitude', 'type': 'double precision',
         'min': -180, 'max': 180},
        {'name': 'artist_location', 'json_key': 'artist_location', 'type': 'varchar(1024)'},
        {'name': 'artist_name', 'json_key': 'artist_name', 'type': 'varchar(1024)'},
        {'name': 'song_id', 'json_key': 'song_id', 'type': 'varchar(32)', 'required': true},
        {'name': 'title', 'json_key': 'title', 'type': 'varchar(1024)'},
        {'name': 'duration', 'json_key': 'duration', 'type': 'double precision', 'above': 0},
        {'name': 'year', 'json_key': 'year', 'type': 'integer', 'min': 1900, 'max': 'latest_year', 'also': [0]},
    ]},
  }) %}
{% endmacro %}


{% macro raw_lineage_columns() %}
  {% do return([
      {'name': 'source_file', 'type': 'varchar(1024)'},
      {'name': 'loaded_at', 'type': 'timestamp'},
  ]) %}
{% endmacro %}


{% macro load_bookkeeping_tables() %}
  {% do return({
    'load_audit': {'columns': [
        {'name': 'load_id', 'type': 'varchar(64)'},
        {'name': 'source_table', 'type': 'varchar(64)'},
        {'name': 'location', 'type': 'varchar(1024)'},
        {'name': 'full_refresh', 'type': 'boolean'},
        {'name': 'files_found', 'type': 'integer'},
        {'name': 'files_loaded', 'type': 'integer'},
        {'name': 'files_skipped', 'type': 'integer'},
        {'name': 'rows_loaded', 'type': 'bigint'},
        {'name': 'rows_rejected', 'type': 'bigint'},
        {'name': 'max_rejects', 'type': 'integer'},
        {'name': 'status', 'type': 'varchar(16)'},
        {'name': 'message', 'type': 'varchar(4096)'},
        {'name': 'started_at', 'type': 'timestamp'},
        {'name': 'finished_at', 'type': 'timestamp'},
    ]},
    'load_rejects': {'columns': [
        {'name': 'load_id', 'type': 'varchar(64)'},
        {'name': 'source_table', 'type': 'varchar(64)'},
        {'name': 'file_name', 'type': 'varchar(1024)'},
        {'name': 'line_number', 'type': 'bigint'},
        {'name': 'reason', 'type': 'varchar(1024)'},
        {'name': 'raw_line', 'type': 'varchar(65535)'},
    ]},
    'loaded_files': {'columns': [
        {'name': 'source_table', 'type': 'varchar(64)'},
        {'name': 'file_name', 'type': 'varchar(1024)'},
        {'name': 'file_size', 'type': 'bigint'},
        {'name': 'file_version', 'type': 'varchar(128)'},
        {'name': 'rows_loaded', 'type': 'bigint'},
        {'name': 'rows_rejected', 'type': 'bigint'},
        {'name': 'load_id', 'type': 'varchar(64)'},
        {'name': 'loaded_at', 'type': 'timestamp'},
    ]},
    'erasures': {'columns': [
        {'name': 'user_id', 'type': 'varchar(64)'},
        {'name': 'erased_at', 'type': 'timestamp'},
        {'name': 'reason', 'type': 'varchar(1024)'},
        {'name': 'erasure_id', 'type': 'varchar(64)'},
        {'name': 'rows_erased', 'type': 'bigint'},
    ]},
    'staging_deletions': {'columns': [
        {'name': 'source_table', 'type': 'varchar(64)'},
        {'name': 'load_id', 'type': 'varchar(64)'},
        {'name': 'loaded_at', 'type': 'timestamp'},
        {'name': 'rows_deleted', 'type': 'bigint'},
    ]},
  }) %}
{% endmacro %}


{% macro load_plan_columns() %}
  {% do return([
      {'name': 'source_table', 'type': 'varchar(64)'},
      {'name': 'file_name', 'type': 'varchar(1024)'},
      {'name': 'path', 'type': 'varchar(2048)'},
      {'name': 'read_path', 'type': 'varchar(4096)'},
      {'name': 'file_size', 'type': 'bigint'},
      {'name': 'file_version', 'type': 'varchar(128)'},
      {'name': 'batch_number', 'type': 'integer'},
  ]) %}
{% endmacro %}


{% macro raw_table_ddl(schema, name, columns) %}
  {%- set ddl -%}
create table if not exists {{ schema }}.{{ name }} (
{%- for column in columns %}
    {{ column.name }} {{ column.type }}{{ ',' if not loop.last }}
{%- endfor %}
){{ adapter.dispatch('raw_table_options', 'sparkify')(name) }}
  {%- endset -%}
  {% do return(ddl) %}
{% endmacro %}


{% macro default__raw_table_options(name) %}{% endmacro %}

{% macro redshift__raw_table_options(name) -%}
  {{ ' diststyle even' if name.startswith('staging_') else ' diststyle all' }}
{%- endmacro %}


{% macro create_load_tables(schema=none) %}
  {%- set schema = schema or var('raw_schema') -%}
  {% call statement('create_load_tables') %}
    create schema if not exists {{ schema }};
    {%- for name, table in raw_staging_tables().items() %}
    {{ raw_table_ddl(schema, name, table.columns + raw_lineage_columns()) }};
    {%- endfor %}
    {%- for name, table in load_bookkeeping_tables().items() %}
    {{ raw_table_ddl(schema, name, table.columns) }};
    {%- endfor %}
  {% endcall %}
  {% do adapter.commit() %}
{% endmacro %}


