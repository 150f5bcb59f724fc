"""``executor=ray``: the encode step on long-lived Ray actors; the driver commits every video.

Each worker (:class:`EncodeWorker`, one Ray actor with ``executor.num_cpus_per_worker`` CPUs and
``executor.num_gpus_per_worker`` GPUs) builds the run's pipeline once, with its own model
scheduler, so every model loads once per worker, not once per video. It gets the driver's
``EGORAG_*``, ``HF_*`` and ``TRANSFORMERS_*`` environment (``runtime_env`` ``env_vars``: the same
plugins, offline or not) and runs one task at a time: a video, a scene split or one shard
(:mod:`egorag_core.dispatch`). It returns the task's result, never raising for a bad video.

Ray core actors, not Ray Data's ``map_batches`` with an actor pool, because they keep this
module small and the behaviour exact: the tasks are not a fixed dataset (a sharded video's
split decides how many shard tasks follow); results are Python objects (``EncodedVideo``) that
go straight to the driver, which commits each in input order as soon as it can, instead of
rows converted to Arrow blocks; and with one call in flight per actor, ``ray.wait`` says which
task a dead worker was running, so the worker is replaced and that task retried once, where
Ray Data would retry or fail whole blocks by its own rules.

Ray starts for the run (``ray.init`` with its temp folder in a temporary directory, removed
with Ray's shutdown at the end) unless this process already runs Ray or ``executor.address``
names a cluster to join; those are left running.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .executor import RAY_MISSING

if TYPE_CHECKING:
    from .config import ExecutorConfig, RunConfig
    from .dispatch import Task

log = logging.getLogger("egorag")

#: Environment variables the workers get from the driver (their prefixes).
FORWARDED_ENV = ("EGORAG_", "HF_", "TRANSFORMERS_", "TOKENIZERS_")
#: Times a task is retried after the worker running it died.
RETRIES = 1


def import_ray() -> Any:
    """``ray``, or :class:`ConfigError` naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_MISSING) from None
    return ray


def worker_env() -> dict[str, str]:
    """The driver's variables every worker must share (plugins, hub access, caches)."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class RaySession:
    """Ray for one run: the Ray this process already runs, else the cluster at ``address``,
    else a local one started here. :meth:`close` undoes only what was done here."""

    def __init__(self, config: ExecutorConfig):
        ray = import_ray()
        self.temp_dir: str | None = None
        self.connected = False
        if ray.is_initialized():
            return
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": True}
        try:
            with warnings.catch_warnings():  # Ray's fork_exec: lancedb warns in the driver
                warnings.filterwarnings("ignore", "lancedb fork", RuntimeWarning)
                if config.address:
                    ray.init(address=config.address, **quiet)
                else:
                    self.temp_dir = tempfile.mkdtemp(prefix="egorag-ray-")
                    ray.init(_temp_dir=self.temp_dir, include_dashboard=False, **quiet)
        except Exception as exc:
            self.close()
            where = f"executor.address={config.address}" if config.address else "executor=ray"
            raise ConfigError(f"{where}: Ray did not start ({_first_line(exc)})") from None
        self.connected = True

    def close(self) -> None:
        if self.connected:
            import ray

            ray.shutdown()
            self.connected = False
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            self.temp_dir = None


def check_fits(config: ExecutorConfig, resources: Mapping[str, float]) -> None:
    """Raise :class:`ConfigError` when the workers ask for more CPUs or GPUs than the
    cluster has."""
    for kind, per in (("CPU", config.num_cpus_per_worker), ("GPU", config.num_gpus_per_worker)):
        need, have = per * config.workers, float(resources.get(kind, 0.0))
        if need > have + 1e-9:
            option = f"executor.num_{kind.lower()}s_per_worker"
            raise ConfigError(
                f"executor=ray: executor.workers={config.workers} x {option}={per:g} need "
                f"{need:g} {kind}s, the Ray cluster has {have:g}: lower executor.workers or "
                f"{option}"
            )


class EncodeWorker:
    """One Ray actor: the run's pipeline built once (its own scheduler loads each model once),
    then tasks performed one at a time. A worker that cannot build it says why in
    :meth:`ready` and fails every task with that line."""

    def __init__(self, config: RunConfig, choices: Mapping[str, str], gpu_share: float):
        from .run import build_context

        self.tasks = 0
        self.error = ""
        self.context: Any = None
        try:
            self.context = build_context(config, choices, gpu_share=gpu_share)
        except Exception as exc:
            self.error = f"an executor=ray worker could not build the pipeline: {_first_line(exc)}"

    def ready(self) -> tuple[str, dict[str, Any]]:
        """The error that stopped the pipeline's build (empty when none), and :meth:`stats`."""
        return self.error, self.stats()

    def perform(self, task: Task) -> tuple[Any, dict[str, Any]]:
        """The task's result (an ``EncodeFailure`` for a bad video) and :meth:`stats`."""
        from .dispatch import perform
        from .run import EncodeFailure

        if self.context is None:
            return EncodeFailure(f"{task.record.video_path}: {self.error}"), self.stats()
        result = perform(self.context, task)
        self.tasks += 1
        return result, self.stats()

    def stats(self) -> dict[str, Any]:
        """What this worker did so far: tasks, model loads, stage counters, peak RSS."""
        import ray

        from .report import peak_rss_bytes

        context = self.context
        return {
            "pid": os.getpid(),
            "node": ray.util.get_node_ip_address(),
            "device": context.settings.device if context else "",
            "tasks": self.tasks,
            "model_loads": context.scheduler.load_counts() if context else {},
            "stage_stats": context.pipeline.stats() if context else {},
            "peak_resident_model_bytes": context.scheduler.peak_resident_bytes if context else 0,
            "peak_rss_bytes": peak_rss_bytes(),
        }


