"""One generation run: its arguments, time window, extract dates, random streams and progress."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from .arrays import cat_choice

DAY = 86400

# hour-of-day weights, local China time (UTC+8)
LOCAL_HOUR_W = np.array([1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2, 4, 6, 7, 7, 6.5, 6, 6, 6, 6, 6.5,
                         7, 8, 8, 7, 5, 2.5])
# one random stream per stage, spawned in this order (the order is part of the output)
STREAMS = ("customers", "products", "orders", "lines", "cust_versions", "tickets", "responses", "bad")


def log(msg: str) -> None:
    print(f"[generate] {msg}", file=sys.stderr, flush=True)


def epoch_day(s: str) -> int:
    return int((np.datetime64(s, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


def day_str(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


class Run:
    """The window ends on ``end_date``; times are epoch seconds (UTC), days are epoch days."""

    def __init__(self, out_dir, customers, days, seed, end_date, extract_every_days, bad_row_rate,
                 full_dump_until):
        if customers < 1:
            raise ValueError("customers must be >= 1")
        if customers > 9_000_000:
            raise ValueError("customers must be <= 9,000,000")
        if days < 1:
            raise ValueError("days must be >= 1")
        if extract_every_days < 1:
            raise ValueError("extract_every_days must be >= 1")
        if not 0.0 <= bad_row_rate <= 0.5:
            raise ValueError("bad_row_rate must be within [0, 0.5]")
        self.out = Path(out_dir)
        self.n_customers = int(customers)
        self.n_days = int(days)
        self.every_days = int(extract_every_days)
        self.bad_row_rate = float(bad_row_rate)
        self.end_day = epoch_day(end_date)
        self.start_day = self.end_day - self.n_days + 1
        self.start = self.start_day * DAY  # first second of the window
        self.end = (self.end_day + 1) * DAY - 1  # last second of the window
        self.dump_day = None  # full_dump_until as an epoch day
        if full_dump_until is not None:
            self.dump_day = epoch_day(full_dump_until)
            if self.dump_day > self.end_day:
                raise ValueError("full_dump_until must not be after end_date")
        self.scale = self.n_days / 1095.0  # activity relative to three years
        root = np.random.default_rng(seed)
        self._rngs = dict(zip(STREAMS, root.spawn(len(STREAMS))))
        # extract dates: end_date, end_date - K, ... down to the one covering the first day
        q = (self.end_day - self.start_day) // self.every_days
        dates = [self.end_day - j * self.every_days for j in range(q + 1)]
        if self.dump_day is not None:
            dates = [d for d in dates if d > self.dump_day] + [self.dump_day]
        self.extract_days = sorted(set(dates))
        self.counts: dict = {}  # entity -> {"rows", "bad", "files"}
        self.t0 = time.time()

    def rng(self, stream):
        return self._rngs[stream]

    def extract_day_of(self, t: np.ndarray) -> np.ndarray:
        """Extract date (epoch day) for version timestamps ``t`` (epoch seconds, UTC)."""
        d = np.asarray(t, dtype=np.int64) // DAY
        x = self.end_day - ((self.end_day - d) // self.every_days) * self.every_days
        if self.dump_day is not None:
            x = np.where(d <= self.dump_day, self.dump_day, x)
        return x.astype(np.int32)

    def second_of_day(self, rng, n) -> np.ndarray:
        """UTC second-of-day following local (UTC+8) shopping hours."""
        local_h = cat_choice(rng, LOCAL_HOUR_W, n).astype(np.int64)
        return ((local_h - 8) % 24) * 3600 + rng.integers(0, 3600, n)

    def at_time_of_day(self, rng, t, lo, hi) -> np.ndarray:
        """Keep the day of ``t`` but draw a realistic time of day; clip to [lo, hi]."""
        t = np.asarray(t, dtype=np.int64)
        out = (t // DAY) * DAY + self.second_of_day(rng, len(t))
        return np.minimum(np.maximum(out, lo), hi)

    def progress(self, msg):
        log(f"{msg} ({time.time() - self.t0:.1f}s)")
