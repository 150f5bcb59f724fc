"""``egorag ui`` in a real browser (Debian's Chromium headless through selenium and
chromedriver) against ``egorag ui`` servers started as a user starts them, on indexes of real
footage: the narrated clip (spoken facts, the packaged whisper tiny.en and MiniLM), bikes.mp4,
a copy of bigbuckbunny.mp4 deleted after indexing, and a video replaced by a link out of its
folder; and a two-job sweep. Screenshots go to ``$EGORAG_UI_SCREENSHOTS`` (default: a temporary
folder); ``docs/ui-*.png`` are these."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import lancedb
import pytest
from cli_helpers import PLUGINS, REPO, cli_env, compose_and_run, egorag_command, run_cli
from narration import SCENE_S, make_narrated

from egorag_core import VideoDataset
from egorag_core.testing import make_video, sample_video

WITH_ASR = "scenes,minilm,whisper,testplugin"
#: The test index: scenes of 5 s, colour histograms (which keep keyframe times), colour-name
#: captions, the packaged whisper tiny.en and MiniLM.
ENCODING = ["scenes=fixed", f"scenes.seconds={SCENE_S}", "video=colorhist", "caption=colorname",
            "audio/asr=faster_whisper", "audio/embedding=none", "text=minilm", "preset=tiny",
            "progress=false"]  # fmt: skip
QUERY = "where did we park the car?"  # "We parked the car on level three of the garage."
PARKED = (15.0, 20.0)  # the scene of the narrated clip that says it
RECORDED = "2026-11-28T15:00:00"  # when the narrated clip "was recorded" (local time)


@pytest.fixture(autouse=True)
def asr_plugins(monkeypatch) -> None:
    monkeypatch.setenv("EGORAG_PLUGINS", WITH_ASR)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("EGORAG_UI_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> dict[str, Path]:
    """The test index, encoded in this process; then ``gone.mp4`` is deleted and
    ``linked/linked.mp4`` replaced by a link to a file outside its folder."""
    base = tmp_path_factory.mktemp("ui")
    narrated, _ = make_narrated(base)
    gone = base / "gone.mp4"
    shutil.copyfile(sample_video("bigbuckbunny.mp4"), gone)
    linked = make_video(base / "linked" / "linked.mp4", [("testsrc2", 2.0)], audio=None)
    listing = base / "videos.json"
    listing.write_text(json.dumps([
        {"path": str(narrated), "name": "narrated", "recorded_at": RECORDED},
        {"path": str(sample_video("bikes.mp4")), "name": "bikes"},
        {"path": str(gone), "name": "gone"}, {"path": str(linked), "name": "linked"}]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EGORAG_PLUGINS", WITH_ASR)
        outcome = compose_and_run(ENCODING, VideoDataset.from_json(listing), base / "out")
    assert outcome.report.counts()["ok"] == 4
    gone.unlink()
    linked.unlink()
    linked.symlink_to(narrated)  # a real video, but outside linked/: not served
    return {"out": base / "out", "index": base / "out" / "index", "narrated": narrated}


def scene_rows(index: Path) -> list[dict]:
    table = lancedb.connect(str(index)).open_table("scenes")
    return table.to_arrow().select(["key", "video_name", "scene_index", "start", "end",
                                    "transcript", "keyframe_times"]).to_pylist()  # fmt: skip


def keys(index: Path) -> dict[str, str]:
    return {r["video_name"]: r["key"] for r in scene_rows(index)}


class Server:
    """``egorag ui ARGS`` in its own process, as a user starts it; its address from what it
    prints."""

    def __init__(self, *args: str, plugins: str = WITH_ASR):
        self.proc = subprocess.Popen([*egorag_command(), "ui", *args], cwd=REPO,
                                     env=cli_env(EGORAG_PLUGINS=plugins), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        self.lines: list[str] = []
        self.stderr = ""
        printed: queue.Queue[str] = queue.Queue()

        def read() -> None:  # every line it prints, then "" when it exits
            for line in self.proc.stdout:
                printed.put(line)
            printed.put("")

        threading.Thread(target=read, daemon=True).start()
        while not any("open http" in line for line in self.lines):
            try:
                line = printed.get(timeout=120)
            except queue.Empty:
                line = ""
            if not line:
                self.stop()
                raise AssertionError(f"egorag ui did not start: {self.lines} {self.stderr}")
            self.lines.append(line.rstrip("\n"))
        self.url = next(w for w in self.lines[-1].split() if w.startswith("http://")).rstrip("/")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        """``GET path`` as sent (no normalising of ``..``): status, headers, body."""
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def torch_loaded(self) -> bool:
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return "libtorch" in maps

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr = self.proc.stderr.read() if self.proc.stderr else ""


@pytest.fixture(scope="module")
def server(indexed) -> Iterator[Server]:
    running = Server("--index", str(indexed["out"]))
    yield running
    running.stop()
    assert "Traceback" not in running.stderr, running.stderr[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium headless (the system's: no browser download), through chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    assert chromium and driver, "install chromium and chromium-driver (make system does)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio",
                "--window-size=1280,900", "--disable-gpu"):  # fmt: skip
        options.add_argument(arg)
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.set_page_load_timeout(120)
    yield chrome
    chrome.quit()


def shoot(browser, path: Path, height: int = 900) -> None:
    """A screenshot of the page at 1280 x ``height``, once its images have loaded, stored as
    a palette PNG (small enough to commit)."""
    import io

    from PIL import Image

    browser.set_window_size(1280, height)
    wait_for(browser, "return [...document.images].every(i => i.complete && i.naturalWidth)")
    image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    image.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    browser.set_window_size(1280, 900)


def wait_for(browser, script: str, timeout: float = 30):
    """The value of ``script`` once it is truthy (selenium's wait: an upper bound only)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(
        lambda b: b.execute_script(script))


