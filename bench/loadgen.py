"""A small HTTP load generator for the bench: threads, each with one keep-alive connection
(http.client), sending GETs to a server on loopback until a request count or a time limit is
reached, whichever comes first. Prints one JSON object: counts, throughput, latencies.

    python bench/loadgen.py --port 8101 --path /api/v1/invoices/ --header "X-Organization: 3" \\
        --threads 2 --requests 400 --seconds 20
"""

import argparse
import http.client
import json
import statistics
import threading
import time

HOST = "127.0.0.1"  # loopback only: the bench never sends traffic anywhere else


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400, help="total, all threads")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit")
    parser.add_argument("--warmup", type=int, default=10, help="per thread, not counted")
    args = parser.parse_args()
    headers = dict(item.split(":", 1) for item in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}

    lock = threading.Lock()
    remaining = [args.requests]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    first_body: list[bytes] = []
    start = threading.Barrier(args.threads + 1)
    deadline = [0.0]

    def fetch(conn: http.client.HTTPConnection) -> tuple[int, bytes]:
        conn.request("GET", args.path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.will_close:
            conn.close()  # http.client opens it again on the next request
        return response.status, body

    def run() -> None:
        conn = http.client.HTTPConnection(HOST, args.port, timeout=60)
        for _ in range(args.warmup):
            fetch(conn)
        start.wait()
        while True:
            with lock:
                if remaining[0] <= 0 or time.perf_counter() > deadline[0]:
                    break
                remaining[0] -= 1
            began = time.perf_counter()
            status, body = fetch(conn)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
                if not first_body:
                    first_body.append(body)
        conn.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + 3600  # set for real once every thread has warmed up
    start.wait()
    began = time.perf_counter()
    deadline[0] = began + args.seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ok = statuses.get(200, 0)
    body = first_body[0] if first_body else b""
    try:
        rows = len(json.loads(body).get("results", []))
    except (ValueError, AttributeError):
        rows = None
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "ok": ok,
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "elapsed": elapsed,
                "rps": ok / elapsed if elapsed else 0.0,
                "latency_median_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
                "latency_mean_ms": 1000 * statistics.fmean(latencies) if latencies else 0.0,
                "latency_p95_ms": 1000 * percentile(latencies, 0.95),
                "rows": rows,
                "sample": body[:300].decode(errors="replace") if ok != len(latencies) else "",
            }
        )
    )


if __name__ == "__main__":
    main()
