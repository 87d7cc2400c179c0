import sys
from collections.abc import Iterable

import dagster as dg
from tqdm import tqdm

# Comext detail from 2019 onwards; one partition per reference month.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2019-01-01")


def window_dates(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> tuple[str, str]:
    """The run's months as inclusive first-of-month dates ('YYYY-MM-01'), from its partition key range."""
    keys = context.partition_key_range
    return keys.start[:10], keys.end[:10]


def progress(keys: Iterable[str], what: str) -> tqdm:
    """A progress bar over a run's months (done, rate, time left) on an interactive terminal; silent in logs and CI."""
    return tqdm(list(keys), desc=what, unit="month", disable=not sys.stderr.isatty(), file=sys.stderr)
