"""``egorag ui`` without a browser: keyframe times in the index, which files may be served,
escaping and marking of text, the start-up lines, and the video page's timeline (transcript
lines with speakers, sound events, OCR lines) served from an index written by the store."""

from __future__ import annotations

import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from egorag_core.data import Scene, SceneEncoding, VideoDatapoint
from egorag_core.store import LanceStore
from egorag_core.testing import make_video
from egorag_core.ui.catalog import SceneView, servable
from egorag_core.ui.server import banner
from egorag_core.ui.text import excerpt, marked


def test_keyframe_times_are_stored_and_read_back_also_beside_an_older_index(tmp_path) -> None:
    db = lancedb.connect(str(tmp_path))  # scenes as an index before keyframe times were kept
    db.create_table("scenes", data=pa.table({
        "key": ["old-1"], "video_name": ["old"], "video_path": ["/old.mp4"],
        "scene_index": pa.array([0], pa.int32()), "start": [0.0], "end": [1.0],
        "transcript": [""], "caption_text": [""], "extras": ["{}"]}))  # fmt: skip
    store = LanceStore(tmp_path)
    point = VideoDatapoint("/new.mp4", "new", scenes=[Scene(0, 2), Scene(2, 4)],
                           scene_embeddings=[SceneEncoding(keyframe_times=[0.5, 1.5]),
                                             SceneEncoding()],
                           has_audio=False, duration=4.0)  # fmt: skip
    store.commit("new-1", point, "c", "f", {})
    rows = store.table("scenes").to_arrow().select(["key", "keyframe_times"]).to_pylist()
    assert rows == [{"key": "old-1", "keyframe_times": None},
                    {"key": "new-1", "keyframe_times": [0.5, 1.5]},
                    {"key": "new-1", "keyframe_times": []}]  # fmt: skip
    (read,) = store.read()
    assert [e.keyframe_times for e in read.scene_embeddings] == [[0.5, 1.5], []]


def test_a_thumbnail_is_taken_at_the_middle_keyframe_else_the_middle_of_the_scene() -> None:
    scene = SceneView(1, 10.0, 20.0, "", "", [], [11.0, 14.0, 19.0])
    assert scene.thumb_time == 14.0
    assert SceneView(1, 10.0, 20.0, "", "", [], []).thumb_time == 15.0
    assert SceneView(1, 10.0, 20.0, "", "", [], [3.0]).thumb_time == 15.0  # not in the scene


def test_only_plain_files_inside_their_own_folder_are_served(tmp_path) -> None:
    videos, elsewhere = tmp_path / "videos", tmp_path / "elsewhere"
    videos.mkdir()
    elsewhere.mkdir()
    (videos / "a.mp4").write_bytes(b"a")
    (elsewhere / "secret.txt").write_text("secret")
    (videos / "sub").mkdir()
    (videos / "sub" / "b.mp4").write_bytes(b"b")
    (videos / "in.mp4").symlink_to(videos / "sub" / "b.mp4")  # a link that stays inside
    (videos / "out.mp4").symlink_to(elsewhere / "secret.txt")
    (tmp_path / "linked").symlink_to(videos, target_is_directory=True)  # a linked folder
    assert servable(str(videos / "a.mp4")).path == videos / "a.mp4"
    assert servable(str(videos / "in.mp4")).path == videos / "sub" / "b.mp4"
    assert servable(str(tmp_path / "linked" / "a.mp4")).path == videos / "a.mp4"
    for named, words in ((videos / "out.mp4", "outside its folder"),
                         (f"{videos}/sub/../../elsewhere/secret.txt", "'..'"),
                         (videos / "gone.mp4", "is missing"), (videos / "sub", "not a regular")):
        found = servable(str(named))
        assert found.path is None and words in found.problem, (named, found)


def test_text_is_escaped_and_the_query_words_marked() -> None:
    text = 'We parked the <b>car</b> & "left"'
    html = marked(text, "where did we PARK the car?")
    assert html == ("We <mark>parked</mark> the &lt;b&gt;<mark>car</mark>&lt;/b&gt; &amp; "
                    "&quot;left&quot;")  # fmt: skip
    assert marked("<script>x</script>", "script") == \
        "&lt;<mark>script</mark>&gt;x&lt;/<mark>script</mark>&gt;"  # fmt: skip
    long = " ".join(["word"] * 200 + ["garage"] + ["word"] * 200)
    cut = excerpt(long, "the garage", width=60)
    assert "garage" in cut and cut.startswith("...") and cut.endswith("...")
    assert len(cut) <= 66


def test_the_start_lines_say_where_and_warn_when_others_can_reach_it() -> None:
    local = banner("http://127.0.0.1:8000/", "index x", "127.0.0.1")
    assert local[1].startswith("egorag ui: open http://127.0.0.1:8000/")
    assert not any("anyone" in line for line in local)
    wide = banner("http://0.0.0.0:8000/", "index x", "0.0.0.0")
    assert "listening on 0.0.0.0, not 127.0.0.1: anyone who can reach" in wide[-1]


