{{ config(
    materialized='incremental',
    unique_key='artist_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='artist_id',
    meta={'rebuilt_when_rows_leave': 'staging_songs'},
    grants=analysts_grants(),
) }}

with

songs as (

    select * from {{ ref('stg_sparkify__songs') }}
    {%- if is_incremental() %}
    -- The artists with a newly loaded song row are built again from all their songs; a run
    -- with no new song row builds none. Song rows that left staging rebuild the table.
    where artist_id in (
        select artist_id from {{ ref('stg_sparkify__songs') }}
        where {{ loaded_since_last_build() }}
    )
    {%- endif %}

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
        ) as completeness_rank,
        max(loaded_at) over (partition by artist_id) as latest_loaded_at
    from songs

),

final as (

    select
        cast(artist_id as varchar(32)) as artist_id,
        cast(artist_name as varchar(1024)) as name,
        cast(artist_location as varchar(1024)) as location,
        cast(artist_latitude as double precision) as latitude,
        cast(artist_longitude as double precision) as longitude,
        cast(latest_loaded_at as timestamp) as loaded_at
    from ranked
    where completeness_rank = 1

)

select * from final
