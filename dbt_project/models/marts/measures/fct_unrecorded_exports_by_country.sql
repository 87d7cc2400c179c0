-- fct_unrecorded_exports rolled up per (year, partner country) over the product keys covered on both sides:
-- the EBRD's "about half of the additional EU exports were not recorded as imports" figure, per country.
--   unrecorded_share = unrecorded_additional_usd / additional_eu_exports_usd, when the additional exports summed
--   over the covered product keys are positive.
{{ config(**rebuilt_by('year')) }}
with sums as (
    select
        year,
        partner_country,
        count(*) as product_keys_compared,
        max(months_compared) as months_compared,
        {{ sorted_array_union_agg('compared_periods') }} as compared_periods,
        sum(eu_exports_usd_cif) as eu_exports_usd_cif,
        sum(baseline_eu_exports_usd_cif) as baseline_eu_exports_usd_cif,
        sum(partner_imports_usd) as partner_imports_usd,
        sum(baseline_partner_imports_usd) as baseline_partner_imports_usd
    from {{ ref('fct_unrecorded_exports') }}
    where {{ in_rebuilt_years('year') }}
    group by year, partner_country
)

select
    year,
    partner_country,
    product_keys_compared,
    months_compared,
    compared_periods,
    eu_exports_usd_cif,
    baseline_eu_exports_usd_cif,
    partner_imports_usd,
    baseline_partner_imports_usd,
    eu_exports_usd_cif - baseline_eu_exports_usd_cif as additional_eu_exports_usd,
    partner_imports_usd - baseline_partner_imports_usd as additional_partner_imports_usd,
    (eu_exports_usd_cif - baseline_eu_exports_usd_cif) - (partner_imports_usd - baseline_partner_imports_usd)
        as unrecorded_additional_usd,
    case when eu_exports_usd_cif > baseline_eu_exports_usd_cif
        then round(((eu_exports_usd_cif - baseline_eu_exports_usd_cif)
                    - (partner_imports_usd - baseline_partner_imports_usd))
                   / (eu_exports_usd_cif - baseline_eu_exports_usd_cif), 6)
    end as unrecorded_share,
    case when eu_exports_usd_cif <= baseline_eu_exports_usd_cif
        then 'no additional EU exports over the baseline'
    end as unrecorded_null_reason
from sums
