"""The model scheduler: plugins declare models, the scheduler loads, shares and releases them.

A plugin never keeps a model itself. It describes each model with a :class:`ModelSpec` and asks
the scheduler for it while it works::

    with scheduler.use(spec) as model:
        ...

Two specs with the same ``key`` are one model: it is loaded once and shared. The scheduler knows
the plan of the run (which stage needs which keys, in order). When every planned model fits the
memory budget, models stay resident for the whole run; otherwise a stage's models are released
as soon as no later stage of the current video needs them. Load counts, releases and the peak of
resident model memory are kept in :attr:`ModelScheduler.stats` for the run report.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A model a stage needs.

    ``key`` decides sharing: equal keys are one instance. ``load(device)`` builds the model (any
    object, e.g. a ``(model, processor)`` tuple) already placed on ``device``. ``estimated_bytes``
    is used to plan against the budget before anything is loaded.
    """

    key: str
    load: Callable[[str], Any] = field(compare=False, repr=False)
    model_id: str = ""
    estimated_bytes: int = 0
    random_weights: bool = False


@dataclass
class ModelStats:
    """What happened to one model key during a run."""

    model_id: str
    random_weights: bool
    loads: int = 0
    releases: int = 0
    bytes: int = 0
    load_seconds: float = 0.0


def model_bytes(obj: Any) -> int:
    """Bytes of parameters and buffers of every ``torch.nn.Module`` in ``obj`` (or in a tuple,
    list or dict of them), without importing torch if nothing imported it."""
    torch = sys.modules.get("torch")
    if torch is None:
        return 0
    if isinstance(obj, dict):
        items = list(obj.values())
    else:
        items = list(obj) if isinstance(obj, list | tuple) else [obj]
    total = 0
    for item in items:
        if isinstance(item, torch.nn.Module):
            tensors = list(item.parameters()) + list(item.buffers())
            total += sum(t.numel() * t.element_size() for t in tensors)
        elif hasattr(item, "model") and isinstance(item.model, torch.nn.Module):
            total += model_bytes(item.model)
    return total


def quiet_loading() -> contextlib.AbstractContextManager[None]:
    """Transformers' load reports and progress bars silenced, where transformers is installed
    (the run prints which model loads, once)."""
    if importlib.util.find_spec("transformers") is None:
        return contextlib.nullcontext()
    from .hf import quiet_transformers

    return quiet_transformers()


