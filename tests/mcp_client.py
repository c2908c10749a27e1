"""A real MCP client for the end-to-end test of `sentinel mcp`: the official Python SDK.

Usage: mcp_client.py COMMAND [ARGS...] < calls.json

Spawns COMMAND as an MCP server over stdio, initialises, lists the tools, then makes the
tool calls read from stdin (a JSON list of {"tool": NAME, "arguments": {...}}) in order, and
prints one JSON object: the server's info, the tools, and each call's result (is_error, the
text, and the text parsed as JSON when it is JSON). Bounded in time, so it never hangs a test.
"""

import json
import sys

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

DEADLINE_SECONDS = 60


def text_of(result):
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def parsed(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


async def main(command, calls):
    server = StdioServerParameters(command=command[0], args=command[1:])
    out = {}
    with anyio.fail_after(DEADLINE_SECONDS):
        async with stdio_client(server) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                out["server"] = {
                    "name": init.server_info.name,
                    "version": init.server_info.version,
                    "protocol": str(init.protocol_version),
                    "instructions": init.instructions,
                }
                tools = await session.list_tools()
                out["tools"] = [
                    {
                        "name": tool.name,
                        "description": tool.description,
                        "input_schema": tool.input_schema,
                    }
                    for tool in tools.tools
                ]
                out["calls"] = []
                for call in calls:
                    result = await session.call_tool(call["tool"], call.get("arguments", {}))
                    text = text_of(result)
                    out["calls"].append(
                        {
                            "tool": call["tool"],
                            "is_error": bool(result.is_error),
                            "text": text,
                            "json": parsed(text),
                        }
                    )
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:], json.load(sys.stdin))
