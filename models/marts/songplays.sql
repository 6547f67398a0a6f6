-- Redshift layout: distributed on start_time, the join key of time, the largest dimension
-- (one row per distinct play time, growing with the fact), so that join stays on each node;
-- song_id would pile the many unmatched plays (null) onto one slice. Sorted by start_time
-- for time-range scans. users, songs and artists are small: DISTSTYLE ALL.
{{ config(dist='start_time', sort='start_time') }}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}

),

songs as (

    select * from {{ ref('stg_sparkify__songs') }}

),

song_plays as (

    select
        {{ dbt_utils.generate_surrogate_key(['user_id', 'session_id', 'item_in_session']) }} as songplay_id,
        *,
        -- A play delivered more than once carries the same user, session and item.
        row_number() over (
            partition by user_id, session_id, item_in_session
            order by event_at
        ) as delivery_number
    from events
    where page = 'NextSong'

),

deduplicated_plays as (

    select * from song_plays
    where delivery_number = 1

),

song_candidates as (

    select
        deduplicated_plays.songplay_id,
        songs.song_id,
        songs.artist_id,
        -- Title and artist must agree; the closest length breaks ties, then the id.
        row_number() over (
            partition by deduplicated_plays.songplay_id
            order by abs(songs.duration - deduplicated_plays.song_length), songs.song_id
        ) as match_rank
    from deduplicated_plays
    inner join songs
        on
            {{ match_key('deduplicated_plays.song_title') }} = {{ match_key('songs.title') }}
            and {{ match_key('deduplicated_plays.artist_name') }} = {{ match_key('songs.artist_name') }}

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
        cast(deduplicated_plays.user_agent as varchar(1024)) as user_agent
    from deduplicated_plays
    left join best_matches
        on deduplicated_plays.songplay_id = best_matches.songplay_id

)

select * from final
