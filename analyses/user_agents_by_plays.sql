-- Which browsers and devices play the most? User agents ranked by plays, with their reach.
with

songplays as (

    select * from {{ ref('songplays') }}

),

final as (

    select
        user_agent,
        count(*) as plays,
        count(distinct user_id) as distinct_users,
        count(distinct session_id) as distinct_sessions,
        rank() over (order by count(*) desc) as plays_rank
    from songplays
    group by user_agent

)

select * from final
order by plays_rank, user_agent
