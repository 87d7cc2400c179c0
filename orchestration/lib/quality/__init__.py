"""Quality gates in Python: the Great Expectations suites, judged on DuckDB's reduction of each month."""
