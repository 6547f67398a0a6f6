-- Which day of the week is busiest? Plays per weekday, busiest first.
with

songplays as (

    select * from {{ ref('songplays') }}

),

time_parts as (

    select * from {{ ref('time') }}

),

final as (

    select
        time_parts.weekday,
        time_parts.weekday_name,
        count(*) as plays
    from songplays
    inner join time_parts
        on songplays.start_time = time_parts.start_time
    group by time_parts.weekday, time_parts.weekday_name

)

select * from final
order by plays desc, weekday asc
