"""Months as the pipeline names them: YYYYMM periods, Dagster's monthly partition keys, and windows of months.

Every source and every stage counts months the same way; this module is the one place that says how.
"""

from __future__ import annotations

from datetime import date


def period_of_partition(partition_key: str) -> str:
    """Dagster monthly partition key 'YYYY-MM-DD' -> Comext period 'YYYYMM'."""
    return partition_key[:4] + partition_key[5:7]


def month_start(period: str) -> date:
    return date(int(period[:4]), int(period[4:]), 1)


def next_month(period: str) -> str:
    """The month after YYYYMM."""
    year, month = int(period[:4]), int(period[4:])
    return f"{year + 1:04d}01" if month == 12 else f"{year:04d}{month + 1:02d}"


def months_back(newest: str, count: int) -> list[str]:
    year, month = int(newest[:4]), int(newest[4:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return sorted(p for p in out if p >= "201901")


def months_between(start: str, end: str) -> list[str]:
    """'YYYY-MM' bounds -> ['YYYYMM', ...] inclusive."""
    year, month = int(start[:4]), int(start[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
