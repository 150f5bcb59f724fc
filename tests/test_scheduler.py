"""The model scheduler with small real torch.nn modules."""

from __future__ import annotations

import weakref

import pytest

torch = pytest.importorskip("torch")

from egorag_core import scheduler as scheduler_module  # noqa: E402
from egorag_core.scheduler import ModelScheduler, ModelSpec, model_bytes  # noqa: E402

LINEAR_BYTES = (10 * 20 + 20) * 4  # Linear(10, 20) float32 weights + bias


class Loader:
    """Builds a fresh Linear(10, 20) per call and remembers each instance."""

    def __init__(self):
        self.built: list[torch.nn.Module] = []
        self.devices: list[str] = []

    def __call__(self, device: str) -> torch.nn.Module:
        self.devices.append(device)
        module = torch.nn.Linear(10, 20).to(device)
        self.built.append(module)
        return module


def spec(key: str, loader: Loader, estimated: int = LINEAR_BYTES) -> ModelSpec:
    return ModelSpec(key, loader, model_id=f"id/{key}", estimated_bytes=estimated)


def test_same_key_is_one_instance_loaded_once():
    loader_a, loader_b = Loader(), Loader()
    sched = ModelScheduler("cpu")
    with sched.use(spec("m", loader_a)) as first:
        with sched.use(spec("m", loader_b)) as second:
            assert first is second
    with sched.use(spec("m", loader_b)) as third:
        assert third is first
    assert isinstance(first, torch.nn.Linear)
    assert len(loader_a.built) == 1 and loader_b.built == []
    assert sched.load_counts() == {"m": 1}
    assert loader_a.devices == ["cpu"]


def test_different_keys_are_different_instances():
    loader = Loader()
    sched = ModelScheduler("cpu")
    with sched.use(spec("a", loader)) as a, sched.use(spec("b", loader)) as b:
        assert a is not b
    assert sched.load_counts() == {"a": 1, "b": 1}


def test_budget_that_fits_keeps_models_resident():
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=10 * LINEAR_BYTES)
    a, b = spec("a", loader), spec("b", loader)
    sched.plan([("video", [a]), ("text", [b])])
    assert sched.keeps_models_resident
    for _video in range(3):
        with sched.use(a):
            pass
        assert sched.stage_done("video") == []
        with sched.use(b):
            pass
        assert sched.stage_done("text") == []
        assert sorted(sched.resident_keys) == ["a", "b"]
    assert sched.load_counts() == {"a": 1, "b": 1}
    assert sched.stats["a"].releases == 0


def test_last_video_releases_each_model_after_its_last_stage():
    """Resident across videos while another may follow; in the last, released as it ends."""
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=10 * LINEAR_BYTES)
    a, b = spec("a", loader), spec("b", loader)
    sched.plan([("audio.asr", [a]), ("video", [b]), ("text", [b])])
    with sched.use(a):
        pass
    assert sched.stage_done("audio.asr") == []  # a next video would need it
    sched.last_video()
    with sched.use(b):
        assert sched.stage_done("audio.asr") == ["a"]
    assert sched.stage_done("video") == []  # the text stage still needs b
    assert sched.stage_done("text") == ["b"] and sched.resident_keys == []
    assert sched.load_counts() == {"a": 1, "b": 1}


def test_unlimited_budget_keeps_models_resident():
    sched = ModelScheduler("cpu", budget_bytes=None)
    sched.plan([("video", [spec("a", Loader(), estimated=10**15)])])
    assert sched.keeps_models_resident


def test_tiny_budget_releases_after_last_stage_that_needs_it():
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=1)
    a, b = spec("a", loader), spec("b", loader)
    sched.plan([("video", [a]), ("text", [b])])
    assert not sched.keeps_models_resident
    with sched.use(a):
        pass
    assert sched.resident_keys == ["a"]
    assert sched.stage_done("video") == ["a"]
    assert sched.resident_keys == []
    assert sched.stats["a"].releases == 1
    # the next video loads it again
    with sched.use(a):
        pass
    assert sched.stats["a"].loads == 2


def test_tiny_budget_shares_model_across_stages():
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=1)
    shared_video = spec("qwen", loader)
    shared_caption = spec("qwen", Loader())
    other = spec("text", loader)
    sched.plan([("video", [shared_video]), ("caption", [shared_caption]), ("text", [other])])
    with sched.use(shared_video) as m1:
        pass
    assert sched.stage_done("video") == []  # caption needs the same key
    assert "qwen" in sched.resident_keys
    with sched.use(shared_caption) as m2:
        assert m2 is m1
    assert sched.stage_done("caption") == ["qwen"]
    assert "qwen" not in sched.resident_keys
    with sched.use(other):
        pass
    assert sched.stage_done("text") == ["text"]
    assert sched.load_counts() == {"qwen": 1, "text": 1}
    assert sched.resident_keys == []