def free_accelerator_memory() -> None:
    """``gc.collect()`` and, when torch is loaded and CUDA is up, ``torch.cuda.empty_cache()``;
    then :func:`trim_heap`."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    trim_heap()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def trim_heap() -> None:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``; elsewhere
    nothing). A stage's freed working set otherwise stays in the process's arenas, and the
    next stage's peak starts from it: :meth:`ModelScheduler.stage_done` calls this (not each
    frame window: the next window reuses the same memory, and trimming made it 9% slower)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@dataclass
class _Resident:
    spec: ModelSpec
    model: Any
    users: int = 0
    releasable: bool = False


class ModelScheduler:
    """Loads, shares and releases models within a memory budget (bytes; ``None`` = unlimited)."""

    def __init__(self, device: str = "cpu", budget_bytes: int | None = None):
        self.device = device
        self.budget_bytes = budget_bytes
        self.stats: dict[str, ModelStats] = {}
        self.peak_resident_bytes = 0
        self._resident: dict[str, _Resident] = {}
        self._plan: list[tuple[str, list[str]]] = []
        self._keep_all = True
        self._more_videos = True
        self._lock = threading.RLock()

    # -- planning -----------------------------------------------------------------------------
    def plan(self, stages: Sequence[tuple[str, Sequence[ModelSpec]]]) -> None:
        """Tell the scheduler which stage needs which models, in the order stages run.

        If the estimates of all models fit the budget, everything stays resident for the run;
        otherwise models are released after the last stage of a video that needs them.
        """
        self._plan = [(stage, [s.key for s in specs]) for stage, specs in stages]
        unique = {s.key: s for _, specs in stages for s in specs}
        total = sum(s.estimated_bytes for s in unique.values())
        self._keep_all = self.budget_bytes is None or total <= self.budget_bytes

    def last_video(self) -> None:
        """No other video will follow the one in progress: from now on each model is released
        after its last stage, as when the plan does not fit the budget."""
        self._more_videos = False

    @property
    def keeps_models_resident(self) -> bool:
        """True when every planned model fits the budget and stays loaded across videos."""
        return self._keep_all

    # -- use ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self, spec: ModelSpec) -> Iterator[Any]:
        """Yield the model for ``spec``, loading it if needed; it is never released while used."""
        model = self.acquire(spec)
        try:
            yield model
        finally:
            del model  # a release on this exit frees the model before the heap is trimmed
            self._done_using(spec.key)

    def acquire(self, spec: ModelSpec) -> Any:
        """Return the model for ``spec`` and count one user; pair with :meth:`use` when possible."""
        with self._lock:
            resident = self._resident.get(spec.key)
            if resident is None:
                resident = self._load(spec)
            resident.users += 1
            resident.releasable = False
            return resident.model

    def _done_using(self, key: str) -> None:
        with self._lock:
            if self._user_left(key):
                self._release([key])

    def _user_left(self, key: str) -> bool:
        """Count one user of ``key`` out; True when it is now due for release."""
        resident = self._resident.get(key)
        if resident is None:
            return False
        resident.users -= 1
        return resident.users == 0 and resident.releasable

    def _load(self, spec: ModelSpec) -> _Resident:
        import time

        if self.budget_bytes is not None:
            self._make_room(spec.estimated_bytes)
        start = time.perf_counter()
        with quiet_loading():
            model = spec.load(self.device)
        elapsed = time.perf_counter() - start
        stats = self.stats.setdefault(spec.key, ModelStats(spec.model_id, spec.random_weights))
        stats.loads += 1
        stats.load_seconds += elapsed
        stats.bytes = model_bytes(model) or spec.estimated_bytes
        resident = _Resident(spec, model)
        self._resident[spec.key] = resident
        self.peak_resident_bytes = max(self.peak_resident_bytes, self.resident_bytes)
        return resident

    def _make_room(self, needed: int) -> None:
        """Release idle models (oldest first) until ``needed`` more bytes fit the budget."""
        assert self.budget_bytes is not None
        idle = [key for key, r in self._resident.items() if r.users == 0]
        evict: list[str] = []
        for key in idle:
            if self.resident_bytes - self._bytes(evict) + needed <= self.budget_bytes:
                break
            evict.append(key)
        self._release(evict)

    def _bytes(self, keys: list[str]) -> int:
        return sum(self.stats[k].bytes for k in keys)

    def _release(self, keys: list[str]) -> None:
        """Drop ``keys``' models, then collect and trim the heap once. Callers hold no
        reference to a released model: it is freed before :func:`free_accelerator_memory`."""
        for key in keys:
            self._resident.pop(key)
            self.stats[key].releases += 1
        if keys:
            free_accelerator_memory()

    # -- stage boundaries ---------------------------------------------------------------------
    def stage_done(self, stage: str) -> list[str]:
        """Mark the end of ``stage`` for the current video; return the keys released.

        Models no later stage needs are released (immediately, or when their last user is done),
        unless every planned model fits the budget and so stays resident for the next video
        (while one may follow: :meth:`last_video`).
        """
        if self._keep_all and self._more_videos:
            trim_heap()  # the next stage starts from the heap this one holds, not its peak
            return []
        names = [name for name, _ in self._plan]
        later = set()
        if stage in names:
            for _, keys in self._plan[names.index(stage) + 1 :]:
                later.update(keys)
        with self._lock:
            released = self._release_idle(set(self._resident) - later)
        if not released:
            trim_heap()
        return released

    def release_all(self) -> None:
        """Release every model not in use (end of run)."""
        with self._lock:
            self._release_idle(set(self._resident))

    def _release_idle(self, keys: set[str]) -> list[str]:
        """Release those of ``keys`` no one uses now; mark the others for their last user.
        Return the keys released, in load order."""
        idle = [k for k, r in self._resident.items() if k in keys and r.users == 0]
        for key in keys - set(idle):
            self._resident[key].releasable = True
        self._release(idle)
        return idle

    # -- observation ----------------------------------------------------------------------------
    @property
    def resident_keys(self) -> list[str]:
        with self._lock:
            return list(self._resident)

    @property
    def resident_bytes(self) -> int:
        return sum(self.stats[k].bytes for k in self._resident)

    def load_counts(self) -> dict[str, int]:
        return {key: s.loads for key, s in self.stats.items()}

    def report(self) -> dict[str, Any]:
        """Per model key: id, random weights or not, loads, releases, bytes, load seconds."""
        return {
            "device": self.device,
            "budget_bytes": self.budget_bytes,
            "models_kept_resident": self._keep_all,
            "peak_resident_bytes": self.peak_resident_bytes,
            "models": {
                key: {
                    "model_id": s.model_id,
                    "random_weights": s.random_weights,
                    "loads": s.loads,
                    "releases": s.releases,
                    "bytes": s.bytes,
                    "load_seconds": round(s.load_seconds, 3),
                }
                for key, s in self.stats.items()
            },
        }
