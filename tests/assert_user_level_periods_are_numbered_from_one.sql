-- Each user's period numbers run 1..n with no gap and no repeat. Returns the users whose do not.
select
    user_id,
    min(period_number) as first_number,
    max(period_number) as last_number,
    count(distinct period_number) as distinct_numbers,
    count(*) as periods
from {{ ref('user_level_periods') }}
group by user_id
having
    min(period_number) <> 1
    or max(period_number) <> count(*)
    or count(distinct period_number) <> count(*)
