"""Benchmark: ``egorag ui``'s search page with 20 hits on a 10 k-scene index, warm.

The index starts as one real encoding: a speech video (real footage, espeak-ng sentences) with
its words transcribed by the packaged whisper tiny.en and embedded by the packaged MiniLM
(``scenes=fixed``, 3.5 s scenes; the ``columns`` records are the run's). Its scenes are then
copied into ``--scenes`` rows over many videos: each copy's transcript gets words of its own,
each vector a perturbation (a random vector of norm 0.3 added, scaled back to unit length), and
the full-text indexes are brought up to date (``optimize()``). Every copy names the one real
video file, so thumbnails decode real frames.

Then ``egorag ui --index`` is started as a user starts it, and timed over HTTP (the complete
HTML received): the first query (the query model loads), ``--rounds`` warm queries (each a
query not asked before, so nothing is cached but the model; the server's ``Server-Timing``
splits each into the search and the page made of its hits), each asked once more (its query
vector then cached by the search engine), the 20 thumbnails of one page
decoded and then cached, and with Chromium installed the browser's navigation timing of a warm
page (its HTML and its 20 cached thumbnails loaded).

    nice -n 19 .venv/bin/python benchmarks/bench_ui.py --scenes 10000 --rounds 30
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_long import checkout, egorag_cli, machine  # noqa: E402

WORDS = ["Transcript: where did I put the blue keys", "kitchen", "garage", "passport",
         "umbrella", "bicycle", "train", "market", "coffee", "phone", "window", "letter",
         "garden", "doctor", "ticket", "bread", "camera", "wallet", "laptop", "river"]  # fmt: skip
QUERIES = ["where are my keys?", "what did I buy at the market?", "the weather today",
           "a cup of tea", "where is the phone?", "when does the train leave?",
           "the bicycle in the garage", "coffee with milk", "a letter by the window",
           "the doctor's appointment"]  # fmt: skip
ENV = {"EGORAG_PLUGINS": "scenes,minilm,whisper", "HF_HUB_OFFLINE": "1"}


def encode_one(base: Path) -> Path:
    """The speech video encoded for real; its index folder."""
    from egorag_core.config import compose
    from egorag_core.data import VideoDataset
    from egorag_core.run import run
    from egorag_core.testing import make_speech_video

    video = base / "speech.mp4"
    make_speech_video(video)
    os.environ.update(ENV)
    cfg, choices = compose(["scenes=fixed", "scenes.seconds=3.5", "video=none", "caption=none",
                            "audio/asr=faster_whisper", "audio/embedding=none", "text=minilm",
                            "preset=tiny", "progress=false"])  # fmt: skip
    outcome = run(cfg, VideoDataset.from_path(video), base / "out", choices=choices)
    if outcome.report.counts()["ok"] != 1:
        raise SystemExit("the benchmark's video did not encode")
    return base / "out" / "index"


def jittered(column: pa.Array, rng: np.random.Generator, copies: int) -> pa.Array:
    """``copies`` perturbed copies of a fixed-size vector column (nulls stay null)."""
    dim = column.type.list_size
    rows = []
    for value in column.to_pylist() * copies:
        if value is None:
            rows.append(None)
            continue
        v = np.asarray(value, np.float32) + rng.normal(0, 0.3 / np.sqrt(dim), dim)
        rows.append((v / np.linalg.norm(v)).astype(np.float32).tolist())
    return pa.array(rows, type=column.type)


def grow(index: Path, scenes: int, seed: int = 0) -> int:
    """Copy the index's scenes (and videos) until it holds ``scenes`` rows; the row count."""
    import lancedb

    rng = np.random.default_rng(seed)
    db = lancedb.connect(str(index))
    table, videos = db.open_table("scenes"), db.open_table("videos")
    one, video = table.to_arrow(), videos.to_arrow()
    copies = -(-(scenes - one.num_rows) // one.num_rows)
    fingerprint = video.column("config_fingerprint")[0].as_py()
    keys = [f"{i:032x}-{fingerprint}" for i in range(1, copies + 1)]
    data = {}
    for name in one.column_names:
        column = one.column(name).combine_chunks()
        if name.endswith("_vector"):
            data[name] = jittered(column, rng, copies)
        elif name == "key":
            data[name] = pa.array([k for k in keys for _ in range(one.num_rows)])
        elif name == "video_name":
            data[name] = pa.array([f"walk-{i:04d}" for i in range(copies)
                                   for _ in range(one.num_rows)])  # fmt: skip
        elif name == "transcript":
            data[name] = pa.array([f"{t} {' '.join(rng.choice(WORDS[1:], 3))}"
                                   for _ in range(copies) for t in column.to_pylist()])
        else:
            data[name] = pa.concat_arrays([column] * copies)
    table.add(pa.table(data, schema=one.schema))
    rows = video.to_pylist()[0]
    videos.add(pa.Table.from_pylist([{**rows, "key": k, "video_name": f"walk-{i:04d}"}
                                     for i, k in enumerate(keys)], schema=video.schema))
    table.optimize()  # the full-text indexes take the new rows in
    return table.count_rows()


def start(index: Path) -> tuple[subprocess.Popen[str], str]:
    """``egorag ui --index`` in its own process; its address."""
    env = {**os.environ, **ENV}
    proc = subprocess.Popen([egorag_cli(), "ui", "--index", str(index)], env=env, text=True,
                            stdout=subprocess.PIPE)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []],
                     daemon=True).start()  # fmt: skip
    while True:
        line = lines.get(timeout=300)
        if "open http" in line:
            return proc, next(w for w in line.split() if w.startswith("http://")).rstrip("/")