#: A scene as the speakers, events and OCR stages leave it (extras as they store them).
DIARIZED = SceneEncoding(
    transcript="Where are the keys? On the hook.", caption_text="a hallway",
    ocr_text="EXIT\nROOM 5",
    extras={"speakers": [{"start": 0.4, "end": 1.6, "speaker": "SPEAKER_00",
                          "text": "Where are the keys?"},
                         {"start": 2.1, "end": 3.0, "speaker": "SPEAKER_01",
                          "text": "On the hook."}],
            "events": [{"label": "Door", "score": 0.41, "start": 0.0, "end": 1.0},
                       {"label": "Speech", "score": 0.93, "start": 0.0, "end": 3.0}]},
    keyframe_times=[1.0],
)  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str, Path]]:
    """An index written by the store (one diarized scene, one quiet one) on a real video,
    served by the app in this process: its address, the video's key, the index's folder."""
    import uvicorn

    from egorag_core.ui.app import create_app
    from egorag_core.ui.catalog import Catalog

    base = tmp_path_factory.mktemp("timeline")
    video = make_video(base / "hall.mp4", [("testsrc2", 3.0), ("smptebars", 3.0)])
    quiet = SceneEncoding(text=np.ones(4, np.float32) / 2)
    point = VideoDatapoint(str(video), "hall", scenes=[Scene(0, 3), Scene(3, 6)],
                           scene_embeddings=[DIARIZED, quiet], has_audio=True, duration=6.0)
    store = LanceStore(base / "index")
    store.commit("hall-1", point, "c", "f", {})
    long = VideoDatapoint(str(video), "long", scenes=[Scene(i, i + 1) for i in range(250)],
                          scene_embeddings=[SceneEncoding() for _ in range(250)],
                          has_audio=False, duration=250.0)  # fmt: skip
    store.commit("long-1", long, "d", "f", {})
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app([Catalog(base / "index")]),
                                           log_level="warning", lifespan="off"))  # fmt: skip
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", "hall-1", base
    server.should_exit = True
    thread.join(10)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_timeline_shows_speakers_events_and_text_read_in_frames(served) -> None:
    url, key, _ = served
    page = urllib.request.urlopen(f"{url}/video/{key}?t=4").read().decode()
    scenes = re.findall(r'<li class="scene[^"]*" id="scene-(\d+)"', page)
    assert scenes == ["0", "1"]
    first = text_of(page.split('id="scene-0"')[1].split('id="scene-1"')[0])
    assert "0:00.4 SPEAKER_00 Where are the keys?" in first
    assert "0:02.1 SPEAKER_01 On the hook." in first
    assert first.index("Speech 0.93") < first.index("Door 0.41")  # events, surest first
    assert "EXIT" in first and "ROOM 5" in first and "a hallway" in first
    assert 'class="scene current" id="scene-1"' in page  # ?t=4 is in the second scene
    assert f'src="/media/0/{key}#t=4.0"' in page


def test_a_long_video_shows_its_scenes_a_hundred_at_a_time(served) -> None:
    url, _, _ = served
    pages = {}
    for query in ("", "?t=150.5", "?page=2", "?page=9"):
        page = urllib.request.urlopen(f"{url}/video/long-1{query}").read().decode()
        pages[query] = [int(i) for i in re.findall(r'id="scene-(\d+)"', page)]
        assert ("earlier</a>" in page) == (pages[query][0] > 0), query
        assert ("later</a>" in page) == (pages[query][-1] < 249), query
        first, last = pages[query][0] + 1, pages[query][-1] + 1
        assert f"scenes {first}–{last} of 250" in page, query
    assert pages[""] == list(range(100))
    assert pages["?t=150.5"] == list(range(100, 200))  # the page holding that second
    assert pages["?page=2"] == pages["?page=9"] == list(range(200, 250))


def test_a_request_naming_another_host_is_refused(served) -> None:
    url, key, _ = served
    for host, status in (("attacker.example", 400), ("localhost:80", 200), ("127.0.0.1", 200)):
        request = urllib.request.Request(f"{url}/video/{key}", headers={"Host": host})
        try:
            code = urllib.request.urlopen(request).status
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code == status, host  # DNS rebinding: a page elsewhere cannot read this one


def test_a_link_in_the_thumbnail_cache_is_not_followed(served, tmp_path) -> None:
    url, key, base = served
    secret = tmp_path / "secret.txt"
    secret.write_text("not a thumbnail")
    cached = base / "ui-cache" / f"{key}-1.jpg"
    cached.symlink_to(secret)
    body = urllib.request.urlopen(f"{url}/thumb/0/{key}/1").read()
    assert body[:3] == b"\xff\xd8\xff"  # a JPEG decoded from the video, not the link's target
    assert not cached.is_symlink() and cached.read_bytes() == body
    assert secret.read_text() == "not a thumbnail"
