"""Drives `talab mcp` over stdio with the official MCP Python SDK and prints what it saw as JSON.

Usage: python3 mcp_client.py TALAB_BINARY            every tool, good and bad arguments
       python3 mcp_client.py TALAB_BINARY add TAG N  N memories tagged TAG, then each searched for
       python3 mcp_client.py TALAB_BINARY http URL [TOKEN]  over streamable HTTP: add, search
(the environment carries TALAB_HOME and the database). The Rust test (tests/mcp.rs) checks the
report against the CLI's own answers.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def call(session, name, arguments):
    """A tool call as plain data: is_error, the structured answer, the text."""
    try:
        result = await session.call_tool(name, arguments)
    except Exception as e:  # a protocol-level error (e.g. arguments that fail the schema)
        return {"protocol_error": str(e)}
    text = "".join(getattr(c, "text", "") for c in result.content)
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
        "text": text,
        "chars": len(text),
    }


def server(binary):
    env = dict(os.environ)
    env["PATH"] = env.pop("SERVER_PATH", env.get("PATH", ""))  # the server: no `claude` on PATH
    return StdioServerParameters(command=binary, args=["mcp"], env=env)


async def add_many(binary, tag, n):
    """Adds n memories of its own, then searches for each by its text: what a client window does."""
    texts = [f"note {i} of client {tag}: refreshed asset {tag}{i} after check {i * 7919 % 1000}" for i in range(n)]
    report = {"created": 0, "duplicates": 0, "errors": [], "missed": []}
    async with stdio_client(server(binary)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            ids = []
            for text in texts:
                r = await call(session, "add_memory", {"content": text, "tags": [f"client-{tag}"]})
                if r.get("is_error") or "structured" not in r:
                    report["errors"].append(r.get("text") or r.get("protocol_error"))
                    ids.append(None)
                    continue
                report["duplicates" if r["structured"]["duplicate"] else "created"] += 1
                ids.append(r["structured"]["id"])
            for text, mid in zip(texts, ids):
                r = await call(session, "search_memories", {"query": text, "limit": 1, "mode": "lexical"})
                found = (r.get("structured") or {}).get("memories") or []
                if not found or found[0]["id"] != mid:
                    report["missed"].append(text)
    print(json.dumps(report))


async def main(binary):
    report = {}
    async with stdio_client(server(binary)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            report["server"] = init.server_info.name
            report["instructions"] = init.instructions
            tools = await session.list_tools()
            report["tools"] = sorted(t.name for t in tools.tools)
            report["schemas_have_descriptions"] = all(
                t.description and t.input_schema.get("type") == "object" for t in tools.tools
            )
            first = await call(session, "add_memory", {
                "content": "Refreshed BTC daily EMAs after the exchange outage",
                "metadata": {"task_type": "note"}, "tags": ["btc", "outage"]})
            again = await call(session, "add_memory", {
                "content": "Refreshed BTC daily EMAs after the exchange outage"})
            report["add"] = [first, again]
            for i in range(3):
                await call(session, "add_memory", {"content": f"ETH funding note number {i}"})
            report["search"] = await call(session, "search_memories", {
                "query": "BTC exchange outage", "tags": ["outage"]})
            page1 = await call(session, "search_memories", {
                "query": "ETH funding note", "limit": 2, "mode": "lexical"})
            cursor = (page1["structured"] or {}).get("next_cursor")
            page2 = await call(session, "search_memories", {
                "query": "ETH funding note", "limit": 2, "mode": "lexical", "cursor": cursor})
            report["pages"] = [page1, page2]
            report["bad_mode"] = await call(session, "search_memories", {"query": "x", "mode": "fuzzy"})
            report["missing_id"] = await call(session, "get_memory", {"id": "no-such-id"})
            report["missing_argument"] = await call(session, "search_memories", {})
            big = await call(session, "add_memory", {"content": "long " * 20000})
            report["big_search"] = await call(session, "search_memories", {"query": "long", "limit": 100})
            report["big_get"] = await call(session, "get_memory", {"id": big["structured"]["id"]})
            mid = first["structured"]["id"]
            report["update"] = await call(session, "update_memory", {
                "id": mid, "metadata": {"task_type": "note", "checked": True}})
            report["history"] = await call(session, "memory_history", {"id": mid})
            report["context"] = await call(session, "memory_context", {"ids": [mid]})
            report["assets"] = await call(session, "list_assets", {})
            report["refresh"] = await call(session, "refresh_ema", {
                "symbols": ["btc"], "timeframes": ["1D"], "periods": [10, 20]})
            report["refresh_unknown"] = await call(session, "refresh_ema", {"symbols": ["NOPE"]})
            report["ema"] = await call(session, "get_ema", {"symbol": "btc", "periods": [10]})
            report["ema_range"] = await call(session, "get_ema", {
                "symbol": "BTC", "from": "2020-01-01", "to": "2020-12-31", "periods": [20], "limit": 5})
            report["ask"] = await call(session, "ask", {"question": "what EMAs ran today"})
            report["tasks"] = await call(session, "list_tasks", {"limit": 5})
            report["costs"] = await call(session, "costs", {"by": "platform"})
            report["bad_costs"] = await call(session, "costs", {"by": "weekday"})
            report["signals"] = await call(session, "signals_summary", {})
            report["health"] = await call(session, "memory_health", {})
            report["deprecate"] = await call(session, "deprecate_memory", {"id": mid, "reason": "superseded"})
            report["delete"] = await call(session, "delete_memory", {"id": big["structured"]["id"]})
    print(json.dumps(report))


async def over_http(url, token):
    """The same server over streamable HTTP, with the bearer token when one is given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    report = {}
    try:
        async with create_mcp_http_client(headers=headers) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    init = await session.initialize()
                    report["server"] = init.server_info.name
                    report["tools"] = len((await session.list_tools()).tools)
                    report["add"] = await call(session, "add_memory", {"content": "added over HTTP for the lab"})
                    report["search"] = await call(session, "search_memories", {"query": "added over HTTP"})
    except BaseException as e:  # the SDK raises an exception group when the server refuses
        report["refused"] = repr(e)
    print(json.dumps(report))


if len(sys.argv) in (4, 5) and sys.argv[2] == "http":
    asyncio.run(over_http(sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else None))
elif len(sys.argv) == 5 and sys.argv[2] == "add":
    asyncio.run(add_many(sys.argv[1], sys.argv[3], int(sys.argv[4])))
else:
    asyncio.run(main(sys.argv[1]))
