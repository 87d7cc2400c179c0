{#- The EBRD's substitution ratio, in one place for fct_substitution and fct_substitution_by_country: the rise of EU
    exports to the transit countries over their matched baseline, divided by the fall of direct exports to Russia
    and Belarus below theirs; only when direct exports fell (NULL with the reason otherwise). `t` is the relation
    alias carrying eu_to_transit_eur, eu_to_russia_belarus_eur and their baseline_ columns. -#}
{% macro substitution_columns(t) -%}
    {{ t }}.eu_to_russia_belarus_eur,
    {{ t }}.baseline_eu_to_russia_belarus_eur,
    {{ t }}.baseline_eu_to_russia_belarus_eur - {{ t }}.eu_to_russia_belarus_eur as direct_fall_eur,
    {{ t }}.eu_to_transit_eur,
    {{ t }}.baseline_eu_to_transit_eur,
    {{ t }}.eu_to_transit_eur - {{ t }}.baseline_eu_to_transit_eur as transit_rise_eur,
    case when {{ t }}.baseline_eu_to_russia_belarus_eur > {{ t }}.eu_to_russia_belarus_eur
        then round(({{ t }}.eu_to_transit_eur - {{ t }}.baseline_eu_to_transit_eur)
                   / ({{ t }}.baseline_eu_to_russia_belarus_eur - {{ t }}.eu_to_russia_belarus_eur), 6)
    end as substitution_ratio,
    case when {{ t }}.baseline_eu_to_russia_belarus_eur <= {{ t }}.eu_to_russia_belarus_eur
        then 'direct exports to RU/BY did not fall'
    end as substitution_null_reason
{%- endmacro %}
