{{ config(
    materialized='incremental',
    unique_key='song_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='song_id',
    meta={'rebuilt_when_rows_leave': 'staging_songs'},
    grants=analysts_grants(),
) }}

with

songs as (

    select * from {{ ref('stg_sparkify__songs') }}
    {%- if is_incremental() %}
    -- The songs with a newly loaded row are built again from all their rows; a run with no
    -- new song row builds none. Song rows that left staging rebuild the table (meta above).
    where song_id in (
        select song_id from {{ ref('stg_sparkify__songs') }}
        where {{ loaded_since_last_build() }}
    )
    {%- endif %}

),

ranked as (

    -- The same song_id in two files would be one song; keep one deterministically.
    select
        *,
        row_number() over (partition by song_id order by title, duration, artist_id) as duplicate_rank,
        max(loaded_at) over (partition by song_id) as latest_loaded_at
    from songs

),

final as (

    select
        cast(song_id as varchar(32)) as song_id,
        cast(title as varchar(1024)) as title,
        cast(artist_id as varchar(32)) as artist_id,
        cast(release_year as integer) as release_year,
        cast(duration as double precision) as duration,
        cast(latest_loaded_at as timestamp) as loaded_at
    from ranked
    where duplicate_rank = 1

)

select * from final
