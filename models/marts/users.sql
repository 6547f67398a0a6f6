{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='user_id',
) }}

with

events as {{ not_materialized() }} (

    select * from {{ ref('stg_sparkify__events') }}

),

-- The users to build, with the time of their latest event to read from. A user's latest
-- event is no earlier than the latest of their newly loaded ones (on a full build, every
-- event is new), so each user is built from a few events, not all of them. loaded_at is the
-- newest of all their deliveries, since new rows are loaded after every row built before.
user_activity as (

    select
        user_id,
        max(event_at) as latest_new_event_at,
        max(loaded_at) as loaded_at
    from events
    where
        user_id is not null
    {%- if is_incremental() %}
        and {{ loaded_since_last_build() }}
    {%- endif %}
    group by user_id

),

latest_events as (

    select
        events.*,
        user_activity.loaded_at as latest_loaded_at
    from events
    inner join user_activity
        on
            events.user_id = user_activity.user_id
            and events.event_at >= user_activity.latest_new_event_at

),

ranked_events as (

    -- Of two deliveries of the latest event with the same time, the one in the first
    -- source file, as songplays and user_level_periods keep it.
    select
        *,
        row_number() over (
            partition by user_id
            order by event_at desc, session_id desc, item_in_session desc, source_file asc
        ) as recency_rank
    from latest_events

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
