-- MetricFlow's time spine (models/semantic/_time_spine.yml): one row per day, from before the
-- first logs (November 2018) to well after today, for cumulative metrics such as
-- daily_active_users. Small (4,748 rows), so rebuilt in full on every build. Not dbt's
-- date_spine, which runs a query to count its days, so that `make compile-redshift` and
-- sqlfluff render this model with no connection.
{{ config(materialized='table') }}

with

day_numbers as (

    -- 1 to 5000, generated_number.
    {{ dbt.generate_series(5000) }}

),

days as (

    -- generate_series computes with power(), a double precision; DATEADD takes an integer.
    select {{ dbt.dateadd('day', 'cast(generated_number as integer) - 1', "cast('2018-01-01' as date)") }} as date_day
    from day_numbers

),

final as (

    select cast(date_day as date) as date_day
    from days
    where date_day < cast('2031-01-01' as date)

)

select * from final
