"""What the tests know of the project: the real sample's row counts, and the data tests
that read only the rows loaded since they last passed."""

REAL_SAMPLE_ROWS = {
    "raw.staging_events": 8056,
    "raw.staging_songs": 71,
    "analytics.songplays": 6820,
    "analytics.time": 6813,
    "analytics.users": 97,
    "analytics.songs": 71,
    "analytics.artists": 69,
}


WATERMARKED_TESTS = {
    "unique_songplays_songplay_id",
    "relationships_songplays_start_time__start_time__ref_time_",
    "relationships_songplays_user_id__user_id__ref_users_",
    "relationships_songplays_user_agent__user_agent__ref_user_agents_",
    "relationships_songplays_song_id__song_id__ref_songs_",
    "relationships_songplays_artist_id__artist_id__ref_artists_",
    "songplays_song_and_artist_are_null_together",
    "accepted_values_songplays_level__free__paid",
    "unique_sessions_session_id",
    "unique_time_start_time",
    "assert_songplays_reconcile_with_nextsong_events",
    "assert_a_session_belongs_to_one_user",
    "not_null_stg_sparkify__events_session_id",
    "not_null_stg_sparkify__events_item_in_session",
    "accepted_values_stg_sparkify__events_level__free__paid",
    "not_null_stg_sparkify__events_page",
    "not_null_stg_sparkify__events_event_at",
}
