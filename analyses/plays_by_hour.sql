-- When do people listen? Song plays per hour of the day (UTC).
with

songplays as (

    select * from {{ ref('songplays') }}

),

time_parts as (

    select * from {{ ref('time') }}

),

final as (

    select
        time_parts.hour,
        count(*) as plays
    from songplays
    inner join time_parts
        on songplays.start_time = time_parts.start_time
    group by time_parts.hour

)

select * from final
order by hour
