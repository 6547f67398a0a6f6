-- Redshift: spread evenly on the unique session_id; sorted by start for time-range scans.
{{ config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    dist='session_id',
    sort='started_at',
    grants=analysts_grants(),
) }}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}
    {%- if is_incremental() %}
    -- Sessions with a newly loaded event are built again from all their events.
    where session_id in (
        select session_id from {{ ref('stg_sparkify__events') }}
        where {{ loaded_since_last_build() }}
    )
    {%- endif %}

),

-- One window, so that DuckDB sorts the events once: in session order, the deliveries of an
-- event (the same user, session and item, as in songplays) follow one another, the one that
-- songplays keeps first (macros/deliveries.sql, delivery_order).
ordered_events as (

    select
        *,
        lag(user_id) over (
            partition by session_id
            order by item_in_session, user_id, {{ delivery_order(['level']) }}
        ) as previous_user_id,
        lag(item_in_session) over (
            partition by session_id
            order by item_in_session, user_id, {{ delivery_order(['level']) }}
        ) as previous_item_in_session,
        first_value(level) over (
            partition by session_id
            order by item_in_session, user_id, {{ delivery_order(['level']) }}
            rows between unbounded preceding and unbounded following
        ) as starting_level
    from events

),

deduplicated_events as (

    -- The first delivery of each event (Redshift has no "is distinct from").
    select * from ordered_events
    where
        previous_item_in_session is null
        or previous_item_in_session <> item_in_session
        or not ({{ null_safe_equals('previous_user_id', 'user_id') }})

),

session_totals as (

    -- One user per session (tests/assert_a_session_belongs_to_one_user.sql): max() picks it
    -- past the logged-out events of a login, which have none.
    select
        session_id,
        max(user_id) as user_id,
        min(starting_level) as level,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events,
        sum(case when page = 'NextSong' then 1 else 0 end) as plays,
        max(loaded_at) as loaded_at
    from deduplicated_events
    group by session_id

),

durations as (

    select
        *,
        -- sqlfluff measures the line as rendered, one long date_diff.
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds  -- noqa: LT05
    from session_totals

),

final as (

    select
        cast(session_id as integer) as session_id,
        cast(user_id as integer) as user_id,
        cast(level as varchar(16)) as level,
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        cast(duration_seconds as integer) as duration_seconds,
        cast(events as integer) as events,
        cast(plays as integer) as plays,
        cast(loaded_at as timestamp) as loaded_at
    from durations

)

select * from final