class RayExecutor:
    """``executor.workers`` :class:`EncodeWorker` actors, one task in flight on each; a worker
    that dies is replaced and its task retried :data:`RETRIES` time(s), then failed."""

    def __init__(self, config: RunConfig, choices: Mapping[str, str]):
        ray = import_ray()
        self._began = time.perf_counter()
        self.config = config.executor
        self.capacity = self.config.workers
        share = self.config.num_gpus_per_worker
        self._args = (dataclasses.replace(config, progress=False), dict(choices),
                      share if 0 < share < 1 else 1.0)  # fmt: skip
        self._session = RaySession(self.config)
        self._actors: list[Any] = [None] * self.capacity
        self._stats: dict[tuple[int, int], dict[str, Any]] = {}
        self._starts = [0] * self.capacity
        self._idle: list[int] = []
        self._queue: deque[tuple[Task, int]] = deque()
        self._running: dict[Any, tuple[int, Task, int]] = {}
        try:
            check_fits(self.config, ray.cluster_resources())
            self._class = ray.remote(EncodeWorker)
            self._start_all(ray)
        except BaseException:
            self.close()
            raise

    def _start_all(self, ray: Any) -> None:
        for slot in range(self.capacity):
            self._start(slot)
        try:
            answers = ray.get([actor.ready.remote() for actor in self._actors])
        except ray.exceptions.RayError as exc:  # died while starting (an import crashed...)
            detail = _first_line(exc)
            raise ConfigError(f"executor=ray: a worker did not start ({detail})") from None
        for slot, (error, stats) in enumerate(answers):
            if error:
                raise ConfigError(error)
            self._stats[(slot, 1)] = stats
        self._idle = list(range(self.capacity))
        where = ", ".join(f"pid {s['pid']} on {s['node']}" for s in self._stats.values())
        seconds = time.perf_counter() - self._began
        log.info("executor=ray: %d workers ready in %.1f s (%s)", self.capacity, seconds, where)

    def _start(self, slot: int) -> None:
        options = {"num_cpus": self.config.num_cpus_per_worker,
                   "num_gpus": self.config.num_gpus_per_worker,
                   "runtime_env": {"env_vars": worker_env()}}  # fmt: skip
        self._actors[slot] = self._class.options(**options).remote(*self._args)
        self._starts[slot] += 1
        self._stats[(slot, self._starts[slot])] = {}  # listed from its start, figures to come

    def submit(self, task: Task) -> None:
        self._queue.append((task, 0))
        self._dispatch()

    def _dispatch(self) -> None:
        while self._queue and self._idle:
            task, tries = self._queue.popleft()
            slot = self._idle.pop()
            self._running[self._actors[slot].perform.remote(task)] = (slot, task, tries)

    def next_done(self) -> tuple[Task, Any]:
        import ray

        while True:
            (ref,), _ = ray.wait(list(self._running), num_returns=1)
            slot, task, tries = self._running.pop(ref)
            try:
                result, stats = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # perform itself raised: not the video
                result, stats = self._failure(task, _first_line(exc)), None
            except ray.exceptions.RayError as exc:  # the worker died
                result = self._worker_died(slot, task, tries, _first_line(exc))
                if result is None:
                    continue
                stats = None
            if stats is not None:
                self._stats[(slot, self._starts[slot])] = stats
            self._idle.append(slot)
            self._dispatch()
            return task, result

    def _worker_died(self, slot: int, task: Task, tries: int, reason: str) -> Any:
        """Replace the worker; requeue its task (``None``) or give its failure."""
        import ray

        self._stats.setdefault((slot, self._starts[slot]), {})["died"] = True
        ray.kill(self._actors[slot], no_restart=True)
        self._start(slot)
        path = task.record.video_path
        if tries < RETRIES:
            log.warning("worker %d died while encoding %s (%s): replaced, retrying", slot, path,
                        reason)  # fmt: skip
            self._queue.appendleft((task, tries + 1))
            self._idle.append(slot)
            self._dispatch()
            return None
        return self._failure(task, f"its worker died, {tries + 1} times ({reason})")

    @staticmethod
    def _failure(task: Task, reason: str) -> Any:
        from .run import EncodeFailure

        return EncodeFailure(f"{task.record.video_path}: {reason}")

    def workers(self) -> list[dict[str, Any]]:
        """Per worker started (a replaced one too): its slot, start and last figures."""
        return [{"worker": slot, "start": start, **stats}
                for (slot, start), stats in sorted(self._stats.items())]  # fmt: skip

    def close(self) -> None:
        """Kill the workers (tasks in flight are abandoned), then end the session."""
        import ray

        for actor in self._actors:
            if actor is not None and ray.is_initialized():
                ray.kill(actor, no_restart=True)
        self._actors = [None] * len(self._actors)
        self._running.clear()
        self._session.close()
