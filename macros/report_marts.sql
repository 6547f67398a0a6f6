{#- Prints the row count of every table the pipeline reads or writes (raw tables, the load's
    audit and rejects, the seed, the marts) and how many plays matched a song, with why that
    share can be small: the closing summary of `make demo` and `make pipeline`. -#}
{% macro report_marts() %}
  {% set relations = [
      source('sparkify', 'staging_events'), source('sparkify', 'staging_songs'),
      source('sparkify', 'load_audit'), source('sparkify', 'load_rejects'), ref('weekdays'),
      ref('songplays'), ref('users'), ref('songs'), ref('artists'), ref('time')] %}
  {% set counts %}
    {% for relation in relations %}
    select '{{ relation.identifier }}' as table_name, {{ loop.index }} as position, count(*) as row_count
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    order by position
  {% endset %}
  {% set rows_per_table = {} %}
  {% do log('Rows per table:', info=true) %}
  {% for row in run_query(counts).rows %}
    {% do rows_per_table.update({row[0]: row[2]}) %}
    {% do log('  ' ~ '%-16s' | format(row[0]) ~ '{:>12,}'.format(row[2]), info=true) %}
  {% endfor %}
  {% set matched = run_query('select count(song_id) from ' ~ ref('songplays')).columns[0].values()[0] %}
  {% do log('  songplays matched to a song: ' ~ '{:,}'.format(matched) ~ ' of '
            ~ '{:,}'.format(rows_per_table['songplays']), info=true) %}
  {% do log('  (a play gets its song_id only when the song files hold its title and artist; these hold '
            ~ '{:,}'.format(rows_per_table['songs']) ~ ' songs)', info=true) %}
{% endmacro %}
