-- fct_eu_exports sums the member states: a reporter that was not an EU member that month does not belong in it.
select e.period, e.reporter, count(*) as rows
from {{ ref('fct_eu_exports') }} as e
left join {{ ref('country_codes') }} as cc
    on e.reporter = cc.iso2
    and cc.eu_member_from <= e.period
    and (cc.eu_member_to is null or cc.eu_member_to >= e.period)
where cc.iso2 is null
group by e.period, e.reporter
