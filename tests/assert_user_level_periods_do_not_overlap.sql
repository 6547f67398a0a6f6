-- A user's periods follow one another: each starts at or after the end of the one before.
-- Returns the periods that start before their predecessor ended.
with

user_level_periods as (

    select * from {{ ref('user_level_periods') }}

),

with_previous as (

    select
        user_id,
        period_number,
        started_at,
        lag(ended_at) over (partition by user_id order by period_number) as previous_ended_at
    from user_level_periods

)

select * from with_previous
where started_at < previous_ended_at
