"""A full-scale Comext month in the exact v2 layout, deterministic from a seed, packed as `full_v2_YYYYMM.7z`.

A real month (SOURCES.md section 1) is about 5 million rows: 27 reporters x ~250 partners (special Q* codes
included) x ~9,500 CN8 codes (confidential `X` codes included), both flows, every trade type and statistical
procedure. Rows are skewed like the real file: a few partners and chapters carry most of them, big reporters
more than small ones. The product codes start from the real Comext sample's codes (with their SITC, CPA, BEC
and section classifications) and are completed with synthetic codes of the same shape.

Everything is vectorised (numpy draws, Arrow columns, Arrow's CSV writer); nothing goes through Python row by row.
The same seed, period and row count give byte-identical files.

    python -m benchmarks.generate --period 202501 --rows 5000000 --out benchmarks/work/archives
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import py7zr
import pyarrow as pa
import pyarrow.csv as pacsv

from orchestration.lib.config import DBT_PROJECT_DIR, REPO_ROOT
from orchestration.lib.sources.comext.facts import V2_COLUMNS, month_file_name

SAMPLE_DIR = REPO_ROOT / "sample_data" / "comext"
EU27 = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]
# Relative size of each member's trade (roughly its share of EU trade lines).
REPORTER_WEIGHT = dict(
    zip(EU27, [5, 7, 2, 1, 4, 16, 4, 1, 8, 3, 11, 2, 1, 3, 3, 11, 1, 1, 1, 1, 8, 6, 3, 2, 4, 1, 2], strict=True)
)
PRODUCT_TARGET = 9_500
CONFIDENTIAL_SHARE = 0.015
PROCEDURES = np.array(["1", "2", "3", "9"])
PROCEDURE_P = [0.86, 0.07, 0.02, 0.05]
SUPPL_UNITS = np.array(["NO_SU", "p/st", "l", "m2", "pa", "kg N", "1000 kWh", "ct/l"])
SUPPL_UNIT_P = [0.6, 0.2, 0.06, 0.04, 0.04, 0.03, 0.02, 0.01]
DEFAULT_SEED = 20260101
# Bumped whenever the generator's output changes (the benchmark's archive cache keys on it).
VERSION = 2
FIXED_MTIME = 1_767_225_600  # 2026-01-01T00:00:00Z
PACK_FILTERS = [{"id": py7zr.FILTER_LZMA2, "preset": 6}]


def _partners() -> list[str]:
    with open(DBT_PROJECT_DIR / "seeds" / "country_codes.csv", newline="") as fh:
        return sorted(row["iso2"] for row in csv.DictReader(fh))


def _sample_products() -> dict[str, tuple[str, ...]]:
    """Real CN8 codes of the bundled sample with their classifications (SITC, CPA21, CPA22, BEC, BEC5, section)."""
    import duckdb

    files = sorted(SAMPLE_DIR.glob("full_v2_*.7z"))
    if not files:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        with py7zr.SevenZipFile(files[-1]) as z:
            z.extractall(path=tmp)
        rows = duckdb.sql(
            f"""SELECT PRODUCT_NC, any_value(PRODUCT_SITC), any_value(PRODUCT_CPA21), any_value(PRODUCT_CPA22),
                       any_value(PRODUCT_BEC), any_value(PRODUCT_BEC5), any_value(PRODUCT_SECTION)
                FROM read_csv('{tmp}/*.dat', all_varchar = true) GROUP BY ALL ORDER BY 1"""
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def products(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """~9,500 CN8 codes with classifications: the real sample's, then synthetic ones, then confidential X codes."""
    known = _sample_products()
    codes = dict(known)
    chapters = [c for c in range(1, 98) if c != 77]
    while len(codes) < PRODUCT_TARGET * (1 - CONFIDENTIAL_SHARE):
        chapter = int(rng.choice(chapters))
        code = f"{chapter:02d}{int(rng.integers(1, 100)):02d}{int(rng.integers(0, 10000)):04d}"
        if code not in codes:
            section = f"{min(21, 1 + chapter // 5):02d}"
            codes[code] = (
                f"{int(rng.integers(0, 99999)):05d}",
                code[:4],
                code[:4],
                f"{int(rng.integers(100, 800))}",
                f"{int(rng.integers(100000, 999999))}",
                section,
            )
    for chapter in chapters[: int(PRODUCT_TARGET * CONFIDENTIAL_SHARE)]:
        codes[f"{chapter:02d}XXXXXX"] = ("XXXXX", "XXXX", "XXXX", "700", f"{chapter % 9 + 1}1XXXX", "XX")
    codes["99500000"] = ("93100", "9999", "9999", "999", "999999", "99")
    names = sorted(codes)
    cols = list(zip(*(codes[n] for n in names), strict=True))
    chapter_of = np.array([int(n[:2]) for n in names])
    # Skew: chapters carry Zipf-like shares of the rows (machinery, vehicles, chemicals most).
    chapter_rank = {c: r for r, c in enumerate(rng.permutation(chapters))}
    for big, rank in zip((84, 85, 87, 39, 30, 90, 73, 29), range(8), strict=True):
        chapter_rank[big], chapter_rank[chapters[rank]] = rank, chapter_rank[big]
    weight = np.array([1.0 / (1 + chapter_rank.get(c, 90)) ** 0.8 for c in chapter_of])
    return {
        "code": np.array(names),
        "sitc": np.array(cols[0]),
        "cpa21": np.array(cols[1]),
        "cpa22": np.array(cols[2]),
        "bec": np.array(cols[3]),
        "bec5": np.array(cols[4]),
        "section": np.array(cols[5]),
        "unit": SUPPL_UNITS[rng.choice(len(SUPPL_UNITS), size=len(names), p=SUPPL_UNIT_P)],
        "p": weight / weight.sum(),
    }


