{% macro report_event(fields) %}
  {% do log('sparkify-event ' ~ tojson(fields), info=false) %}
{% endmacro %}
