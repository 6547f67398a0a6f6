{% macro raw_value_problem(columns, values, bounds) -%}
  case
      when {{ no_known_key(values) }} then 'no known key'
      {%- for check in raw_value_checks(columns, values, bounds) %}
      when {{ check.condition }} then {{ check.reason }}
      {%- endfor %}
  end
{%- endmacro %}


{% macro no_known_key(values) -%}
  ({% for value in values %}{{ value }} is null{{ ' and ' if not loop.last }}{% endfor %})
{%- endmacro %}


{% macro raw_value_checks(columns, values, bounds) %}
  {%- set checks = [] -%}
  {%- for column in columns -%}
    {%- set value = values[loop.index0] -%}
    {%- set key = column.json_key -%}
    {%- set width = modules.re.match('varchar\((\d+)\)', column.type) -%}
    {%- set shown = "'" ~ key ~ ": ''' || left(" ~ value ~ ", 100) || ''''" -%}
    {%- set number = empty_as_null(value) if column.get('whole_number') else value -%}
    {%- set range = raw_range(column, bounds) -%}
    {%- if column.get('required') -%}
      {%- do checks.append({'condition': is_blank(value), 'reason': "'" ~ key ~ ": missing, and required'"}) -%}
    {%- elif column.get('required_with') -%}
      {%- set other = columns | selectattr('name', 'equalto', column.get('required_with')) | first -%}
      {%- do checks.append({
          'condition': is_blank(value) ~ ' and not ' ~ is_blank(values[columns.index(other)]),
          'reason': "'" ~ key ~ ": missing, and required with " ~ other.json_key ~ "'"}) -%}
    {%- endif -%}
    {%- if width -%}
      {%- do checks.append({
          'condition': byte_length(value) ~ ' > ' ~ width.group(1),
          'reason': "'" ~ key ~ ": ' || cast(" ~ byte_length(value) ~ " as varchar) || ' bytes, longer than "
              ~ column.type ~ "'"}) -%}
    {%- endif -%}
    {%- if column.type in ('integer', 'bigint') or column.get('whole_number') -%}
      {%- do checks.append({
          'condition': 'not ' ~ text_matches(number, '-?[0-9]+'), 'reason': shown ~ " || ' is not a whole number'"}) -%}
    {%- elif column.type == 'double precision' -%}
      {#- JSON's numbers: no NaN or Infinity, and an exponent that no double overflows. -#}
      {%- do checks.append({
          'condition': 'not ' ~ text_matches(value, '-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]{1,2})?'),
          'reason': shown ~ " || ' is not a number'"}) -%}
    {%- endif -%}
    {%- if range -%}
      {%- do checks.append({
          'condition': 'not ' ~ range_condition(column, number, range),
          'reason': shown ~ " || ' is " ~ range.text ~ "'"}) -%}
    {%- endif -%}
    {%- if column.get('values') -%}
      {%- do checks.append({
          'condition': empty_as_null(value) ~ " not in ('" ~ column.get('values') | join("', '") ~ "')",
          'reason': shown ~ " || ' is not one of " ~ column.get('values') | join(', ') ~ "'"}) -%}
    {%- endif -%}
  {%- endfor -%}
  {% do return(checks) %}
{% endmacro %}


{% macro is_blank(expression) %}
  {{ return(adapter.dispatch('is_blank', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__is_blank(expression) -%}
  ({{ expression }} is null or trim({{ expression }}) = '')
{%- endmacro %}

{% macro duckdb__is_blank(expression) -%}
  ({{ expression }} is null or {{ expression }} = '' or (starts_with({{ expression }}, ' ') and ltrim({{ expression }}, ' ') = ''))
{%- endmacro %}


{% macro raw_range(column, bounds) %}
  {%- set integer = column.type == 'integer' or column.get('whole_number') -%}
  {%- set low = bounds.get(column.get('min'), column.get('min')) if column.get('min') is not none else (-2147483648 if integer else none) -%}
  {%- set high = bounds.get(column.get('max'), column.get('max')) if column.get('max') is not none else (2147483647 if integer else none) -%}
  {%- if low is none and high is none and column.get('above') is none -%}
    {% do return(none) %}
  {%- endif -%}
  {%- set text = ('not above ' ~ column.get('above')) if column.get('above') is not none
      else ('outside ' ~ low ~ ' to ' ~ high) if high is not none else ('below ' ~ low) -%}
  {%- set text = text ~ ((' (or ' ~ column.get('also') | join(', ') ~ ')') if column.get('also') else '') -%}
  {% do return({'low': low, 'high': high, 'above': column.get('above'), 'also': column.get('also') or [], 'text': text}) %}
{% endmacro %}


{#- Cast only as a type that holds the number: a whole number of more than 18 characters may
    not fit a bigint (and is out of every range here); the number pattern's exponent fits a double. -#}
{% macro range_condition(column, value, range) -%}
  {%- set whole = column.type != 'double precision' -%}
  {%- set number = checked_cast(value, 'bigint' if whole else 'double precision') -%}
  {%- set conditions = [] -%}
  {%- if range.above is not none %}{% do conditions.append(number ~ ' > ' ~ range.above) %}{% endif -%}
  {%- if range.low is not none %}{% do conditions.append(number ~ ' >= ' ~ range.low) %}{% endif -%}
  {%- if range.high is not none %}{% do conditions.append(number ~ ' <= ' ~ range.high) %}{% endif -%}
  {%- set alternatives = [conditions | join(' and ')] -%}
  {%- for allowed in range.also %}{% do alternatives.append(number ~ ' = ' ~ allowed) %}{% endfor -%}
  {%- set condition = alternatives | join(' or ') -%}
  {%- if whole -%}
  (case when length({{ value }}) > 18 then false else {{ condition }} end)
  {%- else -%}
  ({{ condition }})
  {%- endif -%}
{%- endmacro %}


{% macro whole_number_value(expression) -%}
  cast({{ empty_as_null(expression) }} as integer)
{%- endmacro %}


{% macro text_matches(expression, pattern) %}
  {{ return(adapter.dispatch('text_matches', 'sparkify')(expression, pattern)) }}
{% endmacro %}

{% macro default__text_matches(expression, pattern) -%}
  ({{ expression }} ~ '^({{ pattern }})$')
{%- endmacro %}

{% macro duckdb__text_matches(expression, pattern) -%}
  regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}


{% macro byte_length(expression) %}
  {{ return(adapter.dispatch('byte_length', 'sparkify')(expression)) }}
{% endmacro %}

{% macro default__byte_length(expression) -%}
  octet_length({{ expression }})
{%- endmacro %}

{% macro duckdb__byte_length(expression) -%}
  strlen({{ expression }})
{%- endmacro %}


{% macro checked_cast(expression, type) %}
  {{ return(adapter.dispatch('checked_cast', 'sparkify')(expression, type)) }}
{% endmacro %}

{% macro default__checked_cast(expression, type) -%}
  cast({{ expression }} as {{ type }})
{%- endmacro %}

{% macro duckdb__checked_cast(expression, type) -%}
  try_cast({{ expression }} as {{ type }})
{%- endmacro %}
