-- Free versus paid: how many users are on each level now, and how much each level plays.
with

users as (

    select * from {{ ref('users') }}

),

songplays as (

    select * from {{ ref('songplays') }}

),

users_by_level as (

    select
        level,
        count(*) as users
    from users
    group by level

),

plays_by_level as (

    select
        level,
        count(*) as plays,
        count(distinct user_id) as playing_users
    from songplays
    group by level

),

final as (

    select
        users_by_level.level,
        users_by_level.users,
        coalesce(plays_by_level.plays, 0) as plays,
        coalesce(plays_by_level.playing_users, 0) as playing_users,
        round(1.0 * coalesce(plays_by_level.plays, 0) / nullif(plays_by_level.playing_users, 0), 1)
            as plays_per_playing_user
    from users_by_level
    left join plays_by_level
        on users_by_level.level = plays_by_level.level

)

select * from final
order by level
