-- The EBRD's "not recorded as imports" measure per (year, partner country, product key): of the additional EU
-- exports to the country (over the matched baseline), how much the country did not record as additional imports
-- from the 27 members. USD; the EU side at each month's ECB rate times the CIF/FOB factor, as in fct_mirror_flows.
-- Only months after the baseline covered on BOTH sides for the product key count, each against the baseline
-- years in which the same calendar month is covered on both sides (int_measures__mirror_months).
--   additional_eu_exports_usd     = eu_exports_usd_cif - baseline_eu_exports_usd_cif
--   additional_partner_imports_usd = partner_imports_usd - baseline_partner_imports_usd
--   unrecorded_additional_usd     = additional_eu_exports_usd - additional_partner_imports_usd
--   unrecorded_share              = unrecorded_additional_usd / additional_eu_exports_usd, when the additional
--                                   exports are positive (NULL otherwise, unrecorded_null_reason says why)
-- A product key the partner side does not cover in any month of the year has no row: it is never a zero. Nor has
-- a key with nothing on either side in the year's compared months or their baselines (all four sums zero): there
-- is nothing to compare, and which such keys a build knows depends on the months it reads (a key first traded
-- later is zero-filled into earlier years by a build that reads the later month), so the row is left out and an
-- incremental build and a full rebuild publish the same rows.
{{ config(**rebuilt_by('year')) }}
with months as (
    select * from {{ ref('int_measures__mirror_months') }}
    where compared_both and {{ in_rebuilt_years('year(period)') }}
),

sums as (
    select
        year(period) as year,
        country as partner_country,
        product_key,
        count(*) as months_compared,
        {{ sorted_array_agg('period') }} as compared_periods,
        {{ sorted_array_union_agg('mirror_baseline_periods') }} as baseline_periods,
        sum(eu_exports_usd_cif) as eu_exports_usd_cif,
        sum(baseline_eu_exports_usd_cif) as baseline_eu_exports_usd_cif,
        sum(partner_imports_usd) as partner_imports_usd,
        sum(baseline_partner_imports_usd) as baseline_partner_imports_usd
    from months
    group by year(period), country, product_key
    having sum(eu_exports_usd_cif) <> 0 or sum(baseline_eu_exports_usd_cif) <> 0
        or sum(partner_imports_usd) <> 0 or sum(baseline_partner_imports_usd) <> 0
)

select
    s.year,
    s.partner_country,
    s.product_key,
    p.product_key_kind,
    p.chp_tier,
    p.is_export_restricted,
    p.product_group,
    s.months_compared,
    s.compared_periods,
    s.baseline_periods,
    cast({{ var('cif_fob_factor') }} as decimal(6, 4)) as cif_fob_factor,
    s.eu_exports_usd_cif,
    s.baseline_eu_exports_usd_cif,
    s.partner_imports_usd,
    s.baseline_partner_imports_usd,
    s.eu_exports_usd_cif - s.baseline_eu_exports_usd_cif as additional_eu_exports_usd,
    s.partner_imports_usd - s.baseline_partner_imports_usd as additional_partner_imports_usd,
    (s.eu_exports_usd_cif - s.baseline_eu_exports_usd_cif) - (s.partner_imports_usd - s.baseline_partner_imports_usd)
        as unrecorded_additional_usd,
    case when s.eu_exports_usd_cif > s.baseline_eu_exports_usd_cif
        then round(((s.eu_exports_usd_cif - s.baseline_eu_exports_usd_cif)
                    - (s.partner_imports_usd - s.baseline_partner_imports_usd))
                   / (s.eu_exports_usd_cif - s.baseline_eu_exports_usd_cif), 6)
    end as unrecorded_share,
    case when s.eu_exports_usd_cif <= s.baseline_eu_exports_usd_cif
        then 'no additional EU exports over the baseline'
    end as unrecorded_null_reason
from sums as s
left join {{ ref('int_reference__product_key_flags') }} as p on s.product_key = p.product_key
