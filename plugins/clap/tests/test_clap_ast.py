"""AST sound events through the real transformers classes with a tiny random-weight model."""

import json

import pytest
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


def test_windows_of_several_scenes_share_a_pass(bunny, batch_scenes, egorag_component,
                                                egorag_job, forward_sizes):
    ast = egorag_component("audio/events", "ast", threshold=0.0, top_k=50, batch_size=4)
    scenes = batch_scenes
    with egorag_job(bunny, scenes) as job:
        with ast.model(job) as (model, extractor):
            sizes = forward_sizes(model, "input_values")
            per_scene = [len(ast.chunks(extractor, job.scene_audio(i))[0]) for i in range(5)]
        ast.process(job)
        batched, batched_sizes = [r.extras["events"] for r in job.results], list(sizes)
        sizes.clear()
        for i in range(len(scenes)):  # the reference: one scene per process call
            ast.process(job.window(range(i, i + 1), job.frames))
    assert per_scene == [1, 1, 0, 1, 2]
    assert batched_sizes == [4, 1]
    assert sizes == [1, 1, 1, 2]
    assert ast.stats() == {"ast_passes": 6}
    assert batched[2] == [] and job.results[2].extras["events"] == []
    for events, result in zip(batched, job.results, strict=True):
        reference = result.extras["events"]
        assert [(e["label"], e["start"], e["end"]) for e in events] == [
            (e["label"], e["start"], e["end"]) for e in reference
        ]
        assert [e["score"] for e in events] == pytest.approx([e["score"] for e in reference],
                                                             abs=2e-4)
    assert all(batched[i] for i in (0, 1, 3, 4))
