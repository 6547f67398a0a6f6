{{ config(
    materialized='incremental',
    unique_key='start_time',
    incremental_strategy='merge',
    on_schema_change='fail',
    dist='start_time',
    sort='start_time',
    grants=analysts_grants(),
) }}

with

songplays as (

    select * from {{ ref('songplays') }}

),

weekdays as (

    select * from {{ ref('weekdays') }}

),

{% if is_incremental() %}

changed_start_times as (

    select distinct start_time from songplays
    where {{ loaded_since_last_build() }}

),

{% endif %}

start_times as (

    select
        songplays.start_time,
        max(songplays.loaded_at) as loaded_at
    from songplays
    {%- if is_incremental() %}
    inner join changed_start_times
        on songplays.start_time = changed_start_times.start_time
    {%- endif %}
    group by songplays.start_time

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
        cast(weekdays.weekday_name as varchar(16)) as weekday_name,
        cast(start_times.loaded_at as timestamp) as loaded_at
    from start_times
    inner join weekdays
        on extract(dow from start_times.start_time) = weekdays.day_of_week

)

select * from final
