-- sessions takes one user per session; eventsim never logs two users into one session.
-- Returns the sessions with events of more than one user. A daily build checks each session
-- with an event loaded since the test last passed, with all its events (macros/test_watermarks.sql).
-- It runs after sessions, whose newest loaded_at is its watermark: depends_on: {{ ref('sessions') }}
{{ config(meta={'watermark_model': 'sessions'}) }}
{%- set since_last_pass = loaded_since_last_pass() %}
select
    session_id,
    count(distinct user_id) as users
from {{ ref('stg_sparkify__events') }}
{%- if since_last_pass != '1 = 1' %}
where session_id in (
    select session_id from {{ ref('stg_sparkify__events') }}
    where {{ since_last_pass }}
)
{%- endif %}
group by session_id
having count(distinct user_id) > 1
