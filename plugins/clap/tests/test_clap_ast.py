"""AST sound events through the real transformers classes with a tiny random-weight model."""

import json

from egorag_core.data import Scene

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


def test_events_have_config_labels_and_scene_times(bunny, egorag_component, egorag_job):
    ast = egorag_component("audio/events", "ast", threshold=0.0, top_k=50)
    assert isinstance(ast, ASTEvents)
    spec = ast.models()[0]
    assert spec.random_weights and spec.key.startswith("ast:")
    scenes = [Scene(0.0, 1.0), Scene(1.0, 5.0)]
    with egorag_job(bunny, scenes) as job:
        ast.process(job)
        with ast.model(job) as (model, extractor):
            scores, spans = ast.scores(model, extractor, job.scene_audio(1))
    assert job.scheduler.load_counts() == {spec.key: 1}
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


def test_empty_scene_has_no_events(bunny, egorag_component, egorag_job):
    ast = egorag_component("audio/events", "ast")
    with egorag_job(bunny) as job, ast.model(job) as (model, extractor):
        assert ast.events(model, extractor, None, 0.0) == []
