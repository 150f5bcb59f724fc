"""End to end through the egorag CLI: speech video -> transcripts in the LanceDB index."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EGORAG = Path(sys.executable).with_name("egorag")
ROOT = Path(__file__).resolve().parents[3]  # the repo: conf/preset/tiny.yaml


@pytest.mark.slow
def test_cli_indexes_scene_transcripts(tmp_path, speech_video):
    if not EGORAG.exists() and shutil.which("egorag") is None:
        pytest.skip("egorag CLI not installed")
    video, _ = speech_video
    out = tmp_path / "out"
    cmd = [str(EGORAG if EGORAG.exists() else "egorag"), "preset=tiny",
           "scenes=fixed", "scenes.seconds=3.5", "video=none",
           "caption=none", "audio/embedding=none", "text=none", f"input={video}",
           f"output_dir={out}", f"models.cache_dir={tmp_path / 'cache'}", "progress=false"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "run_report.json").read_text())
    asr_loads = [n for k, n in report["model_loads"].items() if k.startswith("faster-whisper")]
    assert asr_loads == [1]
    assert report["stages"]["audio.asr"]["stats"]["transcribe_calls"] == 1
    import lancedb

    scenes = lancedb.connect(str(out / "index")).open_table("scenes").to_pandas()
    text = " ".join(scenes.sort_values("start")["transcript"]).lower()
    assert "fox" in text and "kitchen" in text
    for _, row in scenes.iterrows():
        for word in json.loads(row["extras"]).get("words", []):
            assert row["start"] - 0.5 <= word["start"] <= row["end"] + 0.5


@pytest.mark.slow
def test_cli_scene_text_embedding_holds_its_transcript(tmp_path, speech_video):
    """ASR + text=minilm through the CLI: each scene's transcript has its own sentence's words,
    and its text vector is MiniLM of "Transcript: <that transcript>. Visuals: <caption>"."""
    minilm = pytest.importorskip("egorag_minilm.encoder")
    from sentence_transformers import SentenceTransformer

    video, scenes = speech_video
    out = tmp_path / "out"
    cmd = [str(EGORAG if EGORAG.exists() else "egorag"), "preset=tiny",
           "scenes=fixed", "scenes.seconds=3.5", "video=none", "caption=none",
           "audio/embedding=none", "text=minilm", f"input={video}", f"output_dir={out}",
           f"models.cache_dir={tmp_path / 'cache'}", "progress=false"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import lancedb
    import numpy as np

    rows = lancedb.connect(str(out / "index")).open_table("scenes").to_pandas()
    rows = rows.sort_values("start").reset_index(drop=True)
    assert len(rows) == len(scenes)
    expected_words = ["fox", "tea", "sunny", "kitchen"]  # one per sentence, in scene order
    model = SentenceTransformer(minilm.packaged_model_path(), device="cpu")
    texts = [f"Transcript: {t.strip()}. Visuals: " for t in rows["transcript"]]
    want = model.encode(texts)
    for i, row in rows.iterrows():
        assert expected_words[i] in row["transcript"].lower(), row["transcript"]
        np.testing.assert_allclose(np.asarray(row["text_vector"]), want[i], atol=1e-5)
