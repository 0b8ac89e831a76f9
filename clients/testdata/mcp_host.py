"""An MCP host for the tests: starts Snowflake's MCP server over stdio with
the mcp SDK's stdio client, as Claude Desktop or any MCP host does, and
relays tool calls from the test.

    python mcp_host.py SERVICE_CONFIG CONNECTION_NAME

The connection comes from $SNOWFLAKE_HOME/connections.toml. Prints one JSON
line {"tools": [...]} once the server is up, then reads one JSON line per
call from stdin, {"tool": NAME, "args": {...}}, and answers each with one
JSON line {"is_error": bool, "text": "...", "seconds": float}.
"""

import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    config, connection = sys.argv[1], sys.argv[2]
    server = StdioServerParameters(
        command=os.path.join(os.path.dirname(sys.executable), "mcp-server-snowflake"),
        args=["--service-config-file", config, "--connection-name", connection],
        env=dict(os.environ),
    )
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            emit({"tools": [t.name for t in tools.tools]})
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    return
                call = json.loads(line)
                began = time.monotonic()
                try:
                    res = await asyncio.wait_for(session.call_tool(call["tool"], call.get("args") or {}), 300)
                    text = "\n".join(getattr(c, "text", str(c)) for c in res.content)
                    emit({"is_error": bool(res.isError), "text": text, "seconds": time.monotonic() - began})
                except Exception as e:  # the call itself failed: report it as the tool's error
                    emit({"is_error": True, "text": "host: " + repr(e), "seconds": time.monotonic() - began})


asyncio.run(main())
