-- The plays of all level periods add up to the songplays of logged-in users, per user and
-- level, so none is lost or counted at the wrong level. Returns the pairs that differ.
with

period_plays as (

    select
        user_id,
        level,
        sum(plays) as plays
    from {{ ref('user_level_periods') }}
    group by user_id, level

),

songplay_counts as (

    select
        user_id,
        level,
        count(*) as plays
    from {{ ref('songplays') }}
    where user_id is not null
    group by user_id, level

),

compared as (

    select
        coalesce(period_plays.user_id, songplay_counts.user_id) as user_id,
        coalesce(period_plays.level, songplay_counts.level) as level,
        coalesce(period_plays.plays, 0) as period_plays,
        coalesce(songplay_counts.plays, 0) as songplays
    from period_plays
    full outer join songplay_counts
        on
            period_plays.user_id = songplay_counts.user_id
            and period_plays.level = songplay_counts.level

)

select * from compared
where period_plays <> songplays
