{#- Prints the row count of each staging table and mart, and what the audit says of the
    latest load: the closing summary of `make demo` and `make pipeline`. -#}
{% macro report_marts() %}
  {% set relations = [
      source('sparkify', 'staging_events'), source('sparkify', 'staging_songs'),
      ref('songplays'), ref('users'), ref('songs'), ref('artists'), ref('time')] %}
  {% set counts %}
    {% for relation in relations %}
    select '{{ relation.identifier }}' as table_name, {{ loop.index }} as position, count(*) as row_count
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    order by position
  {% endset %}
  {% set matched = run_query('select count(song_id) from ' ~ ref('songplays')).columns[0].values()[0] %}
  {% do log('Rows per table:', info=true) %}
  {% for row in run_query(counts).rows %}
    {% do log('  ' ~ '%-16s' | format(row[0]) ~ '{:>12,}'.format(row[2]), info=true) %}
  {% endfor %}
  {% do log('  songplays matched to a song: ' ~ '{:,}'.format(matched), info=true) %}
{% endmacro %}
