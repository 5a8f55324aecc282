#!/usr/bin/env python3
"""Query latency and recall of a ChromaDB server on the same vectors as talab's search bench.

Export the vectors (clustered 384-d unit vectors, 10k and 100k, plus 300 queries each) from the
Rust bench, start Chroma on loopback, then run this script:

    TALAB_BENCH_EXPORT=/tmp/talab_vectors cargo bench -p talab-memory --bench search
    chroma run --path /tmp/chroma --host 127.0.0.1 --port 8765 &
    python3 crates/memory/scripts/chroma_compare.py --dir /tmp/talab_vectors --port 8765 \
        --server-pid "$(pgrep -f 'chroma run' | head -1)"

Each size goes into a fresh collection in cosine space (talab sends the embeddings itself, no
embedding function). Latency is what a client sees: `collection.query(n_results=10)` over HTTP,
timed one query at a time after a warm-up, p50/p95. Recall@10 is against the exact top 10
computed here with numpy (cosine = dot product of unit vectors).
"""

import argparse
import os
import time

import chromadb
import numpy as np


def rss_mb(pid):
    """Resident memory of a process in MB, from /proc (None when unknown)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1000.0
    except OSError:
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True, help="where the bench wrote memories_N.npy and queries_N.npy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--server-pid", type=int, default=None, help="the chroma server, to report its memory")
    args = parser.parse_args()

    client = chromadb.HttpClient(host=args.host, port=args.port)
    batch = client.get_max_batch_size()
    for n in args.sizes:
        memories = np.load(os.path.join(args.dir, f"memories_{n}.npy"))
        queries = np.load(os.path.join(args.dir, f"queries_{n}.npy"))
        name = f"talab_compare_{n}"
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent on a fresh server
            pass
        rss_before = rss_mb(args.server_pid)
        collection = client.create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        ids = [str(i) for i in range(n)]
        start = time.perf_counter()
        for i in range(0, n, batch):
            collection.add(ids=ids[i : i + batch], embeddings=memories[i : i + batch])
        load_s = time.perf_counter() - start
        for q in queries[:20]:  # warm-up: first queries load the index
            collection.query(query_embeddings=[q], n_results=10, include=[])

        exact = np.argsort(-(queries @ memories.T), axis=1)[:, :10]
        times, found = [], 0
        for q, truth in zip(queries, exact):
            start = time.perf_counter()
            result = collection.query(query_embeddings=[q], n_results=10, include=[])
            times.append((time.perf_counter() - start) * 1e3)
            got = {int(i) for i in result["ids"][0]}
            found += len(got & set(truth.tolist()))
        times = np.array(times)
        rss_after = rss_mb(args.server_pid)
        memory = (
            f"; server RSS {rss_after:.0f} MB (+{rss_after - rss_before:.0f} MB)"
            if rss_before is not None and rss_after is not None
            else ""
        )
        print(
            f"chroma {chromadb.__version__} clustered {n} x {memories.shape[1]}: query p50 "
            f"{np.percentile(times, 50):.3f} ms, p95 {np.percentile(times, 95):.3f} ms, "
            f"recall@10 {found / (10 * len(queries)):.4f}; load {load_s:.1f} s{memory}"
        )


if __name__ == "__main__":
    main()
