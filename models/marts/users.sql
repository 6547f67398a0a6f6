{{ config(sort='user_id') }}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}

),

logged_in_events as (

    select
        *,
        row_number() over (
            partition by user_id
            order by event_at desc, session_id desc, item_in_session desc
        ) as recency_rank
    from events
    where user_id is not null

),

final as (

    -- The latest event carries the user's current level and name.
    select
        cast(user_id as integer) as user_id,
        cast(first_name as varchar(256)) as first_name,
        cast(last_name as varchar(256)) as last_name,
        cast(gender as varchar(8)) as gender,
        cast(level as varchar(16)) as level
    from logged_in_events
    where recency_rank = 1

)

select * from final
