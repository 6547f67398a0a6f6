-- MetricFlow's time spine (models/semantic/_time_spine.yml): one row per day, from before the
-- first logs (November 2018) to well after today, for cumulative metrics such as
-- daily_active_users. Small (about 4,700 rows), so rebuilt in full on every build.
{{ config(materialized='table') }}

with

days as (

    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('2018-01-01' as date)",
        end_date="cast('2031-01-01' as date)",
    ) }}

),

final as (

    select cast(date_day as date) as date_day
    from days

)

select * from final
