-- sessions takes one user per session; eventsim never logs two users into one session.
-- Returns the sessions with events of more than one user.
select
    session_id,
    count(distinct user_id) as users
from {{ ref('stg_sparkify__events') }}
group by session_id
having count(distinct user_id) > 1