#: The player's time once it has loaded and is not seeking, else null.
PLAYER_TIME = ("var v = document.getElementById('player'); "
               "return v && v.readyState >= 1 && !v.seeking ? v.currentTime : null;")


def player_at(browser, seconds: float) -> float:
    """The player's ``currentTime`` once it is within 0.5 s of ``seconds`` (the test fails
    when it never gets there)."""
    from selenium.webdriver.support.ui import WebDriverWait

    def near(b) -> list[float] | None:
        now = b.execute_script(PLAYER_TIME)
        return [now] if now is not None and abs(now - seconds) < 0.5 else None

    return WebDriverWait(browser, 30, poll_frequency=0.1).until(near)[0]


def test_no_model_is_loaded_before_the_first_query(server, indexed) -> None:
    narrated = keys(indexed["index"])["narrated"]
    for path in ("/", f"/video/{narrated}", f"/thumb/0/{narrated}/0"):
        assert server.get(path)[0] == 200, path
    assert not server.torch_loaded()
    assert any(line.startswith("egorag ui: open http://127.0.0.1:") for line in server.lines)


def test_a_query_finds_the_scene_and_the_player_starts_there(server, browser, indexed,
                                                             shots) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By

    import egorag_core

    browser.get(server.url + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys(QUERY)
    box.submit()
    cards = wait_for(browser, "var c = document.querySelectorAll('article.card'); "
                     "return c.length ? c : null")  # fmt: skip
    expected = egorag_core.search(indexed["index"], QUERY, k=20)
    shown = [(c.get_attribute("data-key"), int(c.get_attribute("data-scene"))) for c in cards]
    assert shown == [(h.key, h.scene_index) for h in expected]  # search's hits, in its order
    first = cards[0]
    assert first.find_element(By.CSS_SELECTOR, ".video").text == "narrated"
    assert float(first.get_attribute("data-start")) == PARKED[0]
    assert first.find_element(By.CSS_SELECTOR, ".span").text == "0:15.0–0:20.0"
    assert first.find_element(By.CSS_SELECTOR, ".wall").text == expected[0].wall_time == \
        "2026-11-28 15:00:15"  # recorded_at + 15 s, local time  # fmt: skip
    assert "level three" in first.find_element(By.CSS_SELECTOR, ".transcript").text
    assert [m.text for m in first.find_elements(By.TAG_NAME, "mark")]  # query words marked
    shoot(browser, shots / "ui-search.png")
    first.find_element(By.CSS_SELECTOR, "a.title").click()
    at = player_at(browser, PARKED[0])
    assert abs(at - PARKED[0]) < 0.5
    assert browser.find_element(By.CSS_SELECTOR, ".scene.current").get_attribute("id") == \
        f"scene-{expected[0].scene_index}"  # fmt: skip
    wait_for(browser, "return document.getElementById('player').readyState >= 3")
    shoot(browser, shots / "ui-video.png", 1000)


def test_the_page_loads_the_query_model_on_the_first_query_and_keeps_it(indexed) -> None:
    from egorag_core.ui.catalog import Catalog

    catalog = Catalog(indexed["index"])  # what egorag ui opens at its start
    assert catalog.engine.scheduler.load_counts() == {}
    assert catalog.search(QUERY)[0]
    (text,) = [s.producer for s in catalog.engine.plan("auto")[0] if s.label == "text"]
    built = catalog.engine.embedder(text)  # text=minilm, built by the first query
    for query in ("where is my passport?", QUERY):
        assert catalog.search(query)[0]
    assert catalog.engine.embedder(text) is built  # the same component, kept warm
    assert all(n == 1 for n in catalog.engine.scheduler.load_counts().values())  # no reload


def test_the_video_page_shows_every_scene_and_seeks_on_a_click(server, browser,
                                                               indexed) -> None:  # fmt: skip
    from selenium.webdriver.common.by import By

    rows = scene_rows(indexed["index"])
    for name in ("narrated", "bikes"):
        mine = sorted((r for r in rows if r["video_name"] == name),
                      key=lambda r: r["scene_index"])  # fmt: skip
        browser.get(f"{server.url}/video/{mine[0]['key']}")
        scenes = browser.find_elements(By.CSS_SELECTOR, "li.scene")
        assert len(scenes) == len(mine) > 1
        starts = [float(s.get_attribute("data-start")) for s in scenes]
        assert starts == [r["start"] for r in mine]  # in time order, as indexed
        player_at(browser, 0.0)
        target = scenes[-1]
        browser.execute_script("arguments[0].scrollIntoView()", target)
        target.find_element(By.CSS_SELECTOR, "a.seek").click()
        assert abs(player_at(browser, mine[-1]["start"]) - mine[-1]["start"]) < 0.5
    browser.get(f"{server.url}/video/{keys(indexed['index'])['narrated']}?t=15")
    scene = browser.find_element(By.ID, "scene-3")
    lines = scene.find_element(By.CSS_SELECTOR, ".lines").text
    assert lines.startswith("0:15.") and "parked the car" in lines  # a time, then the words
    assert scene.find_element(By.CSS_SELECTOR, ".wall").text == "2026-11-28 15:00:15"


def test_thumbnails_are_taken_at_the_keyframe_and_cached_beside_the_index(server,
                                                                          indexed) -> None:
    import io

    import numpy as np
    from PIL import Image

    from egorag_core.media import VideoFrames, probe

    rows = [r for r in scene_rows(indexed["index"]) if r["video_name"] == "bikes"]
    bikes = sample_video("bikes.mp4")
    info = probe(bikes)
    for row in rows:
        times = row["keyframe_times"]
        assert times and all(row["start"] <= t < row["end"] for t in times)  # stored
        status, headers, body = server.get(f"/thumb/0/{row['key']}/{row['scene_index']}")
        assert (status, headers["content-type"]) == (200, "image/jpeg")
        image = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), dtype=np.float32)
        assert image.shape == (144, 340, 3)  # shorter side 144, the video's aspect
        cached = indexed["out"] / "ui-cache" / f"{row['key']}-{row['scene_index']}.jpg"
        assert cached.read_bytes() == body
        with VideoFrames(info) as frames:
            at, other = times[len(times) // 2], (row["end"] + 2.5) % 10
            near = {t: np.asarray(Image.fromarray(frames.at_times([t]).array[0]).resize(
                (340, 144)), dtype=np.float32) for t in (at, other)}  # fmt: skip
        assert np.abs(image - near[at]).mean() < np.abs(image - near[other]).mean()


def test_a_deleted_video_keeps_its_text_and_says_the_file_is_missing(server, browser,
                                                                     indexed) -> None:
    from selenium.webdriver.common.by import By

    gone = keys(indexed["index"])["gone"]
    browser.get(f"{server.url}/?q=mostly&video=gone")
    cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
    assert len(cards) == 2 and all("missing" in c.get_attribute("class") for c in cards)
    for card in cards:
        assert card.find_element(By.CSS_SELECTOR, ".caption").text.startswith("seen mostly")
        image = card.find_element(By.CSS_SELECTOR, "img.thumb")
        assert image.get_attribute("src").endswith("/static/placeholder.svg")
        assert "is missing" in card.find_element(By.CSS_SELECTOR, ".problem").text
    browser.get(f"{server.url}/video/{gone}?t=2")
    problem = browser.find_element(By.ID, "player-problem")
    assert problem.is_displayed() and "gone.mp4 is missing" in problem.text
    assert not browser.find_elements(By.TAG_NAME, "video")
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.scene")) == 2
    assert "Traceback" not in browser.page_source
    assert server.get(f"/video/{gone}")[0] == 200
    assert server.get(f"/media/0/{gone}")[0] == 404
    status, headers, _ = server.get(f"/thumb/0/{gone}/0")
    assert (status, headers["content-type"]) == (200, "image/svg+xml")  # the placeholder


def test_only_files_the_index_names_are_served(server, indexed) -> None:
    named = keys(indexed["index"])
    narrated = indexed["narrated"].read_bytes()
    status, headers, body = server.get(f"/media/0/{named['narrated']}", Range="bytes=100-1099")
    assert (status, headers["content-range"]) == (206, f"bytes 100-1099/{len(narrated)}")
    assert body == narrated[100:1100]  # ranges: the browser can seek
    status, _, body = server.get(f"/media/0/{named['linked']}")
    assert status == 403 and b"outside its folder" in body  # a link out of its folder
    for path in ("/media/0/../../../../etc/passwd", "/media/0/%2Fetc%2Fpasswd",
                 "/media/0//etc/passwd", "/media/0/..%2F..%2Fetc%2Fpasswd",
                 f"/media/0/{named['narrated']}/../../x", "/media/1/" + named["narrated"],
                 "/static/../app.py", "/static/..%2Fapp.py", "/static/%2Fetc%2Fpasswd",
                 f"/thumb/0/{named['narrated']}/99", "/thumb/0/../../etc/passwd/0",
                 "/media/0/nokey", "/video/" + "..%2F" * 3 + "etc"):  # fmt: skip
        status, _, body = server.get(path)
        assert status in (403, 404), path
        assert b"root:" not in body and b"import" not in body, path
    assert server.get("/static/ui.css")[0] == 200


def test_every_user_string_is_shown_as_text(server, browser) -> None:
    from urllib.parse import quote

    from selenium.webdriver.common.by import By

    attack = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"
    browser.get(f"{server.url}/?q={quote(attack)}")
    assert browser.find_element(By.CSS_SELECTOR, "q.query").text == attack
    assert browser.find_element(By.NAME, "q").get_attribute("value") == attack
    browser.get(f"{server.url}/?q=key&video={quote(attack)}")
    assert attack in browser.find_element(By.CSS_SELECTOR, ".error").text  # --video: no such
    assert browser.execute_script("return window.pwned") is None
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img[src='x']")


def test_ui_help_imports_neither_torch_nor_the_web_packages(tmp_path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json, sys\nfrom egorag_core.cli import main\n"
        "try:\n    main(['ui', '--help'])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = [m for m in ('torch', 'starlette', 'uvicorn', 'jinja2', 'lancedb')"
        " if m in sys.modules]\nprint(json.dumps({'code': code, 'heavy': heavy}))\n")
    proc = subprocess.run([sys.executable, str(probe)], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "usage: egorag ui" in proc.stdout
    assert json.loads(proc.stdout.splitlines()[-1]) == {"code": 0, "heavy": []}, proc.stderr


def test_bad_starts_are_one_line(tmp_path) -> None:
    for args, words in ((["--index", str(tmp_path / "none")], "--index"),
                        (["--sweep", str(tmp_path)], "no run_report.json")):  # fmt: skip
        proc = run_cli("ui", *args, env=cli_env(EGORAG_PLUGINS=PLUGINS), timeout=60)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and words in lines[0], proc.stderr


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """``egorag --multirun`` over text=minilm,none on bikes.mp4 and bigbuckbunny.mp4, and two
    questions (``queries.json`` beside the output folder)."""
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "queries.json").write_text(json.dumps([
        {"query": "a grey street", "video": "bikes", "start": 0.0, "end": 2.5},
        {"query": "the rabbit", "video": "bigbuckbunny", "start": 0.0, "end": 2.5}]))
    listing = folder / "videos.json"
    listing.write_text(json.dumps([{"path": str(sample_video(n)), "name": n.split(".")[0]}
                                   for n in ("bikes.mp4", "bigbuckbunny.mp4")]))  # fmt: skip
    proc = run_cli("--multirun", "scenes=fixed", "scenes.seconds=2.5", "video=colorhist",
                   "caption=colorname", "audio=none", "text=minilm,none", "progress=false",
                   f"input={listing}", f"output_dir={folder / 'out'}",
                   env=cli_env(EGORAG_PLUGINS=PLUGINS), timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder / "out"


def test_the_sweep_page_compares_the_jobs_and_searches_each(sweep, browser, shots) -> None:
    from selenium.webdriver.common.by import By

    queries = sweep.parent / "queries.json"
    running = Server("--sweep", str(sweep), "--queries", str(queries), plugins=PLUGINS)
    try:
        browser.get(running.url + "/")  # the sweep page
        rows = browser.find_elements(By.CSS_SELECTOR, "table.compare tbody tr")
        assert sorted(r.find_elements(By.TAG_NAME, "td")[1].text for r in rows) == [
            "text=minilm", "text=none"]  # egorag compare's table: the override that differs
        header = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "table.compare th")]
        assert header[-2:] == ["recall@5", "mrr"]  # with --queries, each job's recall
        assert wait_for(browser, "var i = document.querySelector('img.chart'); "
                        "return i && i.complete && i.naturalWidth") == 1000  # compare.png
        caption = lancedb.connect(str(next(sweep.glob("*/index")))).open_table(
            "scenes").to_arrow().column("caption_text")[0].as_py()  # "mostly grey"
        box = browser.find_element(By.NAME, "q")
        box.send_keys(caption)
        box.submit()
        jobs = wait_for(browser, "var j = document.querySelectorAll('section.job'); "
                        "return j.length ? j : null")  # fmt: skip
        assert [j.find_element(By.TAG_NAME, "h2").text for j in jobs] == [
            "text=minilm", "text=none"]  # fmt: skip
        lists = [j.find_elements(By.CSS_SELECTOR, "article.card") for j in jobs]
        assert all(lists)  # the same query answered by each job's index
        modalities = [c.find_element(By.CSS_SELECTOR, ".modality").text for c in lists[0]]
        assert any("text" in m for m in modalities)  # minilm's job has text vectors
        assert all("text" not in c.find_element(By.CSS_SELECTOR, ".modality").text
                   for c in lists[1])  # the other has none  # fmt: skip
        shoot(browser, shots / "ui-sweep.png", 1500)
    finally:
        running.stop()
    assert "Traceback" not in running.stderr, running.stderr[-3000:]
