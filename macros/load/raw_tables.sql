{#- The raw tables the load writes. Column order follows log_json_path.json, which a
    Redshift COPY maps by position; column names are the JSON keys, lower-cased as
    Redshift folds identifiers. Text widths are generous so that a long value is
    rejected loudly rather than truncated silently. -#}
{% macro raw_staging_tables() %}
  {% do return({
    'staging_events': {
      'prefix': 'log_data',
      'columns': [
        {'name': 'artist', 'json_key': 'artist', 'type': 'varchar(1024)'},
        {'name': 'auth', 'json_key': 'auth', 'type': 'varchar(32)'},
        {'name': 'firstname', 'json_key': 'firstName', 'type': 'varchar(256)'},
        {'name': 'gender', 'json_key': 'gender', 'type': 'varchar(8)'},
        {'name': 'iteminsession', 'json_key': 'itemInSession', 'type': 'integer'},
        {'name': 'lastname', 'json_key': 'lastName', 'type': 'varchar(256)'},
        {'name': 'length', 'json_key': 'length', 'type': 'double precision'},
        {'name': 'level', 'json_key': 'level', 'type': 'varchar(16)'},
        {'name': 'location', 'json_key': 'location', 'type': 'varchar(512)'},
        {'name': 'method', 'json_key': 'method', 'type': 'varchar(16)'},
        {'name': 'page', 'json_key': 'page', 'type': 'varchar(64)'},
        {'name': 'registration', 'json_key': 'registration', 'type': 'double precision'},
        {'name': 'sessionid', 'json_key': 'sessionId', 'type': 'integer'},
        {'name': 'song', 'json_key': 'song', 'type': 'varchar(1024)'},
        {'name': 'status', 'json_key': 'status', 'type': 'integer'},
        {'name': 'ts', 'json_key': 'ts', 'type': 'bigint'},
        {'name': 'useragent', 'json_key': 'userAgent', 'type': 'varchar(1024)'},
        {'name': 'userid', 'json_key': 'userId', 'type': 'varchar(64)'},
      ],
    },
    'staging_songs': {
      'prefix': 'song_data',
      'columns': [
        {'name': 'num_songs', 'json_key': 'num_songs', 'type': 'integer'},
        {'name': 'artist_id', 'json_key': 'artist_id', 'type': 'varchar(32)'},
        {'name': 'artist_latitude', 'json_key': 'artist_latitude', 'type': 'double precision'},
        {'name': 'artist_longitude', 'json_key': 'artist_longitude', 'type': 'double precision'},
        {'name': 'artist_location', 'json_key': 'artist_location', 'type': 'varchar(1024)'},
        {'name': 'artist_name', 'json_key': 'artist_name', 'type': 'varchar(1024)'},
        {'name': 'song_id', 'json_key': 'song_id', 'type': 'varchar(32)'},
        {'name': 'title', 'json_key': 'title', 'type': 'varchar(1024)'},
        {'name': 'duration', 'json_key': 'duration', 'type': 'double precision'},
        {'name': 'year', 'json_key': 'year', 'type': 'integer'},
      ],
    },
  }) %}
{% endmacro %}


{#- Creates the raw schema, the staging tables and the load bookkeeping tables when missing. -#}
{% macro create_load_tables(schema) %}
  {% do run_query('create schema if not exists ' ~ schema) %}
  {% for name, table in raw_staging_tables().items() %}
    {% call statement('create_' ~ name) %}
      create table if not exists {{ schema }}.{{ name }} (
        {%- for column in table.columns %}
        {{ column.name }} {{ column.type }}{{ ',' if not loop.last }}
        {%- endfor %}
      )
    {% endcall %}
  {% endfor %}
  {% call statement('create_load_audit') %}
    create table if not exists {{ schema }}.load_audit (
      load_id varchar(64),
      source_table varchar(64),
      location varchar(1024),
      files integer,
      rows_loaded bigint,
      rows_rejected bigint,
      max_rejects integer,
      status varchar(16),
      started_at timestamp,
      finished_at timestamp
    )
  {% endcall %}
  {% call statement('create_load_rejects') %}
    create table if not exists {{ schema }}.load_rejects (
      load_id varchar(64),
      source_table varchar(64),
      file_name varchar(1024),
      line_number bigint,
      reason varchar(1024),
      raw_line varchar(65535)
    )
  {% endcall %}
{% endmacro %}
