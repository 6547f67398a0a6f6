{{ config(dist='start_time', sort='start_time') }}

with

songplays as (

    select * from {{ ref('songplays') }}

),

weekdays as (

    select * from {{ ref('weekdays') }}

),

start_times as (

    select distinct start_time from songplays

),

final as (

    select
        cast(start_times.start_time as timestamp) as start_time,
        cast(extract(hour from start_times.start_time) as integer) as hour,
        cast(extract(day from start_times.start_time) as integer) as day,
        cast(extract(week from start_times.start_time) as integer) as week,
        cast(extract(month from start_times.start_time) as integer) as month,
        cast(extract(year from start_times.start_time) as integer) as year,
        cast(extract(dow from start_times.start_time) as integer) as weekday,
        cast(weekdays.weekday_name as varchar(16)) as weekday_name
    from start_times
    inner join weekdays
        on extract(dow from start_times.start_time) = weekdays.day_of_week

)

select * from final
