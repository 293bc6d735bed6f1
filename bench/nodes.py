"""Drop day on more than one web node: the streams' lag and the shared storage (bench/drop_day.py).

`streams_measure`: STREAMS open streams (popup.stream), spread over the nodes' stream processes and
over both languages, all on the drop's pop-up; once each has had its first figures, CHANGES holds
of one unit of one product, a second apart, alternately on each node. The lag of a change on a
stream runs from the moment its hold request is sent to the moment the stream's reader (this
process, asyncio) has an event saying that product's units left are down to it: hold, commit,
announcement, recomputation, publication, fan-out and the network, all included.

`storage_misses`: every URL a shopper or a platform fetches, asked of every node: the pop-up page,
its embed, its live call, its share image, its catalogue feeds (written by this process into the
shared object store) and every product image the page shows. A miss is any answer but 200.
"""

import asyncio
import json
import re
import resource
import time
from pathlib import Path

import requests

CHANGES = 20
CHANGE_EVERY_SECONDS = 1.0
READY_SECONDS = 120  # for every stream to have its first figures
ARRIVAL_SECONDS = 10  # after the last change, for every stream to have it


async def _streams(
    servers: list, nodes: list[str], sale: dict, count: int, tokens: list[str]
) -> dict:
    popup_id, product = sale["id"], str(sale["stream_product"])
    first: list[int | None] = [None] * count
    reached = [0] * count  # per stream, how many of the changes it has had
    changes: list[tuple[float, int]] = []  # (hold request sent, units left after it)
    lags: list[float] = []
    errors = {"refused": 0, "cut": 0}
    events = [0]
    stop = asyncio.Event()

    def seen(number: int, block: bytes) -> None:
        data = [line[6:] for line in block.split(b"\n") if line.startswith(b"data: ")]
        if not data or b"event: figures" not in block:
            return  # the retry line, or a heartbeat
        arrived = time.perf_counter()
        events[0] += 1
        units = json.loads(data[0])["products"][product]["units_left"]
        if first[number] is None:
            first[number] = units
        step = reached[number]
        while step < len(changes) and units <= changes[step][1]:
            lags.append(arrived - changes[step][0])
            step += 1
        reached[number] = step

    async def stream(number: int) -> None:
        server = servers[number % len(servers)]
        language = ("en", "fr")[number // len(servers) % 2]
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"GET /popup/stream/{popup_id}/?lang={language} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                errors["refused"] += 1
                return
            buffer = b""
            while not stop.is_set():
                chunk = await reader.read(65536)
                if not chunk:
                    errors["cut"] += 1
                    return
                buffer += chunk
                while b"\n\n" in buffer:  # the chunked framing's lines carry no "data: "
                    block, buffer = buffer.split(b"\n\n", 1)
                    seen(number, block)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors["cut"] += 1
        finally:
            if writer is not None:
                writer.close()

    began = time.perf_counter()
    tasks = [asyncio.create_task(stream(number)) for number in range(count)]
    deadline = time.perf_counter() + READY_SECONDS
    while sum(units is not None for units in first) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    ready = sum(units is not None for units in first)
    opened_s = time.perf_counter() - began
    start = max((units for units in first if units is not None), default=0)
    holds = []
    for step in range(1, CHANGES + 1):
        node = nodes[step % len(nodes)]
        changes.append((time.perf_counter(), start - step))
        holds.append(
            await asyncio.to_thread(_hold, node, sale["slug"], product, tokens[step], step)
        )
        await asyncio.sleep(CHANGE_EVERY_SECONDS)
    deadline = time.perf_counter() + ARRIVAL_SECONDS
    while min(reached) < CHANGES and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    missed = sum(CHANGES - step for step in reached)
    lags.sort()
    return {
        "ready": ready,
        "opened_s": opened_s,
        "holds": holds,
        "lags": lags,
        "missed": missed,
        "errors": errors,
        "events": events[0],
    }


def _hold(node: str, slug: str, product: str, token: str, step: int) -> int:
    response = requests.post(
        f"{node}/popup/{slug}/basket/lines/",
        json={"product": int(product), "quantity": 1},
        headers={"X-Popup-Basket": token, "X-Forwarded-For": f"10.250.0.{step}"},
        timeout=30,
    )
    return response.status_code


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024, 1)


def streams_measure(servers: list, nodes: list[str], sale: dict, count: int) -> dict:
    """The streams' figures for the JSON line (see the module's docstring)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a connection per stream
    tokens = sale["stream_tokens"]
    run = asyncio.run(_streams(servers, nodes, sale, count, tokens))
    lags = run["lags"]

    def percentile(share: float) -> float:
        return round(lags[min(len(lags) - 1, int(len(lags) * share))] * 1000, 1) if lags else 0.0

    refused_holds = sum(1 for status in run["holds"] if status != 200)
    return {
        "streams": count,
        "stream_processes": len(servers),
        "streams_ready": run["ready"],
        "streams_opened_s": round(run["opened_s"], 1),
        "stream_changes": CHANGES,
        "stream_lag_p50_ms": percentile(0.50),
        "stream_lag_p99_ms": percentile(0.99),
        "stream_lag_max_ms": round(lags[-1] * 1000, 1) if lags else 0.0,
        "stream_events_read": run["events"],
        "stream_errors": run["errors"]["refused"]
        + run["errors"]["cut"]
        + run["missed"]
        + (count - run["ready"])
        + refused_holds,
        "stream_errors_detail": {
            **run["errors"],
            "changes_missed": run["missed"],
            "not_ready": count - run["ready"],
            "holds_refused": refused_holds,
        },
        "stream_process_rss_mb": [_rss_mb(server.process.pid) for server in servers],
    }


def storage_misses(nodes: list[str], sale: dict) -> dict:
    """Every stored thing asked of every node (see the module's docstring)."""
    from integrations.social.feed_files import feed_files_write
    from integrations.social.feeds import feed_links
    from popup.models import PopUp

    popup = PopUp.objects.get(slug=sale["slug"])
    feed_files_write(popup=popup)
    slug = sale["slug"]
    paths = [f"/popup/{slug}/", f"/popup/{slug}/embed/", f"/popup/{slug}/live/"]
    paths += [f"/popup/{slug}/share.png", "/catalogue/"]
    paths += [re.sub(r"^https?://[^/]+", "", link.url) for link in feed_links(popup=popup)]
    misses, asked, images = [], 0, set()
    for node in nodes:
        for path in paths:
            asked += 1
            response = requests.get(f"{node}{path}", timeout=30)
            if response.status_code != 200:
                misses.append(f"{node}{path}: {response.status_code}")
            if path == f"/popup/{slug}/":
                images |= set(re.findall(r'<img[^>]+src="([^"]+)"', response.text))
    for image in sorted(images):
        asked += 1
        status = requests.get(image, timeout=30).status_code
        if status != 200:
            misses.append(f"{image}: {status}")
    return {
        "storage_asked": asked,
        "storage_images": len(images),
        "storage_misses": len(misses),
        "storage_missed": misses[:10],
    }
