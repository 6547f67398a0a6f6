with

source as (

    select * from {{ source('sparkify', 'staging_events') }}

),

renamed as (

    select
        -- ids
        {{ whole_number_value('userid') }} as user_id,
        sessionid as session_id,
        iteminsession as item_in_session,

        -- user
        {{ empty_as_null('firstname') }} as first_name,
        {{ empty_as_null('lastname') }} as last_name,
        {{ empty_as_null('gender') }} as gender,
        {{ empty_as_null('level') }} as level,
        {{ empty_as_null('location') }} as location,
        -- eventsim wraps the user agent in literal double quotes.
        {{ empty_as_null(strip_double_quotes('useragent')) }} as user_agent,
        {{ empty_as_null('auth') }} as auth,

        -- request
        {{ empty_as_null('page') }} as page,
        {{ empty_as_null('method') }} as http_method,
        status as http_status,

        -- song played
        {{ empty_as_null('song') }} as song_title,
        {{ empty_as_null('artist') }} as artist_name,
        length as song_length,

        -- timestamps
        {{ epoch_ms_to_timestamp('ts') }} as event_at,
        {{ epoch_ms_to_timestamp('registration') }} as registered_at,

        -- lineage
        source_file,
        loaded_at

    from source

)

select * from renamed
