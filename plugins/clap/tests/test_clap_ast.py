"""AST sound events through the real transformers classes with a tiny random-weight model."""

import json

from egorag_core.data import Scene
from egorag_core.scheduler import ModelScheduler
from egorag_core.testing import open_job

from egorag_clap.ast import ASTEvents, merge_events


def test_merge_events_joins_consecutive_windows():
    per_window = [[("Speech", 0.9), ("Music", 0.4)], [("Speech", 0.8)], [("Music", 0.5)]]
    spans = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]
    assert merge_events(per_window, spans, top_k=5) == [
        {"label": "Speech", "score": 0.9, "start": 0.0, "end": 2.0},
        {"label": "Music", "score": 0.5, "start": 2.0, "end": 3.0},
        {"label": "Music", "score": 0.4, "start": 0.0, "end": 1.0},
    ]
    assert len(merge_events(per_window, spans, top_k=1)) == 1


def test_events_have_config_labels_and_scene_times(bunny, tiny_settings):
    ast = ASTEvents({"name": "ast", "threshold": 0.0, "top_k": 50}, tiny_settings)
    ast.check()
    spec = ast.models()[0]
    assert spec.random_weights
    scheduler = ModelScheduler("cpu")
    scenes = [Scene(0.0, 1.0), Scene(1.0, 5.0)]
    with open_job(bunny, scenes, scheduler=scheduler, settings=tiny_settings) as job:
        ast.process(job)
        model, extractor = scheduler.acquire(spec)
        scores, spans = ast.scores(model, extractor, job.scene_audio(1))
    assert scores.shape == (len(spans), model.config.num_labels)
    window_s = extractor.max_length * 0.01
    assert len(spans) == 2 and abs(spans[0][1] / 16000 - window_s) < 1e-6
    labels = set(model.config.id2label.values())
    for scene, result in zip(scenes, job.results, strict=True):
        events = result.extras["events"]
        json.dumps(events)
        assert events and {e["label"] for e in events} <= labels
        for e in events:
            assert scene.start <= e["start"] < e["end"] <= scene.end + 1e-3
            assert 0.0 <= e["score"] <= 1.0


def test_empty_scene_has_no_events(tiny_settings):
    ast = ASTEvents({}, tiny_settings)
    model, extractor = ModelScheduler("cpu").acquire(ast.models()[0])
    assert ast.events(model, extractor, None, 0.0) == []
