{{ config(sort='song_id') }}

with

songs as (

    select * from {{ ref('stg_sparkify__songs') }}

),

ranked as (

    -- The same song_id in two files would be one song; keep one deterministically.
    select
        *,
        row_number() over (partition by song_id order by title, duration, artist_id) as duplicate_rank
    from songs

),

final as (

    select
        cast(song_id as varchar(32)) as song_id,
        cast(title as varchar(1024)) as title,
        cast(artist_id as varchar(32)) as artist_id,
        cast(release_year as integer) as release_year,
        cast(duration as double precision) as duration
    from ranked
    where duplicate_rank = 1

)

select * from final
