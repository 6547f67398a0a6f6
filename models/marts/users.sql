{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='user_id',
    grants=analysts_grants(personal_columns=true),
) }}

with

events as {{ not_materialized() }} (

    select * from {{ ref('stg_sparkify__events') }}

),

{% if is_incremental() %}

new_events as (

    select * from events
    where {{ loaded_since_last_build() }}

),

{% endif %}

-- The users to build, with the time of their latest event to read from. A user's latest
-- event is no earlier than the latest of their newly loaded ones (on a full build, every
-- event is new). loaded_at is the newest of all their deliveries, since new rows are loaded
-- after every row built before.
user_activity as (

    select
        user_id,
        max(event_at) as latest_new_event_at,
        max(loaded_at) as loaded_at
    from {{ 'new_events' if is_incremental() else 'events' }}
    where user_id is not null
    group by user_id

),

{% if is_incremental() %}

-- Users already built with an event as late as their newest new one (a late file, or an
-- event delivered again): they are read from all their events, as a full build reads them.
revisited_users as (

    select user_activity.*
    from user_activity
    inner join {{ this }} as built
        on user_activity.user_id = built.user_id
    where built.last_seen_at >= user_activity.latest_new_event_at

),

{% endif %}

-- Each user's events from the time of their newest new one. Incrementally, a user who is
-- not revisited has their latest event among their new ones: a daily run reads only the
-- day, and when no user is revisited, the join of every event with none is never run.
latest_events as (
    {%- if is_incremental() %}

    select
        new_events.*,
        user_activity.loaded_at as latest_loaded_at
    from new_events
    inner join user_activity
        on
            new_events.user_id = user_activity.user_id
            and new_events.event_at = user_activity.latest_new_event_at
    left join revisited_users
        on user_activity.user_id = revisited_users.user_id
    where revisited_users.user_id is null

    union all
    {%- endif %}

    select
        events.*,
        users_to_read.loaded_at as latest_loaded_at
    from events
    inner join {{ 'revisited_users' if is_incremental() else 'user_activity' }} as users_to_read
        on
            events.user_id = users_to_read.user_id
            and events.event_at >= users_to_read.latest_new_event_at

),

ranked_events as (

    -- Of two deliveries of the latest event, the first (macros/deliveries.sql), as songplays
    -- and user_level_periods keep it.
    select
        *,
        row_number() over (
            partition by user_id
            order by
                event_at desc, session_id desc, item_in_session desc,
                loaded_at asc, level asc, location asc, first_name asc, last_name asc, gender asc
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
        cast(event_at as timestamp) as last_seen_at,
        cast(latest_loaded_at as timestamp) as loaded_at
    from ranked_events
    where recency_rank = 1

)

select * from final
