-- Redshift: distributed on user_id, so the window functions over a user stay on one slice.
{{ config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    dist='user_id',
    sort=['user_id', 'period_number'],
    grants=analysts_grants(),
) }}

with

events as {{ not_materialized() }} (

    select
        user_id,
        session_id,
        item_in_session,
        level,
        page,
        event_at,
        loaded_at
    from {{ ref('stg_sparkify__events') }}
    where user_id is not null

),

{% if is_incremental() -%}

new_events as (

    select * from events
    where {{ loaded_since_last_build() }}

),

-- The built periods of the users with a new event, which this run replaces (delete+insert).
built_periods as (

    select * from {{ this }}
    where user_id in (select user_id from new_events)

),

last_built_periods as (

    select built_periods.*
    from built_periods
    inner join (
        select
            user_id,
            max(period_number) as period_number
        from built_periods
        group by user_id
    ) as last_numbers
        on
            built_periods.user_id = last_numbers.user_id
            and built_periods.period_number = last_numbers.period_number

),

-- Built events in the sessions of the new events: few, and found through the session ids.
earlier_session_events as (

    select
        events.user_id,
        events.session_id,
        events.item_in_session,
        events.event_at
    from events
    inner join (select distinct session_id from new_events) as new_sessions
        on events.session_id = new_sessions.session_id
    where not ({{ loaded_since_last_build('events.loaded_at') }})

),

new_activity as (

    select
        user_id,
        min(event_at) as first_new_event_at,
        max(case when session_id is null then 1 else 0 end) as has_event_without_session
    from new_events
    group by user_id

),

-- A user is numbered again from all their events when a new event is no later than a built
-- one (a late file) or may be another delivery of one (same session and item, or no session
-- to tell). The others' built periods stand, and their new events continue the last one.
rebuilt_users as (

    select new_activity.user_id
    from new_activity
    left join last_built_periods
        on new_activity.user_id = last_built_periods.user_id
    where
        new_activity.first_new_event_at <= last_built_periods.ended_at
        or new_activity.has_event_without_session = 1
        or new_activity.user_id in (
            select earlier_session_events.user_id
            from earlier_session_events
            inner join new_events
                on {{ same_event('earlier_session_events', 'new_events') }}
        )

),

{% endif -%}

-- The events to number, each with the period its user's numbering continues: the last
-- built one, or none for a new or rebuilt user (and for every user on a full build, which
-- reads this several times: the view each time, rather than store every event).
events_to_number as {{ '' if is_incremental() else not_materialized() }} (

    select
        events.*,
        0 as continued_period_number,
        cast(null as varchar(16)) as continued_level
    from events
    {%- if is_incremental() %}
    inner join rebuilt_users
        on events.user_id = rebuilt_users.user_id

    union all

    select
        new_events.*,
        coalesce(last_built_periods.period_number, 0) as continued_period_number,
        last_built_periods.level as continued_level
    from new_events
    left join last_built_periods
        on new_events.user_id = last_built_periods.user_id
    where new_events.user_id not in (select user_id from rebuilt_users)
    {%- endif %}

),

{{ first_deliveries('deduplicated_events', 'events_to_number', order_by=delivery_order(['level', 'page'])) }},

period_starts as (

    -- An event starts a period when its level differs from the level before it: the
    -- previous event's, or for the user's first event to number, the continued period's.
    select
        *,
        case
            when level = case
                when row_number() over (
                    partition by user_id
                    order by event_at, session_id, item_in_session
                ) = 1 then continued_level
                else lag(level) over (
                    partition by user_id
                    order by event_at, session_id, item_in_session
                )
            end then 0
            else 1
        end as starts_period
    from deduplicated_events

),

numbered_events as (

    select
        *,
        continued_period_number + sum(starts_period) over (
            partition by user_id
            order by event_at, session_id, item_in_session
            rows between unbounded preceding and current row
        ) as period_number
    from period_starts

),

numbered_periods as (

    select
        user_id,
        period_number,
        min(continued_period_number) as continued_period_number,
        min(level) as level,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(distinct session_id) as sessions,
        sum(case when page = 'NextSong' then 1 else 0 end) as plays,
        max(latest_delivery_loaded_at) as latest_delivery_loaded_at
    from numbered_events
    group by user_id, period_number

),

{% if is_incremental() -%}

-- Sessions of a continued period (its number is the one its numbering continued) that its
-- built part counted already.
sessions_counted_before as (

    select
        numbered_events.user_id,
        numbered_events.period_number,
        count(distinct numbered_events.session_id) as sessions
    from numbered_events
    inner join last_built_periods
        on numbered_events.user_id = last_built_periods.user_id
    inner join earlier_session_events
        on
            numbered_events.user_id = earlier_session_events.user_id
            and numbered_events.session_id = earlier_session_events.session_id
            and earlier_session_events.event_at >= last_built_periods.started_at
    where numbered_events.period_number = numbered_events.continued_period_number
    group by numbered_events.user_id, numbered_events.period_number

),

periods as (

    -- A continued period adds its new events to its built part.
    select
        numbered_periods.user_id,
        numbered_periods.period_number,
        numbered_periods.level,
        coalesce(last_built_periods.started_at, numbered_periods.started_at) as started_at,
        numbered_periods.ended_at,
        numbered_periods.sessions + coalesce(last_built_periods.sessions, 0)
        - coalesce(sessions_counted_before.sessions, 0) as sessions,
        numbered_periods.plays + coalesce(last_built_periods.plays, 0) as plays,
        numbered_periods.latest_delivery_loaded_at
    from numbered_periods
    left join last_built_periods
        on
            numbered_periods.user_id = last_built_periods.user_id
            and numbered_periods.period_number = numbered_periods.continued_period_number
    left join sessions_counted_before
        on
            numbered_periods.user_id = sessions_counted_before.user_id
            and numbered_periods.period_number = sessions_counted_before.period_number

    union all

    -- The built periods of continued users that no new event joined. Each carries its
    -- user's newest delivery, no newer than the new events'.
    select
        built_periods.user_id,
        built_periods.period_number,
        built_periods.level,
        built_periods.started_at,
        built_periods.ended_at,
        built_periods.sessions,
        built_periods.plays,
        built_periods.loaded_at as latest_delivery_loaded_at
    from built_periods
    left join numbered_periods
        on
            built_periods.user_id = numbered_periods.user_id
            and built_periods.period_number = numbered_periods.period_number
    where
        numbered_periods.user_id is null
        and built_periods.user_id not in (select user_id from rebuilt_users)

),

{% endif -%}

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
        -- Every period of a user carries the user's newest delivery: a new event rewrites them all.
        max(latest_delivery_loaded_at) over (partition by user_id) as loaded_at
    from {{ 'periods' if is_incremental() else 'numbered_periods' }}

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
