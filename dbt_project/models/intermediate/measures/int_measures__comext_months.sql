-- The months the EU side covers (a Comext month is loaded), for the matched baselines of EU-only measures.
select distinct period, true as covered
from {{ ref('source_coverage') }}
where source = 'comext' and is_present
