{#- An event can be delivered more than once (a log file sent again, under another name); its
    deliveries carry the same user, session and item. -#}

{#- The condition that rows of two relations are deliveries of the same event: a missing
    value matches a missing value, as in a window's partition. -#}
{% macro same_event(left, right) -%}
  {%- for key in ['user_id', 'session_id', 'item_in_session'] %}
    {{ 'and ' if not loop.first }}{{ null_safe_equals(left ~ '.' ~ key, right ~ '.' ~ key) }}
  {%- endfor %}
{%- endmacro %}

{#- The order that takes one delivery of an event before another, first delivery first: the
    earliest event time, then the earliest load, then the `values` the model reads from an
    event, so that two deliveries in one load are told apart by what they hold, the same way
    on both targets. Not source_file: Redshift leaves it null, and ROW_NUMBER orders ties as
    it likes. -#}
{% macro delivery_order(values) -%}
event_at, loaded_at{% for value in values %}, {{ value }}{% endfor %}
{%- endmacro %}

{#- Two CTEs for a model's WITH list: `name`, the first delivery of each event of `events` by
    `order_by`, with every column of `events`, latest_delivery_loaded_at (when its latest
    delivery was loaded) and delivery_number; and `name`__redelivered, the events delivered
    more than once. Those are few, and only they go through the window that picks a delivery:
    sorting every event with all its columns took most of a full build. CTEs rather than a
    subquery, since Redshift refuses a WITH nested in one. `events` is read three times: when
    it is large, make it a not_materialized() CTE, which DuckDB then scans per read. -#}
{% macro first_deliveries(name, events, order_by) -%}
{%- set redelivered = name ~ '__redelivered' -%}
{{ redelivered }} as (

    select
        user_id,
        session_id,
        item_in_session,
        count(*) as deliveries,
        max(loaded_at) as latest_delivery_loaded_at
    from {{ events }}
    group by user_id, session_id, item_in_session
    having count(*) > 1

),

{{ name }} as (

    select
        {{ events }}.*,
        {{ events }}.loaded_at as latest_delivery_loaded_at,
        1 as delivery_number
    from {{ events }}
    left join {{ redelivered }}
        on {{ same_event(events, redelivered) }}
    where {{ redelivered }}.deliveries is null

    union all

    select * from (
        select
            {{ events }}.*,
            {{ redelivered }}.latest_delivery_loaded_at,
            row_number() over (
                partition by {{ events }}.user_id, {{ events }}.session_id, {{ events }}.item_in_session
                order by {{ order_by }}
            ) as delivery_number
        from {{ events }}
        inner join {{ redelivered }}
            on {{ same_event(events, redelivered) }}
    ) as repeated_deliveries
    where delivery_number = 1

)
{%- endmacro %}