def test_marked_during_use_released_when_last_user_exits():
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=1)
    a = spec("a", loader)
    sched.plan([("video", [a]), ("text", [])])
    with sched.use(a):
        with sched.use(a):
            assert sched.stage_done("video") == []
            assert sched.resident_keys == ["a"]
        assert sched.resident_keys == ["a"]  # one user left
    assert sched.resident_keys == []
    assert sched.stats["a"].releases == 1
    assert sched.stats["a"].loads == 1


def test_acquire_again_cancels_pending_release():
    sched = ModelScheduler("cpu", budget_bytes=1)
    a = spec("a", Loader())
    sched.plan([("video", [a])])
    with sched.use(a):
        sched.stage_done("video")
    assert sched.resident_keys == []
    with sched.use(a):
        sched.stage_done("video")
        with sched.use(a):
            pass  # re-acquired while marked: stays until the last user exits
        assert sched.resident_keys == ["a"]


def watch_trims(monkeypatch: pytest.MonkeyPatch, loader: Loader) -> list[bool]:
    """Whether the model ``loader`` built last was still alive at each heap trim."""
    ref = weakref.ref(loader.built.pop())
    alive: list[bool] = []
    monkeypatch.setattr(scheduler_module, "trim_heap", lambda: alive.append(ref() is not None))
    return alive


def test_released_model_is_freed_before_the_heap_is_trimmed(monkeypatch):
    """A model stage_done releases is unreachable when the heap is collected and trimmed, so
    the trim gives its memory back (a reference left in the scheduler kept it until later)."""
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=1)
    a = spec("a", loader)
    sched.plan([("video", [a])])
    with sched.use(a):
        pass
    alive_at_trim = watch_trims(monkeypatch, loader)
    assert sched.stage_done("video") == ["a"]
    assert alive_at_trim == [False]


def test_model_released_by_its_last_user_is_freed_before_the_trim(monkeypatch):
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=1)
    a = spec("a", loader)
    sched.plan([("video", [a])])
    with sched.use(a):
        alive_at_trim = watch_trims(monkeypatch, loader)
        assert sched.stage_done("video") == []  # in use: released as the block exits
    assert sched.resident_keys == []
    assert alive_at_trim == [True, False]  # the stage's trim, then the release's


def test_make_room_evicts_idle_models_to_fit_budget():
    loader = Loader()
    sched = ModelScheduler("cpu", budget_bytes=2 * LINEAR_BYTES)
    a, b, c = spec("a", loader), spec("b", loader), spec("c", loader)
    with sched.use(a), sched.use(b):
        pass
    assert sorted(sched.resident_keys) == ["a", "b"]
    with sched.use(c):
        assert sorted(sched.resident_keys) == ["b", "c"]  # oldest idle one went
    assert sched.resident_bytes <= sched.budget_bytes
    assert sched.peak_resident_bytes == 2 * LINEAR_BYTES


def test_release_all():
    sched = ModelScheduler("cpu")
    a, b = spec("a", Loader()), spec("b", Loader())
    with sched.use(a):
        pass
    with sched.use(b):
        sched.release_all()
        assert sched.resident_keys == ["b"]  # in use: kept until done
    assert sched.resident_keys == []
    assert sched.stats["a"].releases == 1
    assert sched.stats["b"].releases == 1


def test_report_fields():
    sched = ModelScheduler("cpu", budget_bytes=123456)
    s = ModelSpec("k", Loader(), model_id="org/model", estimated_bytes=5, random_weights=True)
    sched.plan([("video", [s])])
    with sched.use(s):
        pass
    report = sched.report()
    assert report["device"] == "cpu"
    assert report["budget_bytes"] == 123456
    assert report["models_kept_resident"] is True
    assert report["peak_resident_bytes"] == LINEAR_BYTES
    model = report["models"]["k"]
    assert model["model_id"] == "org/model"
    assert model["random_weights"] is True
    assert model["loads"] == 1
    assert model["releases"] == 0
    assert model["bytes"] == LINEAR_BYTES
    assert isinstance(model["load_seconds"], float) and model["load_seconds"] >= 0


def test_model_bytes_measures_parameters_and_buffers():
    linear = torch.nn.Linear(10, 20)
    assert model_bytes(linear) == LINEAR_BYTES
    assert model_bytes(linear.half()) == LINEAR_BYTES // 2
    norm = torch.nn.BatchNorm1d(8)  # 16 params + running mean/var (16) + num_batches (int64)
    assert model_bytes(norm) == 16 * 4 + 16 * 4 + 8
    linear = torch.nn.Linear(10, 20)
    assert model_bytes((linear, "a processor")) == LINEAR_BYTES
    assert model_bytes({"m": linear, "n": torch.nn.Linear(1, 1)}) == LINEAR_BYTES + 8
    assert model_bytes([linear, linear]) == 2 * LINEAR_BYTES

    class Wrapper:
        model = torch.nn.Linear(10, 20)

    assert model_bytes(Wrapper()) == LINEAR_BYTES
    assert model_bytes("not a model") == 0


def test_unused_model_with_no_stats_falls_back_to_estimate():
    sched = ModelScheduler("cpu")
    s = ModelSpec("plain", lambda device: object(), estimated_bytes=777)
    with sched.use(s):
        pass
    assert sched.stats["plain"].bytes == 777
