-- Redshift layout: distributed on start_time, the join key of time, the largest dimension
-- (one row per distinct play time, growing with the fact), so that join stays on each node;
-- song_id would pile the many unmatched plays (null) onto one slice. Sorted by start_time
-- for time-range scans. users, songs and artists are small: DISTSTYLE ALL.
{{ config(
    materialized='incremental',
    unique_key='songplay_id',
    incremental_strategy='merge',
    on_schema_change='fail',
    dist='start_time',
    sort='start_time',
    grants=analysts_grants(personal_columns=true),
) }}

with

events as {{ not_materialized() }} (

    select * from {{ ref('stg_sparkify__events') }}

),

songs as (

    select * from {{ ref('stg_sparkify__songs') }}

),

{% if is_incremental() %}

{#- Song rows loaded since the last build (a new or changed song file), and song rows that
    left staging without one (a changed file that lost them): with neither, no match can
    have changed, and the plays need no second look. -#}
{%- set new_songs = execute and run_query(
    'select count(*) from ' ~ ref('stg_sparkify__songs') ~ ' where ' ~ loaded_since_last_build()
).columns[0].values()[0] > 0 %}

-- A play is built again when one of its deliveries is new, when a new song file may match
-- it, or when its song changed or left staging; every delivery of such a play is read, so
-- the result is the full build's.
changed_plays as (

    select user_id, session_id, item_in_session
    from events
    where page = 'NextSong' and {{ loaded_since_last_build() }}

    {%- if new_songs %}

    union

    select events.user_id, events.session_id, events.item_in_session
    from events
    inner join songs
        on
            {{ match_key('events.song_title') }} = {{ match_key('songs.title') }}
            and {{ match_key('events.artist_name') }} = {{ match_key('songs.artist_name') }}
    where events.page = 'NextSong' and {{ loaded_since_last_build('songs.loaded_at') }}
    {%- endif %}

    {%- if new_songs or rows_left_staging_since_last_build('staging_songs') %}

    union

    -- Plays matched to a song that changed or left staging (its file changed, or a full
    -- reload dropped it): that match may no longer hold.
    select built.user_id, built.session_id, built.item_in_session
    from {{ this }} as built
    left join (
        select song_id from songs
        where not ({{ loaded_since_last_build() }})
    ) as unchanged_songs
        on built.song_id = unchanged_songs.song_id
    where built.song_id is not null and unchanged_songs.song_id is null
    {%- endif %}

),

{% endif %}

nextsong_events as {{ not_materialized() }} (

    select
        events.user_id,
        events.session_id,
        events.item_in_session,
        events.level,
        events.location,
        events.user_agent,
        events.song_title,
        events.artist_name,
        events.song_length,
        events.event_at,
        events.loaded_at
    from events
    {%- if is_incremental() %}
    inner join changed_plays
        on {{ same_event('events', 'changed_plays') }}
    {%- endif %}
    where events.page = 'NextSong'

),

{%- set play_values = ['level', 'location', 'user_agent', 'song_title', 'artist_name', 'song_length'] %}
{{ first_deliveries('first_plays', 'nextsong_events', order_by=delivery_order(play_values)) }},

deduplicated_plays as (

    select
        {{ dbt_utils.generate_surrogate_key(['user_id', 'session_id', 'item_in_session']) }} as songplay_id,
        *
    from first_plays

),

-- Each title, artist and length is matched once, however often it is played; an
-- incremental run takes the sessions of the changed plays.
played_songs as (

    select distinct
        song_title,
        artist_name,
        song_length
    from events
    where
        page = 'NextSong'
        and song_title is not null
        and artist_name is not null
    {%- if is_incremental() %}
        and session_id in (select session_id from changed_plays)
    {%- endif %}

),

song_candidates as (

    select
        played_songs.song_title,
        played_songs.artist_name,
        played_songs.song_length,
        songs.song_id,
        songs.artist_id,
        -- Title and artist must agree; the closest length breaks ties, then the id.
        row_number() over (
            partition by played_songs.song_title, played_songs.artist_name, played_songs.song_length
            order by abs(songs.duration - played_songs.song_length), songs.song_id
        ) as match_rank
    from played_songs
    inner join songs
        on
            {{ match_key('played_songs.song_title') }} = {{ match_key('songs.title') }}
            and {{ match_key('played_songs.artist_name') }} = {{ match_key('songs.artist_name') }}

),

best_matches as (

    select * from song_candidates
    where match_rank = 1

),

final as (

    select
        cast(deduplicated_plays.songplay_id as varchar(32)) as songplay_id,
        cast(deduplicated_plays.event_at as timestamp) as start_time,
        cast(deduplicated_plays.user_id as integer) as user_id,
        cast(deduplicated_plays.level as varchar(16)) as level,
        cast(best_matches.song_id as varchar(32)) as song_id,
        cast(best_matches.artist_id as varchar(32)) as artist_id,
        cast(deduplicated_plays.session_id as integer) as session_id,
        cast(deduplicated_plays.item_in_session as integer) as item_in_session,
        cast(deduplicated_plays.location as varchar(512)) as location,
        cast(deduplicated_plays.user_agent as varchar(1024)) as user_agent,
        cast(deduplicated_plays.latest_delivery_loaded_at as timestamp) as loaded_at
    from deduplicated_plays
    left join best_matches
        on
            deduplicated_plays.song_title = best_matches.song_title
            and deduplicated_plays.artist_name = best_matches.artist_name
            and {{ null_safe_equals('deduplicated_plays.song_length', 'best_matches.song_length') }}

)

select * from final
