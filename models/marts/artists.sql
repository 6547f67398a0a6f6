{{ config(sort='artist_id') }}

with

songs as (

    select * from {{ ref('stg_sparkify__songs') }}

),

ranked as (

    -- Song files of one artist can disagree: prefer the most complete record, then
    -- the alphabetically first, so every run picks the same one.
    select
        *,
        row_number() over (
            partition by artist_id
            order by
                case when artist_location is null then 1 else 0 end,
                case when artist_latitude is null then 1 else 0 end,
                artist_name,
                artist_location,
                song_id
        ) as completeness_rank
    from songs

),

final as (

    select
        cast(artist_id as varchar(32)) as artist_id,
        cast(artist_name as varchar(1024)) as name,
        cast(artist_location as varchar(1024)) as location,
        cast(artist_latitude as double precision) as latitude,
        cast(artist_longitude as double precision) as longitude
    from ranked
    where completeness_rank = 1

)

select * from final
