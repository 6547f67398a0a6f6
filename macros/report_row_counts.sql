{% macro report_row_counts() %}
  {#- Views are left out: each repeats the count of the table it reads. -#}
  {%- set relations = [] -%}
  {%- for node in graph.sources.values() if node.package_name == project_name -%}
    {%- do relations.append(source(node.source_name, node.name)) -%}
  {%- endfor -%}
  {%- for node in graph.nodes.values() | sort(attribute='name')
      if node.package_name == project_name
      and (node.resource_type == 'seed' or node.config.materialized in ('table', 'incremental')) -%}
    {%- do relations.append(ref(node.name)) -%}
  {%- endfor -%}
  {%- set built = [] -%}
  {%- for relation in relations
      if adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- do built.append(relation) -%}
  {%- endfor -%}
  {%- set counts -%}
    {% for relation in built %}
    select '{{ relation.identifier }}' as table_name, {{ loop.index }} as position, count(*) as row_count
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    order by position
  {%- endset -%}
  {%- set counted = run_query(counts) -%}
  {%- set matched = run_query('select count(song_id) from ' ~ ref('songplays')).columns[0].values()[0] -%}
  {% do report_event({'event': 'row_counts', 'matched_plays': matched | int,
      'row_counts': dict(zip(counted.columns['table_name'].values(), counted.columns['row_count'].values() | map('int')))}) %}
{% endmacro %}
