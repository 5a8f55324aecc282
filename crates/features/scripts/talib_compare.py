#!/usr/bin/env python3
"""talab's EMAs and EMA kernel speed next to TA-Lib's C `EMA` (the reference the spec names).

1. Values: the 1D EMAs talab stored for a real series, against `talib.EMA` over the same closes.
   Export them first (any periods; only the 1D timeframe, where `ema` is the plain EMA):

       talab --db /tmp/btc.db ingest csv tests/data/coin_Bitcoin.csv
       talab --db /tmp/btc.db refresh-ema --symbols BTC --tfs 1d --periods 10,20,50,200
       talab --db /tmp/btc.db ema BTC --tf 1d --periods 10,20,50,200 --from 2000-01-01 --format csv > /tmp/btc_ema.csv
       python3 crates/features/scripts/talib_compare.py --prices tests/data/coin_Bitcoin.csv \\
           --talab-csv /tmp/btc_ema.csv

2. Speed: TA-Lib's values per second on the shapes of `cargo bench -p talab-features --bench
   ema_kernel` (one series of 1M values, periods 10 and 200; 1,000 series of 3,000 values), best
   of several runs, for the closing-note comparison with the criterion numbers.

3. Indicator speed (`--indicators`): TA-Lib's RSI(14), ATR(14), MACD(12, 26, 9) and BBANDS(20, 2, 2)
   on the shapes of `cargo bench -p talab-features --bench indicators_kernel` (the same random
   walk, high and low at ±1 %), for the ratio with the criterion numbers.

Needs `pip install TA-Lib numpy` (the wheel bundles the C library).
"""

import argparse
import csv
import time

import numpy as np
import talib


def prices(n, seed):
    """The kernel bench's random walk (xorshift64, ±4 % steps), without its NaNs: TA-Lib has no
    missing-value rule, so its timing is taken on clean data."""
    s = (seed | 1) & 0xFFFFFFFFFFFFFFFF
    out = np.empty(n)
    price = 100.0
    for i in range(n):
        s ^= (s << 13) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 7
        s ^= (s << 17) & 0xFFFFFFFFFFFFFFFF
        r = (s >> 11) / float(1 << 53)
        price *= 1.0 + (r - 0.5) * 0.08
        out[i] = price
    return out


def best_of(runs, fn):
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed():
    long = prices(1_000_000, 7)
    for period in (10, 200):
        secs = best_of(20, lambda: talib.EMA(long, timeperiod=period))
        print(f"TA-Lib EMA, 1 series x 1M, p{period}: {secs * 1e3:.2f} ms = {len(long) / secs / 1e6:.0f} M values/s")
    many = [prices(3_000, 1_000 + i) for i in range(1_000)]
    for period in (10, 200):
        def run():
            for series in many:
                talib.EMA(series, timeperiod=period)
        secs = best_of(10, run)
        print(f"TA-Lib EMA, 1000 series x 3000, p{period}: {secs * 1e3:.2f} ms = {3e6 / secs / 1e6:.0f} M values/s "
              "(includes a Python call per series)")


def indicator_speed():
    """TA-Lib on the indicator bench's data: (name, call) pairs timed like `speed`."""
    calls = {
        "rsi14": lambda h, l, c: talib.RSI(c, timeperiod=14),
        "atr14": lambda h, l, c: talib.ATR(h, l, c, timeperiod=14),
        "macd12_26_9": lambda h, l, c: talib.MACD(c, fastperiod=12, slowperiod=26, signalperiod=9),
        "bbands20_2": lambda h, l, c: talib.BBANDS(c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=talib.MA_Type.SMA),
    }
    bars = lambda c: (c * 1.01, c * 0.99, c)
    long = bars(prices(1_000_000, 7))
    many = [bars(prices(3_000, 1_000 + i)) for i in range(1_000)]
    for name, call in calls.items():
        secs = best_of(20, lambda: call(*long))
        print(f"TA-Lib {name}, 1 series x 1M: {secs * 1e3:.2f} ms = {1e6 / secs / 1e6:.0f} M values/s")
    for name, call in calls.items():
        def run():
            for series in many:
                call(*series)
        secs = best_of(10, run)
        print(f"TA-Lib {name}, 1000 series x 3000: {secs * 1e3:.2f} ms = {3e6 / secs / 1e6:.0f} M values/s "
              "(includes a Python call per series)")


def values(prices_csv, talab_csv):
    with open(prices_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    days = [r["Date"][:10] for r in rows]
    closes = np.array([float(r["Close"]) for r in rows])
    index = {d: i for i, d in enumerate(days)}
    talab = {}
    with open(talab_csv, newline="") as f:
        for r in csv.DictReader(f):
            if r["tf"].upper() != "1D":
                continue
            talab.setdefault(int(r["period"]), {})[r["day"]] = float(r["ema"])
    worst_all = 0.0
    for period, by_day in sorted(talab.items()):
        reference = talib.EMA(closes, timeperiod=period)
        compared, worst = 0, 0.0
        for day, value in by_day.items():
            ref = reference[index[day]]
            if np.isnan(ref):
                raise SystemExit(f"talab has p{period} on {day}, before TA-Lib's first value")
            worst = max(worst, abs(value - ref) / abs(ref))
            compared += 1
        expected = int(np.count_nonzero(~np.isnan(reference)))
        print(f"p{period}: {compared} talab values (TA-Lib has {expected}), max relative difference {worst:.3e}")
        if compared != expected:
            raise SystemExit(f"p{period}: talab has {compared} values, TA-Lib {expected}")
        worst_all = max(worst_all, worst)
    verdict = "OK" if worst_all <= 1e-9 else "FAILS"
    print(f"{verdict}: worst relative difference {worst_all:.3e} (the spec asks ≤ 1e-9)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prices", help="plain OHLCV CSV (Date, Close columns), e.g. tests/data/coin_Bitcoin.csv")
    parser.add_argument("--talab-csv", help="`talab ema SYMBOL --tf 1d --format csv` output for the same symbol")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed part")
    parser.add_argument("--indicators", action="store_true",
                        help="time RSI, ATR, MACD and BBANDS (the indicators_kernel bench's shapes) instead of EMA")
    args = parser.parse_args()
    if args.prices and args.talab_csv:
        values(args.prices, args.talab_csv)
    if args.indicators:
        indicator_speed()
    elif not args.no_speed:
        speed()


if __name__ == "__main__":
    main()
