-- What are people listening to? Songs ranked by plays, with their artist (matched plays only).
with

songplays as (

    select * from {{ ref('songplays') }}

),

songs as (

    select * from {{ ref('songs') }}

),

artists as (

    select * from {{ ref('artists') }}

),

final as (

    select
        songs.title,
        artists.name as artist_name,
        count(*) as plays,
        count(distinct songplays.user_id) as listeners,
        rank() over (order by count(*) desc) as plays_rank
    from songplays
    inner join songs
        on songplays.song_id = songs.song_id
    inner join artists
        on songplays.artist_id = artists.artist_id
    group by songs.title, artists.name

)

select * from final
order by plays_rank, title
