{% macro same_event(left, right) -%}
  {%- for key in ['user_id', 'session_id', 'item_in_session'] %}
    {{ 'and ' if not loop.first }}{{ null_safe_equals(left ~ '.' ~ key, right ~ '.' ~ key) }}
  {%- endfor %}
{%- endmacro %}

{% macro delivery_order(values) -%}
event_at, loaded_at{% for value in values %}, {{ value }}{% endfor %}
{%- endmacro %}

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