def fetch(url: str) -> tuple[float, bytes]:
    """Seconds until the whole response was read, and its body."""
    return fetch_timed(url)[:2]


def fetch_timed(url: str) -> tuple[float, bytes, dict[str, float]]:
    """Seconds, body and the server's own timings (``Server-Timing``, ms)."""
    begin = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as response:
        body = response.read()
        header = response.headers.get("Server-Timing") or ""
    parts = dict(re.findall(r"(\w+);dur=([\d.]+)", header))
    return time.perf_counter() - begin, body, {k: float(v) for k, v in parts.items()}


def summary(values: list[float]) -> dict[str, float]:
    """Median, 90th percentile and largest of ``values``."""
    return {"median": round(statistics.median(values), 1),
            "p90": round(statistics.quantiles(values, n=10)[-1], 1),
            "max": round(max(values), 1)}  # fmt: skip


def page(base: str, query: str) -> str:
    return f"{base}/?" + urllib.parse.urlencode({"q": query, "k": 20})


def browser_timing(base: str, query: str) -> dict[str, float] | None:
    """Chromium's navigation timing (ms) of a page already visited (thumbnails cached)."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get(page(base, query))  # first visit: thumbnails made and cached by the server
        driver.execute_script("return 1")
        driver.get(page(base, query))
        entry = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].toJSON()")
        return {k: round(entry[k] - entry["requestStart"], 1)
                for k in ("responseEnd", "domContentLoadedEventEnd", "loadEventEnd")}
    finally:
        driver.quit()


def measure(index: Path, rounds: int) -> dict[str, Any]:
    proc, base = start(index)
    try:
        first, body = fetch(page(base, QUERIES[0]))
        assert body.count(b'<article class="card') == 20, "expected 20 hits"
        warm: dict[str, list[float]] = {"new query": [], "its search": [], "its page": [],
                                        "same query again": []}  # fmt: skip
        for i in range(rounds):
            url = page(base, f"{QUERIES[i % len(QUERIES)]} {WORDS[1 + i % 19]} {i}")
            seconds, body, server = fetch_timed(url)
            assert body.count(b'<article class="card') == 20
            warm["new query"].append(seconds * 1000)
            warm["its search"].append(server["search"])
            warm["its page"].append(server["page"])
            warm["same query again"].append(fetch(url)[0] * 1000)
        thumbs = [t.decode() for t in re.findall(rb'src="(/thumb/[^"]+)"', body)]
        cold = [fetch(base + t)[0] * 1000 for t in thumbs]
        cached = [fetch(base + t)[0] * 1000 for t in thumbs]
        timing = browser_timing(base, f"{QUERIES[0]} again")
    finally:
        proc.terminate()
        proc.wait(30)
    return {"first_query_s": round(first, 2), "rounds": rounds,
        "warm_ms": {name: summary(values) for name, values in warm.items()},
        "thumbnails_ms": {"count": len(thumbs), "decode_total": round(sum(cold), 1),
                          "decode_max": round(max(cold), 1), "cached_total": round(sum(cached), 1)},
        "browser_ms": timing}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", help="keep the index here (default: a temporary folder)")
    args = parser.parse_args()
    print(f"machine: {machine()}\ncheckout: {checkout()}", flush=True)
    base = Path(args.out or tempfile.mkdtemp(prefix="bench-ui-"))
    base.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    index = encode_one(base)
    rows = grow(index, args.scenes)
    print(f"index: {rows} scenes in {time.perf_counter() - began:.0f} s ({index})", flush=True)
    result = {"scenes": rows, **measure(index, args.rounds),
              "load_average_after": [round(x, 1) for x in os.getloadavg()]}  # fmt: skip
    print(json.dumps(result, indent=2))
    if not args.out:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
