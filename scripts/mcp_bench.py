"""Round trips of `talab mcp` as a client sees them, over stdio with the official MCP Python SDK.

Usage:
    PYTHONPATH=<dir with the `mcp` package> python3 scripts/mcp_bench.py TALAB_BINARY [MEMORIES]

Starts `talab mcp` on a fresh SQLite database in a temporary folder (TALAB_EMBED_MODEL_DIR, if set,
picks the MiniLM model; otherwise the lexical fallback), and prints as JSON:
  - start-up: from starting the process to the answer of the first tools/list (and to the first
    search, which loads the store), in ms;
  - add_memory and search_memories round trips (p50, p95, ms) once MEMORIES (default 10,000) are
    stored, from 200 calls each.
The tests install the SDK under <target>/debug/talab-test-python/mcp-2.3.0 (`cargo test` mcp tests).
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

WORDS = ("btc eth sol ema rsi atr refresh rebuild quota outage candle volume timeframe weekly monthly "
         "signal crossover drawdown funding basis spread order book liquidity binance coinbase").split()


def text(i):
    """A distinct, lab-like memory."""
    picks = [WORDS[(i * k + k * k) % len(WORDS)] for k in range(1, 9)]
    return f"memory {i}: " + " ".join(picks) + f" at step {i * 7919 % 100000}"


def pct(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def timed(session, name, args):
    t0 = time.perf_counter()
    result = await session.call_tool(name, args)
    took = (time.perf_counter() - t0) * 1e3
    if result.is_error:
        raise RuntimeError(f"{name}: {result.content}")
    return took


async def main(binary, memories):
    home = tempfile.mkdtemp(prefix="talab-mcp-bench-")
    env = dict(os.environ, TALAB_HOME=home, TALAB_TIMEZONE="UTC", RUST_LOG="error")
    params = StdioServerParameters(command=binary, args=["mcp"], env=env)
    t0 = time.perf_counter()
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            first_answer = (time.perf_counter() - t0) * 1e3
            first_search = await timed(session, "search_memories", {"query": "warm up"})
            fill_started = time.perf_counter()
            for i in range(memories):
                await timed(session, "add_memory", {"content": text(i)})
            fill_s = time.perf_counter() - fill_started
            adds = [await timed(session, "add_memory", {"content": text(memories + i)}) for i in range(200)]
            searches = [
                await timed(session, "search_memories", {"query": text(i * 37 % memories), "limit": 10})
                for i in range(200)
            ]
    print(json.dumps({
        "embedder": "minilm" if os.environ.get("TALAB_EMBED_MODEL_DIR") else "lexical",
        "memories": memories,
        "startup_to_first_answer_ms": round(first_answer, 1),
        "first_search_ms": round(first_search, 1),
        "fill_adds_per_s": round(memories / fill_s, 1),
        "add_memory_ms": {"p50": round(pct(adds, 50), 2), "p95": round(pct(adds, 95), 2),
                          "mean": round(statistics.mean(adds), 2)},
        "search_memories_ms": {"p50": round(pct(searches, 50), 2), "p95": round(pct(searches, 95), 2),
                               "mean": round(statistics.mean(searches), 2)},
    }, indent=2))


asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10_000))
