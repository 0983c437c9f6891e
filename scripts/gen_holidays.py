#!/usr/bin/env python3
"""Generate Jiesu's shipped working-day calendar (reference/holidays.csv).

Usage:
    python3 -m venv /tmp/cc && /tmp/cc/bin/pip install chinese-calendar
    /tmp/cc/bin/python scripts/gen_holidays.py [OUT]        # OUT defaults to reference/holidays.csv

Source: PyPI `chinese-calendar` (LKI/chinese-calendar, MIT), which transcribes the State
Council's yearly notices (国务院办公厅关于部分节假日安排的通知). Every year the package has is
written. Output (UTF-8, header row, "\\n" line ends, sorted by date, deterministic):

    date,kind,name
    2025-10-01,holiday,国庆节
    2025-10-11,workday,国庆节

  kind  holiday  a day off of an official break (including the weekend days inside it)
        workday  a weekend day that is worked (调休上班)
  name  the Chinese name of the festival the day belongs to (a 调休 workday carries the name
        of the break it pays for)

The product embeds the file and loads it into `calendar_days` at start (see reference/README.md).
"""

import csv
import datetime
import io
import os
import sys

import chinese_calendar
from chinese_calendar import constants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chinese_name(english):
    """The Chinese name of a festival from the package's English one."""
    for h in constants.Holiday:
        if h.value == english:
            return h.chinese
    raise SystemExit(f"unknown festival name {english!r}")


def rows():
    out = []
    for day, name in constants.holidays.items():
        out.append((day, "holiday", chinese_name(name)))
    for day, name in constants.workdays.items():
        out.append((day, "workday", chinese_name(name)))
    out.sort()
    seen = set()
    for day, kind, _ in out:
        if day in seen:
            raise SystemExit(f"{day} is both a holiday and a workday")
        seen.add(day)
        if kind == "workday" and day.weekday() < 5:
            raise SystemExit(f"{day}: a workday on a weekday")
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "reference", "holidays.csv")
    data = rows()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["date", "kind", "name"])
    for day, kind, name in data:
        w.writerow([day.isoformat(), kind, name])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    years = sorted({d.year for d, _, _ in data})
    version = getattr(chinese_calendar, "__version__", "?")
    print(
        f"{path}: {len(data)} days, {years[0]}..{years[-1]} "
        f"({sum(k == 'holiday' for _, k, _ in data)} holidays, "
        f"{sum(k == 'workday' for _, k, _ in data)} workdays), chinese-calendar {version}"
    )


if __name__ == "__main__":
    main()
