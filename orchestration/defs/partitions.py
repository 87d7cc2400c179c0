import dagster as dg

# Comext detail from 2019 onwards; one partition per reference month.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2019-01-01")


def window_dates(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> tuple[str, str]:
    """The run's months as inclusive first-of-month dates ('YYYY-MM-01'), from its partition key range."""
    keys = context.partition_key_range
    return keys.start[:10], keys.end[:10]
