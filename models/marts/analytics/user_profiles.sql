{{ config(sort='user_id', grants=analysts_grants()) }}

with

user_level_periods as (

    select * from {{ ref('user_level_periods') }}

),

sessions as (

    select * from {{ ref('sessions') }}

),

first_upgrades as (

    select
        user_id,
        min(period_number) as period_number
    from user_level_periods
    where level = 'paid' and previous_level = 'free'
    group by user_id

),

user_periods as (

    select
        user_level_periods.user_id,
        count(*) as periods,
        max(case when user_level_periods.period_number = 1 then user_level_periods.level end) as first_level,
        min(user_level_periods.started_at) as first_seen_at,
        max(user_level_periods.ended_at) as last_seen_at,
        sum(user_level_periods.plays) as plays,
        sum(case when user_level_periods.previous_level = 'free' then 1 else 0 end) as upgrades,
        sum(case when user_level_periods.previous_level = 'paid' then 1 else 0 end) as downgrades,
        -- Null for users who never upgraded: no period comes before an upgrade that never was.
        sum(
            case when user_level_periods.period_number < first_upgrades.period_number then user_level_periods.plays end
        ) as plays_before_first_upgrade
    from user_level_periods
    left join first_upgrades
        on user_level_periods.user_id = first_upgrades.user_id
    group by user_level_periods.user_id

),

user_sessions as (

    select
        user_id,
        count(*) as sessions
    from sessions
    where user_id is not null
    group by user_id

),

final as (

    select
        cast(user_periods.user_id as integer) as user_id,
        cast(
            case
                when user_periods.periods = 1 then user_periods.first_level || ' only'
                when user_periods.periods = 2 and user_periods.first_level = 'free' then 'free then paid'
                when user_periods.periods = 2 then 'paid then free'
                else 'mixed'
            end as varchar(16)
        ) as level_path,
        cast(user_periods.first_seen_at as timestamp) as first_seen_at,
        cast(user_periods.last_seen_at as timestamp) as last_seen_at,
        cast(user_sessions.sessions as integer) as sessions,
        cast(user_periods.plays as integer) as plays,
        cast(user_periods.upgrades as integer) as upgrades,
        cast(user_periods.downgrades as integer) as downgrades,
        cast(user_periods.plays_before_first_upgrade as integer) as plays_before_first_upgrade,
        user_sessions.sessions = 1 as used_once
    from user_periods
    inner join user_sessions
        on user_periods.user_id = user_sessions.user_id

)

select * from final
