"""Plain Python, no Dagster: each source in sources/, and the shared machinery by job (http, rawstore, config,
periods, quality/, publish/, report/, analyst); docs/architecture.md maps it."""
