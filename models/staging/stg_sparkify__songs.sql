with

source as (

    select * from {{ source('sparkify', 'staging_songs') }}

),

renamed as (

    select
        -- ids
        {{ empty_as_null('song_id') }} as song_id,
        {{ empty_as_null('artist_id') }} as artist_id,

        -- song
        {{ empty_as_null('title') }} as title,
        duration,
        -- The Million Song Dataset writes 0 for an unknown year.
        nullif(year, 0) as release_year,

        -- artist
        {{ empty_as_null('artist_name') }} as artist_name,
        {{ empty_as_null('artist_location') }} as artist_location,
        artist_latitude,
        artist_longitude,

        -- lineage
        source_file,
        loaded_at

    from source

)

select * from renamed
