"""End to end through the egorag CLI: speech video -> transcripts in the LanceDB index."""

import json

import pytest


@pytest.mark.slow
def test_cli_indexes_scene_transcripts(run_egorag, speech_video):
    video, _ = speech_video
    result = run_egorag("scenes=fixed", "scenes.seconds=3.5", "video=none", "caption=none",
                        "audio/embedding=none", "text=none", input=video, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = result.report
    asr_loads = [n for k, n in report["model_loads"].items() if k.startswith("faster-whisper")]
    assert asr_loads == [1]
    assert report["stages"]["audio.asr"]["stats"]["transcribe_calls"] == 1
    import lancedb

    scenes = lancedb.connect(str(result.output_dir / "index")).open_table("scenes").to_pandas()
    text = " ".join(scenes.sort_values("start")["transcript"]).lower()
    assert "fox" in text and "kitchen" in text
    for _, row in scenes.iterrows():
        for word in json.loads(row["extras"]).get("words", []):
            assert row["start"] - 0.5 <= word["start"] <= row["end"] + 0.5


@pytest.mark.slow
def test_cli_scene_text_embedding_holds_its_transcript(run_egorag, speech_video):
    """ASR + text=minilm through the CLI: each scene's transcript has its own sentence's words,
    and its text vector is MiniLM of "Transcript: <that transcript>. Visuals: <caption>"."""
    minilm = pytest.importorskip("egorag_minilm.encoder")
    from sentence_transformers import SentenceTransformer

    video, scenes = speech_video
    result = run_egorag("scenes=fixed", "scenes.seconds=3.5", "video=none", "caption=none",
                        "audio/embedding=none", "text=minilm", input=video, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    import lancedb
    import numpy as np

    rows = lancedb.connect(str(result.output_dir / "index")).open_table("scenes").to_pandas()
    rows = rows.sort_values("start").reset_index(drop=True)
    assert len(rows) == len(scenes)
    expected_words = ["fox", "tea", "sunny", "kitchen"]  # one per sentence, in scene order
    model = SentenceTransformer(minilm.packaged_model_path(), device="cpu")
    texts = [f"Transcript: {t.strip()}. Visuals: " for t in rows["transcript"]]
    want = model.encode(texts)
    for i, row in rows.iterrows():
        assert expected_words[i] in row["transcript"].lower(), row["transcript"]
        np.testing.assert_allclose(np.asarray(row["text_vector"]), want[i], atol=1e-5)
