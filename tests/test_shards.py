"""Shards of a long video (``executor.shard_minutes``) without Ray: how scenes are cut into
parts, and a sharded run on local threads giving the index an unsharded run gives; executor
settings that cannot run are one line each."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import FAST, REPO, cli_env, compose_and_run

from egorag_core import VideoDataset
from egorag_core.config import ExecutorConfig
from egorag_core.data import Scene
from egorag_core.errors import ConfigError
from egorag_core.executor import RAY_MISSING
from egorag_core.media import VideoFrames
from egorag_core.ray_executor import check_fits
from egorag_core.report import merge_counters
from egorag_core.shards import check_sharding, plan_parts
from egorag_core.store import LanceStore
from egorag_core.testing import make_video


def scenes_every(seconds: float, count: int) -> list[Scene]:
    return [Scene(i * seconds, (i + 1) * seconds) for i in range(count)]


def test_parts_are_contiguous_runs_of_scenes_with_clipped_context():
    scenes = scenes_every(2.5, 12)  # 30 s
    parts = plan_parts(scenes, 7.5, overlap=4.0)
    assert [len(p.scenes) for p in parts] == [3, 3, 3, 3]
    assert [s for p in parts for s in p.scenes] == scenes
    first, second, last = parts[0], parts[1], parts[-1]
    assert (first.before, first.audio_start) == ((), 0.0)
    assert first.after == (Scene(7.5, 10.0), Scene(10.0, 11.5)) and first.audio_end == 11.5
    assert second.before == (Scene(3.5, 5.0), Scene(5.0, 7.5)) and second.audio_start == 3.5
    assert (last.after, last.audio_end) == ((), None)  # to the end of the track


def test_a_short_last_part_joins_the_one_before():
    parts = plan_parts(scenes_every(1.0, 11), 5.0, overlap=0.0)
    assert [len(p.scenes) for p in parts] == [5, 6]
    assert plan_parts(scenes_every(1.0, 3), 5.0, 1.0)[0].audio_end is None  # one part: whole


def test_shard_settings_that_cannot_work_are_one_line():
    with pytest.raises(ConfigError, match="audio/speakers=none or executor.shard_minutes=null"):
        check_sharding(ExecutorConfig(shard_minutes=5), ["video", "audio.asr", "audio.speakers"])
    with pytest.raises(ConfigError, match="executor.shard_minutes must be positive"):
        check_sharding(ExecutorConfig(shard_minutes=0), ["video"])
    check_sharding(ExecutorConfig(), ["audio.speakers"])  # off: anything goes


def test_workers_that_do_not_fit_the_cluster_name_the_options():
    config = ExecutorConfig(name="ray", workers=3, num_cpus_per_worker=1.0, num_gpus_per_worker=1)
    with pytest.raises(ConfigError, match="need 3 CPUs, the Ray cluster has 2") as err:
        check_fits(config, {"CPU": 2.0})
    assert "executor.workers" in str(err.value) and "executor.num_cpus_per_worker" in str(err.value)
    with pytest.raises(ConfigError, match="need 3 GPUs, the Ray cluster has 0"):
        check_fits(config, {"CPU": 8.0})


def test_worker_counters_are_summed_and_maxima_kept():
    merged = merge_counters([{"calls": 2, "largest_window": 4, "mode": "video"},
                             {"calls": 3, "largest_window": 7, "mode": "video"}, {}])  # fmt: skip
    assert merged == {"calls": 5, "largest_window": 7, "mode": "video"}


BLOCK_RAY = """
import importlib.abc, sys
class NoRay(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'")
sys.meta_path.insert(0, NoRay())
from egorag_core.cli import main
sys.argv = ["egorag", *sys.argv[1:]]
main()
"""


def test_executor_ray_without_ray_is_one_line_exit_2(tmp_path, noaudio_video):
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_RAY, *FAST, "executor=ray", f"input={noaudio_video}",
         f"output_dir={tmp_path / 'out'}"],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert lines == [f"egorag: {RAY_MISSING}"]


@pytest.mark.parametrize("given", [False, True], ids=["split", "precomputed"])
def test_sharded_on_local_threads_same_index(tmp_path, given):
    """Twelve 1 s scenes in shards of 3 s on two threads, scenes found by one task first
    (or given in the input): the same scenes and vectors as unsharded."""
    colours = ["red", "green", "blue", "yellow", "white", "black"] * 2
    video = make_video(tmp_path / "long.mp4", [(f"color=c={c}", 1.0) for c in colours])
    entry: dict = {"path": str(video), "name": "long"}
    if given:
        entry["scenes"] = [[i, i + 1] for i in range(12)]
    (tmp_path / "v.json").write_text(json.dumps([entry]))
    dataset = VideoDataset.from_json(tmp_path / "v.json")
    args = [*FAST, "scenes=fixed", "scenes.seconds=1"]
    whole = compose_and_run(args, dataset, tmp_path / "whole")
    before = VideoFrames.opens_total
    sharded = compose_and_run([*args, "executor.shard_minutes=0.05", "max_workers=2"], dataset,
                              tmp_path / "sharded")  # fmt: skip
    assert VideoFrames.opens_total - before == 4 + (0 if given else 1)  # 4 parts (+ the split)
    assert whole.failed == sharded.failed == 0
    (a,) = LanceStore(tmp_path / "whole" / "index").read()
    (b,) = LanceStore(tmp_path / "sharded" / "index").read()
    assert len(a.scenes) == 12 and a.scenes == b.scenes
    captions = [e.caption_text for e in a.scene_embeddings]
    assert captions == [e.caption_text for e in b.scene_embeddings]
    for ea, eb in zip(a.scene_embeddings, b.scene_embeddings, strict=True):
        np.testing.assert_allclose(ea.video, eb.video, atol=1e-6)
    np.testing.assert_allclose(a.global_embeddings["video"], b.global_embeddings["video"],
                               atol=1e-6)  # fmt: skip
    (record,) = sharded.report.videos
    assert record.scenes == 12 and record.frames_needed == whole.report.videos[0].frames_needed
