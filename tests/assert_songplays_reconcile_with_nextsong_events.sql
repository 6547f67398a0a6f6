-- Reconciliation: every distinct NextSong event is exactly one songplay, none lost, none
-- fanned out by the song match. Returns a row, and so fails, when the counts differ.
-- Hand-written because dbt_utils.equal_rowcount can neither filter nor deduplicate the
-- model it compares with (NextSong only, a play delivered twice counted once).
-- A daily build compares the plays loaded since the test last passed (macros/test_watermarks.sql):
-- a songplay's loaded_at is that of its latest delivery, so those are the same plays on both sides.
{{ config(meta={'watermark_model': 'songplays'}) }}
{%- set since_last_pass = loaded_since_last_pass() %}
with

nextsong_events as (

    select count(*) as event_count
    from (
        select distinct
            user_id,
            session_id,
            item_in_session
        from {{ ref('stg_sparkify__events') }}
        where page = 'NextSong' and {{ since_last_pass }}
    ) as distinct_plays

),

songplays as (

    select count(*) as songplay_count
    from {{ ref('songplays') }}
    where {{ since_last_pass }}

)

select
    nextsong_events.event_count,
    songplays.songplay_count
from nextsong_events
cross join songplays
where nextsong_events.event_count <> songplays.songplay_count
