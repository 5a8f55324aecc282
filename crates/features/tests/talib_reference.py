#!/usr/bin/env python3
"""TA-Lib's RSI, ATR, MACD and BBANDS over one price file, for the indicator kernel tests.

    python3 talib_reference.py FILE SPEC...

FILE is a CoinMarketCap-style CSV (High, Low, Close columns, oldest first). Each SPEC names one call:
`rsi:14`, `atr:14`, `macd:12:26:9`, `bbands:20:2:2` (period, nbdevup, nbdevdn; SMA). Prints one line
per output, `NAME,v0,v1,...`, aligned to the input rows, floats as `repr` (exact round trip) and
`nan` where TA-Lib gives no value. MACD prints `macd:…:macd`, `…:signal` and `…:hist`; BBANDS
`bbands:…:upper`, `…:middle` and `…:lower`. The first line is `talib,VERSION`.

The Rust tests run it with PYTHONPATH pointing at an isolated TA-Lib install (see
`talab_db::testing::python`); it needs `TA-Lib` and `numpy` and nothing else.
"""

import csv
import sys

import numpy as np
import talib


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    column = lambda name: np.array([float(r[name]) for r in rows], dtype=np.float64)
    return column("High"), column("Low"), column("Close")


def line(name, values):
    return name + "," + ",".join(repr(float(v)) for v in values)


def run(spec, high, low, close):
    kind, *params = spec.split(":")
    if kind == "rsi":
        (period,) = map(int, params)
        return [line(spec, talib.RSI(close, timeperiod=period))]
    if kind == "atr":
        (period,) = map(int, params)
        return [line(spec, talib.ATR(high, low, close, timeperiod=period))]
    if kind == "macd":
        fast, slow, signal = map(int, params)
        outs = talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal)
        return [line(f"{spec}:{part}", v) for part, v in zip(("macd", "signal", "hist"), outs)]
    if kind == "bbands":
        period, up, down = int(params[0]), float(params[1]), float(params[2])
        outs = talib.BBANDS(close, timeperiod=period, nbdevup=up, nbdevdn=down, matype=talib.MA_Type.SMA)
        return [line(f"{spec}:{part}", v) for part, v in zip(("upper", "middle", "lower"), outs)]
    raise SystemExit(f"unknown spec {spec!r} (rsi:P, atr:P, macd:F:S:G, bbands:P:UP:DN)")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    high, low, close = read(sys.argv[1])
    out = [f"talib,{talib.__version__}"]
    for spec in sys.argv[2:]:
        out.extend(run(spec, high, low, close))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
