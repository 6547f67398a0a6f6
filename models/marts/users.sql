{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='user_id',
) }}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}

),

logged_in_events as (

    select * from events
    where user_id is not null
    {%- if is_incremental() %}
        -- Users with a new event are built again from all their events.
        and user_id in (
            select user_id from events
            where {{ loaded_since_last_build() }}
        )
    {%- endif %}

),

ranked_events as (

    select
        *,
        row_number() over (
            partition by user_id
            order by event_at desc, session_id desc, item_in_session desc
        ) as recency_rank,
        max(loaded_at) over (partition by user_id) as latest_loaded_at
    from logged_in_events

),

final as (

    -- The latest event carries the user's current level and name.
    select
        cast(user_id as integer) as user_id,
        cast(first_name as varchar(256)) as first_name,
        cast(last_name as varchar(256)) as last_name,
        cast(gender as varchar(8)) as gender,
        cast(level as varchar(16)) as level,
        cast(latest_loaded_at as timestamp) as loaded_at
    from ranked_events
    where recency_rank = 1

)

select * from final