def month_table(period: str, rows: int, seed: int = DEFAULT_SEED) -> pa.Table:
    """About `rows` rows of one month, unique per (reporter, partner, product, flow, procedure), sorted like the
    real file."""
    base = np.random.default_rng(seed)
    prod = products(base)
    partners = np.array(_partners())
    # Partner skew: a handful (big EU members, US, CN, GB, CH, TR) dominate; the long tail still appears.
    partner_rank = base.permutation(len(partners))
    top = ("DE", "FR", "IT", "NL", "US", "ES", "BE", "PL", "CN", "AT", "GB", "CH", "CZ", "SE", "TR", "DK", "JP", "RU")
    for rank, code in enumerate(top):
        i = int(np.where(partners == code)[0][0])
        j = int(np.where(partner_rank == rank)[0][0])
        partner_rank[i], partner_rank[j] = rank, partner_rank[i]
    partner_p = 1.0 / (1 + partner_rank) ** 0.9
    partner_p /= partner_p.sum()
    reporters = np.array(EU27)
    reporter_p = np.array([REPORTER_WEIGHT[r] for r in EU27], dtype=float)
    reporter_p /= reporter_p.sum()

    # Each month draws its own rows: same seed and period, same file.
    rng = np.random.default_rng([seed, int(period)])
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < rows:
        n = int((rows - len(keys)) * 1.15) + 1000
        r = rng.choice(len(reporters), size=n, p=reporter_p).astype(np.int64)
        pa_ = rng.choice(len(partners), size=n, p=partner_p).astype(np.int64)
        pr = rng.choice(len(prod["code"]), size=n, p=prod["p"]).astype(np.int64)
        fl = rng.integers(0, 2, size=n).astype(np.int64)
        sp = rng.choice(4, size=n, p=PROCEDURE_P).astype(np.int64)
        drawn = (((r * 512 + pa_) * 16384 + pr) * 2 + fl) * 4 + sp
        drawn = drawn[reporters[r] != partners[pa_]]
        keys = np.sort(np.concatenate([keys, drawn]))
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    if len(keys) > rows:
        keys = np.sort(rng.choice(keys, size=rows, replace=False))
    sp = keys % 4
    fl = (keys // 4) % 2
    pr = (keys // 8) % 16384
    pa_ = (keys // (8 * 16384)) % 512
    r = keys // (8 * 16384 * 512)
    n = len(keys)

    def coded(dictionary: np.ndarray, index: np.ndarray) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(dictionary)).dictionary_decode()

    eu = np.isin(partners, reporters)
    # I intra-EU, E extra-EU, L/M the partners XI/XU (SOURCES.md section 1)
    type_of_partner = np.where(eu, 1, np.where(partners == "XI", 2, np.where(partners == "XU", 3, 0)))
    kg = np.floor(rng.lognormal(6.0, 2.6, size=n)).astype(np.int64)
    value = np.floor(kg * rng.lognormal(1.5, 1.2, size=n)).astype(np.int64) + 1
    # Non-euro reporters' national currency; euro members report the same value.
    rate = {"BG": 1.9558, "CZ": 25.0, "DK": 7.46, "HU": 390.0, "PL": 4.3, "RO": 4.97, "SE": 11.2}
    nac_rate = np.array([rate.get(x, 1.0) for x in EU27])[r]
    no_unit = prod["unit"] == "NO_SU"
    suppl = np.where(no_unit[pr], 0, np.floor(kg * rng.uniform(0.1, 3.0, size=n))).astype(np.int64)
    columns = {
        "REPORTER": coded(reporters, r),
        "PARTNER": coded(partners, pa_),
        "TRADE_TYPE": coded(np.array(["E", "I", "L", "M"]), type_of_partner[pa_]),
        "PRODUCT_NC": coded(prod["code"], pr),
        "PRODUCT_SITC": coded(prod["sitc"], pr),
        "PRODUCT_CPA21": coded(prod["cpa21"], pr),
        "PRODUCT_CPA22": coded(prod["cpa22"], pr),
        "PRODUCT_BEC": coded(prod["bec"], pr),
        "PRODUCT_BEC5": coded(prod["bec5"], pr),
        "PRODUCT_SECTION": coded(prod["section"], pr),
        "FLOW": coded(np.array(["1", "2"]), fl),
        "STAT_PROCEDURE": coded(PROCEDURES, sp),
        "SUPPL_UNIT": coded(prod["unit"], pr),
        "PERIOD": coded(np.array([period]), np.zeros(n, dtype=np.int64)),
        "VALUE_EUR": pa.array(value),
        "VALUE_NAC": pa.array(np.floor(value * nac_rate).astype(np.int64)),
        "QUANTITY_KG": pa.array(kg),
        "QUANTITY_SUPPL_UNIT": pa.array(suppl),
    }
    assert list(columns) == list(V2_COLUMNS)
    return pa.table(columns)


def write_month(period: str, rows: int, out_dir: Path, seed: int = DEFAULT_SEED) -> Path:
    """`out_dir/full_v2_YYYYMM.7z` holding `full_YYYYMM.dat`; returns the archive path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / month_file_name(period)
    dat = out_dir / f"full_{period}.dat"
    table = month_table(period, rows, seed)
    # The header as Eurostat writes it (unquoted); Arrow's writer would quote it.
    dat.write_text(",".join(table.column_names) + "\n")
    options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=200_000)
    with open(dat, "ab") as fh:
        pacsv.write_csv(table, fh, write_options=options)
    os.utime(dat, (FIXED_MTIME, FIXED_MTIME))  # the archive records it: fixed, so the same seed gives the same bytes
    tmp = archive.with_suffix(".7z.part")
    with py7zr.SevenZipFile(tmp, "w", filters=PACK_FILTERS) as z:
        z.write(dat, arcname=dat.name)
    tmp.replace(archive)
    dat.unlink()
    return archive


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--period", action="append", required=True, help="YYYYMM; repeat for several months")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/work/archives"))
    args = parser.parse_args()
    for period in args.period:
        path = write_month(period, args.rows, args.out, args.seed)
        print(f"{path}: {path.stat().st_size:,} bytes, sha256 {sha256(path)[:16]}")


if __name__ == "__main__":
    main()
