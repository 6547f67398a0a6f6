-- Redshift: distributed on user_id, so the window functions over a user stay on one slice.
{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    dist='user_id',
    sort=['user_id', 'period_number'],
) }}

with

-- Read three times below: an incremental run stores its users' events once (fewer reads of
-- the view), a full build reads the view each time rather than store every event.
events as {{ '' if is_incremental() else not_materialized() }} (

    select
        user_id,
        session_id,
        item_in_session,
        level,
        page,
        event_at,
        source_file,
        loaded_at
    from {{ ref('stg_sparkify__events') }}
    where
        user_id is not null
    {%- if is_incremental() %}
        -- Users with a newly loaded event lose their periods and get them again from all their events.
        and user_id in (
            select user_id from {{ ref('stg_sparkify__events') }}
            where {{ loaded_since_last_build() }}
        )
    {%- endif %}

),

{{ first_deliveries('deduplicated_events', 'events', order_by='event_at, source_file') }},

period_starts as (

    -- An event starts a period when it is the user's first or its level differs from the
    -- level of the event before it.
    select
        *,
        case
            when level = lag(level) over (
                partition by user_id
                order by event_at, session_id, item_in_session
            ) then 0
            else 1
        end as starts_period
    from deduplicated_events

),

numbered_events as (

    select
        *,
        sum(starts_period) over (
            partition by user_id
            order by event_at, session_id, item_in_session
            rows between unbounded preceding and current row
        ) as period_number
    from period_starts

),

periods as (

    select
        user_id,
        period_number,
        min(level) as level,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(distinct session_id) as sessions,
        sum(case when page = 'NextSong' then 1 else 0 end) as plays,
        max(latest_delivery_loaded_at) as latest_delivery_loaded_at
    from numbered_events
    group by user_id, period_number

),

neighbours as (

    select
        *,
        lag(level) over (partition by user_id order by period_number) as previous_level,
        lead(level) over (partition by user_id order by period_number) as next_level,
        -- A period lasts until the next one starts; the last one until the user's last event.
        coalesce(
            lead(started_at) over (partition by user_id order by period_number),
            max(ended_at) over (partition by user_id)
        ) as lasted_until,
        -- Every period of a user carries the user's newest delivery: a new event rebuilds them all.
        max(latest_delivery_loaded_at) over (partition by user_id) as loaded_at
    from periods

),

durations as (

    select
        *,
        -- sqlfluff measures the line as rendered, one long date_diff.
        {{ dbt.datediff('started_at', 'lasted_until', 'second') }} as seconds_at_level  -- noqa: LT05
    from neighbours

),

final as (

    select
        cast(user_id as integer) as user_id,
        cast(period_number as integer) as period_number,
        cast(level as varchar(16)) as level,
        cast(previous_level as varchar(16)) as previous_level,
        cast(next_level as varchar(16)) as next_level,
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        cast(sessions as integer) as sessions,
        cast(plays as integer) as plays,
        cast(floor(seconds_at_level / 86400.0) as integer) as days_at_level,
        cast(loaded_at as timestamp) as loaded_at
    from durations

)

select * from final
