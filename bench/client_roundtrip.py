"""The Python reference client's side of the client benchmark (``bench/net``): the
``labthings-fastapi`` 0.3.0 ``ThingClient`` invoking an action and waiting for its output, one
invocation at a time. Prints one JSON object on stdout, as ``lt-client roundtrip`` does.

    python client_roundtrip.py TD_URL ACTION N [TOKEN]

``ThingClient`` POSTs the action, then polls the invocation (first after 50 ms, then every
0.5 s: ``labthings_fastapi.client.poll_invocation``'s defaults) until it has finished. The
client is made (the TD fetched) once before the clock starts; one warm-up call is not counted.
"""

from __future__ import annotations

import json
import sys
import time

import httpx

import labthings_fastapi as lt


def main() -> None:
    td_url, action, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    token = sys.argv[4] if len(sys.argv) > 4 else None
    base = td_url.split("/", 3)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url="/".join(base[:3]), headers=headers, timeout=30.0)
    thing = lt.ThingClient.from_url(td_url, client=client)
    invoke = getattr(thing, action)
    invoke()  # warm-up
    samples = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        invoke()
        samples.append((time.perf_counter() - t) * 1e6)
    total = time.perf_counter() - started
    samples.sort()

    def at(q: float) -> float:
        return samples[round((len(samples) - 1) * q)]

    print(
        json.dumps(
            {
                "client": "python",
                "n": n,
                "per_second": n / total,
                "p50_us": at(0.5),
                "p99_us": at(0.99),
                "mean_us": total * 1e6 / n,
            }
        )
    )


if __name__ == "__main__":
    main()
