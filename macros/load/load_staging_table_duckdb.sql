{#- DuckDB: load the new or changed files of one source, in batches, into a scratch table,
    then swap or merge it into the staging table in one transaction with its bookkeeping.

    Each batch goes through the fast path: DuckDB's JSON reader with every column read as
    text, then typed and width-checked in SQL. A file with any line that the fast path
    cannot vouch for (not JSON, not an object, not UTF-8, a value of the wrong type or too
    long) is read again by the precise path, line by line, which keeps every bad line
    with its file, line number and reason. DuckDB streams the reads, so memory does not
    grow with the data; only a file with a bad line is held whole, and one too large for
    memory_limit fails its source in one line (duckdb_precise_path). -#}
{% macro duckdb__load_staging_table(load) %}
  {%- set table = load.table -%}
  {%- if load.location.startswith('s3://') -%}
    {% do duckdb_enable_s3() %}
  {%- endif -%}
  {%- set files = duckdb_list_source_files(load) -%}
  {%- if files.found == 0 -%}
    {% do return(duckdb_record_load(load, files, {
        'status': 'failed', 'rows_loaded': 0, 'rows_rejected': 0,
        'message': 'no files under ' ~ load.location ~ '/' ~ table.prefix ~ '/: the location must hold '
          ~ table.prefix ~ '/ with .json files; run `make data` for a generated sample or pass LOCATION=<dir or s3:// prefix>'})) %}
  {%- endif -%}

  {%- set scratch = load.schema ~ '.' ~ load.source_table ~ '__loading' -%}
  {% call statement('create_scratch_' ~ load.source_table) %}
    drop table if exists {{ scratch }};
    create table {{ scratch }} as
    select *, cast(null as varchar) as load_problem from {{ load.schema }}.{{ load.source_table }} limit 0;
    create or replace temp table new_rejects as
    select load_id, source_table, file_name, line_number, reason, raw_line from {{ load.schema }}.load_rejects limit 0;
  {% endcall %}
  {% do adapter.commit() %}

  {%- set batches = run_query('select batch_no, count(*), sum(file_size) from pending_files group by 1 order by 1').rows -%}
  {%- for batch in batches %}
    {% do run_query("set variable batch_files = (select list(path order by path) from pending_files where batch_no = " ~ batch[0] ~ ")") %}
    {% call statement('fast_path_' ~ load.source_table) %}
      insert into {{ scratch }}
      {{ duckdb_fast_path_select(load) }};
    {% endcall %}
    {% do adapter.commit() %}
    {% do log('  ' ~ load.source_table ~ ': read batch ' ~ loop.index ~ ' of ' ~ batches | length ~ ' ('
        ~ '{:,}'.format(batch[1]) ~ ' files, ' ~ '%.1f' | format(batch[2] / 1048576) ~ ' MiB)', info=true) %}
  {%- endfor %}

  {%- set suspect = run_query('select count(distinct source_file) from ' ~ scratch ~ ' where load_problem is not null').rows[0][0] -%}
  {%- if suspect > 0 %}
    {% do log('  ' ~ load.source_table ~ ': ' ~ suspect ~ ' files need a line-by-line read', info=true) %}
    {%- set too_large = duckdb_precise_path(load, scratch) -%}
    {%- if too_large -%}
      {% do return(duckdb_record_load(load, files, {
          'status': 'failed', 'rows_loaded': 0, 'rows_rejected': 0, 'message': too_large}, scratch)) %}
    {%- endif -%}
  {%- endif %}

  {%- set counts = run_query(
      'select (select count(*) from ' ~ scratch ~ '), (select count(*) from new_rejects)').rows[0] -%}
  {%- set rows_loaded, rows_rejected = counts[0], counts[1] -%}
  {%- set status = 'loaded' if rows_rejected <= load.max_rejects else 'failed' -%}
  {%- set result = {
      'status': status, 'rows_loaded': rows_loaded if status == 'loaded' else 0, 'rows_rejected': rows_rejected,
      'message': none if status == 'loaded' else '{:,}'.format(rows_rejected) ~ ' rejected, at most ' ~ load.max_rejects ~ ' allowed'} -%}
  {% do return(duckdb_record_load(load, files, result, scratch)) %}
{% endmacro %}


{#- Lists the source's files into the temp tables found_files (everything under the prefix),
    listed_files (the .json files, with size and version) and pending_files (those to read,
    in batches), from the listing given or else by DuckDB's glob. Also counts the files
    loaded before that are gone (none on a full refresh, which replaces every row). -#}
{% macro duckdb_list_source_files(load) %}
  {%- if load.listing -%}
    {% do duckdb_read_listing(load) %}
  {%- else -%}
    {% do duckdb_glob_source_files(load) %}
  {%- endif -%}
  {%- set found = run_query("select count(*) from found_files").rows[0][0] -%}
  {% call statement('pending_' ~ load.source_table) %}
    create or replace temp table pending_files as
    with changed as (
        select listed_files.*
        from listed_files
        left join {{ load.schema }}.loaded_files as ledger
            on ledger.source_table = '{{ load.source_table }}'
            and ledger.file_name = listed_files.file_name
            and ledger.file_size = listed_files.file_size
            and ledger.file_version = listed_files.file_version
        where {{ 'true' if load.full_refresh else 'ledger.file_name is null' }}
    ),

    running as (
        select
            *,
            sum(file_size) over (order by file_name rows unbounded preceding) as bytes_so_far,
            row_number() over (order by file_name) as files_so_far
        from changed
    )

    -- Batches of about 1 GiB or 10,000 files, whichever comes first, for a progress line
    -- every few seconds. Not smaller: each batch is one insert, and the next checkpoint
    -- repacks the part-filled row groups each insert leaves (with 256 MiB batches, 0.7 s
    -- per million events). The reader streams, so memory does not depend on the batch.
    select
        *,
        greatest(floor(bytes_so_far / 1073741824), floor((files_so_far - 1) / 10000)) as batch_no
    from running;
  {% endcall %}
  {%- set skipped = run_query(
      "select (select count(*) from found_files where path not like '%.json'), "
      ~ "(select string_agg(file_name, ', ') from (select file_name from found_files where path not like '%.json' order by 1 limit 3))").rows[0] -%}
  {%- set pending = run_query('select count(*) from pending_files').rows[0][0] -%}
  {%- set gone = 0 if load.full_refresh else run_query(
      "select count(*) from " ~ load.schema ~ ".loaded_files anti join listed_files using (file_name) "
      ~ "where source_table = '" ~ load.source_table ~ "'").rows[0][0] -%}
  {% do return({'found': found, 'loaded': pending, 'gone': gone, 'skipped': skipped[0], 'skipped_examples': skipped[1]}) %}
{% endmacro %}


{#- found_files and listed_files from the CSV that `make load` wrote (path, file_name,
    file_size, file_version; sparkify/load.py's write_listing). -#}
{% macro duckdb_read_listing(load) %}
  {% call statement('read_listing_' ~ load.source_table) %}
    create or replace temp table found_files as
    select *
    from read_csv({{ sql_string(load.listing) }}, header = true, quote = '"', escape = '"', columns = {
        'path': 'varchar', 'file_name': 'varchar', 'file_size': 'bigint', 'file_version': 'varchar'})
    where starts_with(file_name, {{ sql_string(load.table.prefix ~ '/') }});
    create or replace temp table listed_files as
    select * from found_files where path like '%.json';
  {% endcall %}
{% endmacro %}


{#- found_files and listed_files by DuckDB's glob, which an s3:// location needs, then
    read_blob for sizes and versions. `**` does not follow symbolic links to folders, so a
    folder one or two levels down in which it found nothing is listed again through its own
    path, which does. -#}
{% macro duckdb_glob_source_files(load) %}
  {%- set root = load.location ~ '/' ~ load.table.prefix -%}
  {%- set offset = load.location | length + 2 -%}
  {% call statement('list_' ~ load.source_table) %}
    create or replace temp table found_files as
    select file as path, substr(file, {{ offset }}) as file_name
    from glob({{ sql_string(root ~ '/**') }});
  {% endcall %}
  {%- if not load.location.startswith('s3://') -%}
    {% call statement('list_linked_' ~ load.source_table) %}
      set variable linked_folders = (
          with folders as (
              select rtrim(file, '/') as folder
              from glob([{{ sql_string(root ~ '/*/') }}, {{ sql_string(root ~ '/*/*/') }}])
          ),

          listed_folders as (
              select distinct {{ sql_string(root ~ '/') }} || split_part(substr(path, {{ root | length + 2 }}), '/', 1) as folder
              from found_files
              union
              select distinct {{ sql_string(root ~ '/') }} || split_part(substr(path, {{ root | length + 2 }}), '/', 1)
                  || '/' || split_part(substr(path, {{ root | length + 2 }}), '/', 2)
              from found_files
          )

          select list(folder || '/**') from folders
          where folder not in (select folder from listed_folders)
      );
    {% endcall %}
    {%- if run_query("select len(getvariable('linked_folders'))").rows[0][0] -%}
      {% do run_query("insert into found_files select distinct file, substr(file, " ~ offset ~ ") "
          ~ "from glob(getvariable('linked_folders')) where file not in (select path from found_files)") %}
    {%- endif -%}
  {%- endif -%}
  {%- if run_query("select count(*) from found_files where path like '%.json'").rows[0][0] > 0 -%}
    {% do run_query("set variable listed_paths = (select list(path) from found_files where path like '%.json')") %}
    {% call statement('stat_' ~ load.source_table) %}
      create or replace temp table listed_files as
      select
          filename as path,
          substr(filename, {{ offset }}) as file_name,
          size as file_size,
          strftime(last_modified, '%Y-%m-%dT%H:%M:%S.%f%z') as file_version
      from read_blob(getvariable('listed_paths'));
    {% endcall %}
  {%- else -%}
    {% do run_query("create or replace temp table listed_files as select path, file_name, 0::bigint as file_size, ''::varchar as file_version from found_files limit 0") %}
  {%- endif -%}
{% endmacro %}


{#- The fast path of one batch (the files in the variable batch_files): DuckDB's
    line-by-line JSON reader, which never stops on a bad line, then every value extracted
    as text in one pass and typed and checked in SQL. load_problem marks a row whose file
    must go through the precise path: a line that is not a JSON object (the reader gives
    null), an object with none of the known keys, or a value with a problem. -#}
{% macro duckdb_fast_path_select(load) %}
  {%- set columns = load.table.columns -%}
  with objects as (

      select filename, json, {{ duckdb_extract_values('json', columns) }} as found_values
      from read_ndjson_objects(getvariable('batch_files'), ignore_errors = true, filename = true)

  )

  select
      {%- for column in columns %}
      try_cast(found_values[{{ loop.index }}] as {{ column.type }}) as {{ column.name }},
      {%- endfor %}
      substr(filename, {{ load.location | length + 2 }}) as source_file,
      cast('{{ load.loaded_at.isoformat(sep=" ") }}' as timestamp) as loaded_at,
      case
          when json is null then 'not a JSON object'
          when {% for column in columns %}found_values[{{ loop.index }}] is null{{ ' and ' if not loop.last }}{% endfor %}
              then 'no known key'
          else {{ duckdb_value_problems(columns, 'found_values') }}
      end as load_problem
  from objects
{% endmacro %}


{#- The values of a JSON object's keys, as a list of text in the order of the columns,
    extracted in one parse. -#}
{% macro duckdb_extract_values(json, columns) -%}
  json_extract_string({{ json }}, [
      {%- for column in columns %}{{ sql_string('$."' ~ column.json_key ~ '"') }}{{ ', ' if not loop.last }}{% endfor -%}
  ])
{%- endmacro %}


{#- Why the text values of one line cannot be loaded, naming each key; null when they can.
    A value must cast to its column's type, and text must fit its column's width in bytes,
    as Redshift's varchar(n) counts them. `found_values` is the list of texts. -#}
{% macro duckdb_value_problems(columns, found_values) -%}
  nullif(concat_ws('; '
  {%- for column in columns %},
      {%- set text = found_values ~ '[' ~ loop.index ~ ']' -%}
      {%- set width = modules.re.match('varchar\((\d+)\)', column.type) %}
      {%- if width %}
      case when strlen({{ text }}) > {{ width.group(1) }}
          then '{{ column.json_key }}: ' || strlen({{ text }}) || ' bytes, longer than {{ column.type }}' end
      {%- else %}
      case when {{ text }} is not null and try_cast({{ text }} as {{ column.type }}) is null
          then '{{ column.json_key }}: ' || left({{ text }}, 100) || ' is not {{ column.type }}' end
      {%- endif %}
  {%- endfor %}
  ), '')
{%- endmacro %}


{#- The precise path: the files flagged by the fast path lose their rows in the scratch
    table and are read again line by line, in chunks: good lines go back to the scratch
    table, bad ones to new_rejects with their line number and reason. DuckDB reads a file
    whole to split it into lines, which takes about twice its size within memory_limit and
    as much again outside it. So a suspect file larger than a quarter of memory_limit fails
    its source in one line, where DuckDB would run out of memory (nothing is lost: the
    source keeps its rows and the file stays unread), and the chunks stay below half of it:
    a chunk holds less than its nominal size, at most an eighth, plus its largest file.
    Returns that failure's message, or none. -#}
{% macro duckdb_precise_path(load, scratch) %}
  {%- set limit = run_query(duckdb_memory_limit_bytes_sql()).rows[0] -%}
  {% call statement('suspect_files_' ~ load.source_table) %}
    create or replace temp table suspect_files as
    with flagged as (
        select distinct source_file as file_name from {{ scratch }} where load_problem is not null
    )
    select
        pending_files.path,
        flagged.file_name,
        pending_files.file_size,
        floor(sum(pending_files.file_size) over (order by flagged.file_name rows unbounded preceding) / {{ [67108864, (limit[0] / 8) | int] | min }}) as chunk_no
    from flagged
    inner join pending_files on flagged.file_name = pending_files.file_name;
  {% endcall %}
  {%- set too_large = run_query(
      "select file_name, file_size from suspect_files where file_size > " ~ (limit[0] / 4) | int
      ~ " order by file_size desc").rows -%}
  {%- if too_large -%}
    {%- set more = too_large | length - 1 -%}
    {%- do return(too_large[0][0] ~ ' (' ~ '%.0f' | format(too_large[0][1] / 1048576) ~ ' MiB)'
        ~ (' and ' ~ more ~ ' more such files have' if more else ' has')
        ~ ' bad lines, and finding them reads a file whole, which fits in a quarter of DuckDB\'s memory_limit ('
        ~ limit[1] ~ ') at most: split the file, or raise memory_limit (SPARKIFY_DUCKDB_MEMORY_LIMIT in the example profile)') -%}
  {%- endif -%}
  {% call statement('suspect_rows_' ~ load.source_table) %}
    delete from {{ scratch }} where source_file in (select file_name from suspect_files);
  {% endcall %}
  {% do adapter.commit() %}
  {%- for chunk in run_query('select distinct chunk_no from suspect_files order by 1').rows %}
    {% do run_query("set variable suspect_paths = (select list(path) from suspect_files where chunk_no = " ~ chunk[0] ~ ")") %}
    {% call statement('precise_path_' ~ load.source_table) %}
      create or replace temp table precise_lines as
      {{ duckdb_precise_path_select(load) }};
    {% endcall %}
    {% do duckdb_pretty_printed_documents(load) %}
    {% call statement('precise_path_rows_' ~ load.source_table) %}
      insert into {{ scratch }}
      select
          {%- for column in load.table.columns %}
          try_cast(found_values[{{ loop.index }}] as {{ column.type }}),
          {%- endfor %}
          source_file,
          cast('{{ load.loaded_at.isoformat(sep=" ") }}' as timestamp),
          null
      from precise_lines
      where reason is null;
      insert into new_rejects
      select '{{ invocation_id }}', '{{ load.source_table }}', source_file, line_number, reason, raw_line
      from precise_lines
      where reason is not null;
    {% endcall %}
    {% do adapter.commit() %}
  {%- endfor %}
  {% do return(none) %}
{% endmacro %}


{#- DuckDB's memory_limit in bytes, and as DuckDB writes it (such as '953.6 MiB'). -#}
{% macro duckdb_memory_limit_bytes_sql() %}
  with setting as (select current_setting('memory_limit') as written)
  select
      cast(string_split(written, ' ')[1] as double) * case string_split(written, ' ')[2]
          when 'KiB' then 1024 when 'MiB' then 1048576 when 'GiB' then 1073741824
          when 'TiB' then 1099511627776 else 1 end,
      written
  from setting
{% endmacro %}


{#- Every non-blank line of the files in the variable suspect_paths, with its number and
    either its values as text or the reason it cannot be loaded. -#}
{% macro duckdb_precise_path_select(load) %}
  {%- set columns = load.table.columns -%}
  with files as (

      select
          substr(filename, {{ load.location | length + 2 }}) as source_file,
          -- Blob to text writes every byte outside printable ASCII as \xNN, so a file that is
          -- not UTF-8 can still be split into lines and each line decoded on its own.
          string_split(cast(content as varchar), '\x0A') as escaped_lines
      from read_blob(getvariable('suspect_paths'))

  ),

  lines as (

      select
          source_file,
          generate_subscripts(escaped_lines, 1) as line_number,
          unnest(escaped_lines) as escaped_line
      from files

  ),

  decoded as (

      select
          source_file,
          line_number,
          escaped_line,
          try(decode(cast(
              regexp_replace(
                  case when line_number = 1 then regexp_replace(escaped_line, '^\\xEF\\xBB\\xBF', '') else escaped_line end,
                  '\\x0D$', '')
              as blob))) as raw_line
      from lines
      where trim(escaped_line) <> ''

  ),

  parsed as (

      select
          *,
          case
              when raw_line is null then 'not valid UTF-8'
              when not json_valid(raw_line) then 'not valid JSON'
              when json_type(raw_line) = 'ARRAY'
                  then 'a JSON array of ' || format('{:,}', json_array_length(raw_line)) || ' records, expected one object per line'
              when json_type(raw_line) <> 'OBJECT'
                  then 'a JSON ' || case json_type(raw_line)
                      when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean' when 'NULL' then 'null' else 'number'
                  end || ', expected one object per line'
          end as line_problem,
          case when json_valid(raw_line) and json_type(raw_line) = 'OBJECT'
              then {{ duckdb_extract_values('raw_line', columns) }}
          end as found_values
      from decoded

  ),

  line_rows as (

      select
          source_file,
          line_number,
          -- A line that is not UTF-8 is kept in blob notation, so that no byte is lost.
          coalesce(raw_line, escaped_line) as raw_line,
          coalesce(line_problem, {{ duckdb_value_problems(columns, 'found_values') }}) as reason,
          found_values
      from parsed

  )

  select * from line_rows
{% endmacro %}


{#- A file that is one JSON document spread over several lines (pretty-printed) is one
    reject, said as such, in place of its lines in precise_lines. Only a file of several
    lines whose first line is not valid JSON can be one: a first line that is a JSON value
    on its own cannot begin a longer document. Such files are read whole once more. -#}
{% macro duckdb_pretty_printed_documents(load) %}
  {% do run_query(
      "set variable document_paths = (select list(suspect_files.path) from suspect_files inner join ("
      ~ " select source_file from precise_lines group by source_file"
      ~ " having count(*) > 1 and arg_min(reason, line_number) = 'not valid JSON'"
      ~ ") as candidates on suspect_files.file_name = candidates.source_file)") %}
  {%- if run_query("select coalesce(len(getvariable('document_paths')), 0)").rows[0][0] > 0 %}
    {% call statement('pretty_printed_' ~ load.source_table) %}
      create or replace temp table pretty_printed as
      with documents as (

          select
              substr(filename, {{ load.location | length + 2 }}) as source_file,
              -- The file as one document, without a byte-order mark, when it is UTF-8.
              regexp_replace(try(decode(content)), '^\x{FEFF}', '') as document
          from read_blob(getvariable('document_paths'))

      )

      select
          source_file,
          1 as line_number,
          document as raw_line,
          case json_type(document)
              when 'ARRAY' then 'a pretty-printed JSON array of ' || format('{:,}', json_array_length(document))
                  || ' records over '
              else 'a pretty-printed JSON document over '
          end || format('{:,}', length(document) - length(replace(document, chr(10), '')) + 1)
              || ' lines, expected one object per line' as reason,
          null as found_values
      from documents
      where json_valid(document);
      delete from precise_lines where source_file in (select source_file from pretty_printed);
      insert into precise_lines select * from pretty_printed;
    {% endcall %}
  {%- endif %}
{% endmacro %}


{#- Ends the load of one source in one transaction: on success the scratch rows replace
    the rows of the files they came from (or the whole table, on a full refresh), and the
    ledger learns the files; either way the rejects of the files read replace their
    earlier ones, the files not read are recorded, and the audit row is written. -#}
{% macro duckdb_record_load(load, files, result, scratch=none) %}
  {%- do result.update({'files_found': files.found, 'files_loaded': files.loaded, 'files_skipped': files.skipped,
                         'skipped_examples': files.skipped_examples}) -%}
  {%- do note_files_gone(result, files.gone, kept=true) -%}
  {%- set staging = load.schema ~ '.' ~ load.source_table -%}
  {%- set replace_all = load.full_refresh or run_query(
      "select count(*) = 0 from " ~ load.schema ~ ".loaded_files where source_table = '" ~ load.source_table ~ "'").rows[0][0] -%}
  {% call statement('record_' ~ load.source_table) %}
    {%- if result.status == 'loaded' %}
      {%- if replace_all %}
    {{ staging_deletion_insert_sql(load, 'select count(*) from ' ~ staging) }};
    -- Nothing to keep: the scratch table becomes the staging table, with no copy.
    drop table {{ staging }};
    alter table {{ scratch }} drop column load_problem;
    alter table {{ scratch }} rename to {{ load.source_table }};
    delete from {{ load.schema }}.loaded_files where source_table = '{{ load.source_table }}';
      {%- else %}
    {#- Rows of the changed files that the new versions do not hold again. -#}
    {{ staging_deletion_insert_sql(load,
        'select count(*) from (select * exclude (loaded_at) from ' ~ staging
        ~ ' where source_file in (select file_name from pending_files) except select * exclude (loaded_at, load_problem) from '
        ~ scratch ~ ') as deleted') }};
    delete from {{ staging }} where source_file in (select file_name from pending_files);
    insert into {{ staging }} select * exclude (load_problem) from {{ scratch }};
    delete from {{ load.schema }}.loaded_files
    where source_table = '{{ load.source_table }}' and file_name in (select file_name from pending_files);
      {%- endif %}
    insert into {{ load.schema }}.loaded_files
    select
        '{{ load.source_table }}',
        pending_files.file_name,
        pending_files.file_size,
        pending_files.file_version,
        coalesce(loaded.row_count, 0),
        coalesce(rejected.row_count, 0),
        '{{ invocation_id }}',
        cast('{{ load.loaded_at.isoformat(sep=" ") }}' as timestamp)
    from pending_files
    left join (
        select source_file, count(*) as row_count from {{ staging }}
        where loaded_at = cast('{{ load.loaded_at.isoformat(sep=" ") }}' as timestamp)
        group by source_file
    ) as loaded on pending_files.file_name = loaded.source_file
    left join (
        select file_name, count(*) as row_count from new_rejects group by file_name
    ) as rejected on pending_files.file_name = rejected.file_name;
    {%- endif %}
    delete from {{ load.schema }}.load_rejects
    where source_table = '{{ load.source_table }}'
        and ({{ 'true' if replace_all and result.status == 'loaded' else 'false' }}
            or file_name in (select file_name from pending_files)
            or line_number is null);
    {%- if scratch %}
    insert into {{ load.schema }}.load_rejects select * from new_rejects order by file_name, line_number;
    {%- endif %}
    insert into {{ load.schema }}.load_rejects (load_id, source_table, file_name, line_number, reason, raw_line)
    select
        '{{ invocation_id }}', '{{ load.source_table }}', file_name, null,
        'not read: only .json files are loaded', null
    from found_files
    where path not like '%.json';
    {{ load_audit_insert_sql(load, result) }};
    {%- if scratch %}
    drop table if exists {{ scratch }};
    {%- endif %}
  {% endcall %}
  {% do adapter.commit() %}
  {% do return(result) %}
{% endmacro %}


{#- Lets DuckDB read s3:// with the AWS credential chain (environment, profile, SSO...),
    so no key appears in SQL. The extensions load by path from the project's wheels;
    AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) points at an S3-compatible endpoint. -#}
{% macro duckdb_enable_s3() %}
  {%- set extensions = env_var('SPARKIFY_DUCKDB_EXTENSIONS', '') -%}
  {%- if not extensions -%}
    {{ exceptions.raise_compiler_error(
        "Reading s3:// on DuckDB needs the httpfs and aws extensions shipped in the project's wheels: "
        ~ "run `make load`, or set SPARKIFY_DUCKDB_EXTENSIONS=$(python -m sparkify.duckdb_extensions).") }}
  {%- endif -%}
  {%- for path in extensions.split(",") -%}
    {% do run_query("load " ~ sql_string(path)) %}
  {%- endfor -%}
  {%- set endpoint = env_var('AWS_ENDPOINT_URL_S3', env_var('AWS_ENDPOINT_URL', '')) -%}
  {%- set region = env_var('AWS_REGION', env_var('AWS_DEFAULT_REGION', '')) -%}
  {% call statement('create_s3_secret') %}
    create or replace secret sparkify_s3 (
        type s3,
        provider credential_chain
        {%- if region %}, region {{ sql_string(region) }}{% endif %}
        {%- if endpoint %},
        endpoint {{ sql_string(endpoint.split('://')[-1].rstrip('/')) }},
        use_ssl {{ 'true' if endpoint.startswith('https://') else 'false' }},
        url_style 'path'
        {%- endif %}
    )
  {% endcall %}
{% endmacro %}
