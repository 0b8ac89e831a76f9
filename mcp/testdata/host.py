"""An MCP host for snowgate mcp's tests, on the Python MCP SDK.

It reads one JSON command per line from stdin and answers each with one
JSON line on stdout:

  {"op": "connect", "session": "a", "transport": "stdio", "command": "...", "args": [...], "env": {...}}
  {"op": "connect", "session": "b", "transport": "http", "url": "http://.../mcp", "token": "..."}
  {"op": "call", "session": "a", "tool": "run_query", "args": {...}}
  {"op": "batch", "session": "a", "calls": [{"tool": ..., "args": ...}, ...]}
  {"op": "close", "session": "a"}

A call answers {"is_error": bool, "text": "...", "structured": {...}}; a
failure {"error": "..."}. Each session lives in a task of its own, so that
sessions open and close in any order.
"""

import asyncio
import json
import os
import sys

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def transport(spec):
    if spec["transport"] == "stdio":
        env = dict(os.environ)
        env.update(spec.get("env", {}))
        params = StdioServerParameters(command=spec["command"], args=spec.get("args", []), env=env)
        return stdio_client(params)
    headers = {}
    if spec.get("token"):
        headers["Authorization"] = "Bearer " + spec["token"]
    client = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(120, read=300))
    return streamable_http_client(spec["url"], http_client=client)


async def call(session, tool, args):
    res = await session.call_tool(tool, args)
    text = "\n".join(c.text for c in res.content if getattr(c, "type", "") == "text")
    return {"is_error": bool(res.isError), "text": text, "structured": res.structuredContent}


async def serve_session(spec, inbox, ready):
    try:
        async with transport(spec) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                info = await session.initialize()
                tools = await session.list_tools()
                ready.set_result({"server": info.serverInfo.name, "tools": sorted(t.name for t in tools.tools)})
                while True:
                    req, answer = await inbox.get()
                    if req is None:
                        answer.set_result({"closed": True})
                        return
                    try:
                        if req["op"] == "batch":
                            out = [await call(session, c["tool"], c.get("args", {})) for c in req["calls"]]
                        else:
                            out = await call(session, req["tool"], req.get("args", {}))
                        answer.set_result(out)
                    except Exception as e:  # noqa: BLE001 - reported to the test
                        answer.set_result({"error": describe(e)})
    except BaseException as e:  # noqa: BLE001 - reported to the test
        if not ready.done():
            ready.set_result({"error": describe(e)})


def describe(e):
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


async def main():
    loop = asyncio.get_running_loop()
    sessions = {}
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        req = json.loads(line)
        op = req["op"]
        if op == "connect":
            inbox, ready = asyncio.Queue(), loop.create_future()
            task = asyncio.create_task(serve_session(req, inbox, ready))
            out = await ready
            if "error" not in out:
                sessions[req["session"]] = (inbox, task)
        elif op in ("call", "batch", "close"):
            if req["session"] not in sessions:
                out = {"error": "no session " + req["session"]}
            else:
                inbox, task = sessions[req["session"]]
                answer = loop.create_future()
                await inbox.put((None if op == "close" else req, answer))
                out = await answer
                if op == "close":
                    await task
                    del sessions[req["session"]]
        else:
            out = {"error": "unknown op " + op}
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()
    for inbox, task in sessions.values():
        answer = loop.create_future()
        await inbox.put((None, answer))
        await task


asyncio.run(main())
