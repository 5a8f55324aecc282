"""A stand-in for the `claude` program that does with its MCP configuration what Claude Code does.

Run as `claude -p --output-format json [--mcp-config FILE --allowedTools LIST]` with the prompt on
stdin (tests/mcp.rs sets it as talab's Claude Code binary). It records what it was given in
FAKE_CLAUDE_RECORD (JSON: the arguments, the configuration file's mode and content, the allowed
tools), then starts each configured server as Claude Code does (its `env` over the inherited
environment), lists its tools, and calls `search_memories` with the words of the prompt (lexical
mode). It answers with Claude Code's JSON result whose `result` is the content of the best hit.
"""

import asyncio
import json
import os
import stat
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def option(args, name):
    return args[args.index(name) + 1] if name in args else None


async def use(server, prompt):
    params = StdioServerParameters(
        command=server["command"], args=server.get("args", []), env={**os.environ, **server.get("env", {})}
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            found = await session.call_tool("search_memories", {"query": prompt, "mode": "lexical", "limit": 1})
            hits = (found.structured_content or {}).get("memories") or []
            return tools, hits


def main():
    args = sys.argv[1:]
    prompt = sys.stdin.read().strip()
    record = {"args": args, "prompt": prompt}
    config_path = option(args, "--mcp-config")
    answer = "no talab tools were given"
    if config_path:
        record["config_mode"] = oct(stat.S_IMODE(os.stat(config_path).st_mode))
        with open(config_path) as f:
            config = json.load(f)
        record["config"] = config
        record["allowed"] = (option(args, "--allowedTools") or "").split(",")
        server = config["mcpServers"]["talab"]
        tools, hits = asyncio.run(use(server, prompt))
        record["server_tools"] = tools
        record["hits"] = hits
        answer = hits[0]["content"] if hits else "search_memories found nothing"
    with open(os.environ["FAKE_CLAUDE_RECORD"], "w") as f:
        json.dump(record, f)
    print(json.dumps({
        "type": "result", "subtype": "success", "is_error": False, "num_turns": 2, "result": answer,
        "total_cost_usd": 0.0042, "usage": {"input_tokens": 900, "output_tokens": 60},
        "modelUsage": {"claude-sonnet-4-5-20250929": {"inputTokens": 900, "outputTokens": 60}},
    }))


main()
