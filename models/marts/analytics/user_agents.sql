{{ config(
    materialized='incremental',
    unique_key='user_agent',
    incremental_strategy='merge',
    on_schema_change='fail',
    sort='user_agent',
    grants=analysts_grants(personal_columns=true),
) }}

with

events as (

    select * from {{ ref('stg_sparkify__events') }}
    {%- if is_incremental() %}
    -- Only the agents of newly loaded events: an agent's parse never changes.
    where {{ loaded_since_last_build() }}
    {%- endif %}

),

distinct_agents as (

    select
        user_agent,
        max(loaded_at) as loaded_at
    from events
    where user_agent is not null
    group by user_agent

),

parsed as (

    -- Families and their order follow ua-parser's rules for the agents eventsim writes: the
    -- more specific token first (Chromium and Edge also say Chrome; Chrome also says Safari;
    -- an iPhone also says Mac OS X).
    select
        user_agent,
        loaded_at,
        case
            when user_agent like '%Edge/%' then 'Edge'
            when user_agent like '%OPR/%' then 'Opera'
            when user_agent like '%Chromium/%' then 'Chromium'
            when user_agent like '%Android%' and user_agent like '%Chrome/%Mobile%' then 'Chrome Mobile'
            when user_agent like '%Chrome/%' then 'Chrome'
            when user_agent like '%Firefox/%' then 'Firefox'
            when user_agent like '%MSIE %' or user_agent like '%Trident/%' then 'IE'
            when user_agent like '%Mobile/%Safari/%' then 'Mobile Safari'
            when user_agent like '%Version/%Safari/%' then 'Safari'
            else 'Other'
        end as browser,
        case
            when user_agent like '%iPhone%' or user_agent like '%iPad%' or user_agent like '%iPod%' then 'iOS'
            when user_agent like '%Android%' then 'Android'
            when user_agent like '%Mac OS X%' then 'Mac OS X'
            when user_agent like '%Windows%' then 'Windows'
            when user_agent like '%CrOS%' then 'Chrome OS'
            when user_agent like '%Ubuntu%' then 'Ubuntu'
            when user_agent like '%Linux%' then 'Linux'
            else 'Other'
        end as os,
        case
            when user_agent like '%iPad%' then 'tablet'
            when user_agent like '%Android%' and user_agent not like '%Mobile%' then 'tablet'
            when user_agent like '%iPhone%' or user_agent like '%iPod%' or user_agent like '%Mobile%' then 'mobile'
            else 'desktop'
        end as device_type
    from distinct_agents

),

versioned as (

    select
        user_agent,
        browser,
        case browser
            when 'Edge' then {{ regexp_capture('user_agent', 'Edge/([0-9.]+)') }}
            when 'Opera' then {{ regexp_capture('user_agent', 'OPR/([0-9.]+)') }}
            when 'Chromium' then {{ regexp_capture('user_agent', 'Chromium/([0-9.]+)') }}
            when 'Chrome Mobile' then {{ regexp_capture('user_agent', 'Chrome/([0-9.]+)') }}
            when 'Chrome' then {{ regexp_capture('user_agent', 'Chrome/([0-9.]+)') }}
            when 'Firefox' then {{ regexp_capture('user_agent', 'Firefox/([0-9.]+)') }}
            when 'IE'
                then coalesce(
                    {{ regexp_capture('user_agent', 'MSIE ([0-9.]+)') }},
                    {{ regexp_capture('user_agent', 'rv:([0-9.]+)') }}
                )
            when 'Mobile Safari' then {{ regexp_capture('user_agent', 'Version/([0-9.]+)') }}
            when 'Safari' then {{ regexp_capture('user_agent', 'Version/([0-9.]+)') }}
        end as browser_version,
        os,
        case os
            when 'iOS' then replace({{ regexp_capture('user_agent', ' OS ([0-9_]+)') }}, '_', '.')
            when 'Android' then {{ regexp_capture('user_agent', 'Android ([0-9.]+)') }}
            when 'Mac OS X' then replace({{ regexp_capture('user_agent', 'Mac OS X ([0-9_.]+)') }}, '_', '.')
            -- Windows NT kernel versions, named as Microsoft sold them.
            when 'Windows' then
                case {{ regexp_capture('user_agent', 'Windows NT ([0-9.]+)') }}
                    when '5.1' then 'XP'
                    when '6.0' then 'Vista'
                    when '6.1' then '7'
                    when '6.2' then '8'
                    when '6.3' then '8.1'
                    when '10.0' then '10'
                end
        end as os_version,
        device_type,
        loaded_at
    from parsed

),

final as (

    select
        cast(user_agent as varchar(1024)) as user_agent,
        cast(browser as varchar(32)) as browser,
        cast(browser_version as varchar(32)) as browser_version,
        cast(os as varchar(32)) as os,
        cast(os_version as varchar(32)) as os_version,
        cast(device_type as varchar(16)) as device_type,
        cast(loaded_at as timestamp) as loaded_at
    from versioned

)

select * from final
