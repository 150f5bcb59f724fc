"""Hook specifications: the six extension points of egorag.

Each hook receives a ``register`` callback and calls it once per component the plugin offers::

    register(name, factory, description="", group=None)

``name`` is what users select in the config (``video=xclip``); one name per group, a second
plugin registering it is an error naming both. ``factory`` is a component class (or any
callable ``factory(options, settings)``) or, to keep start-up fast, a string
``"package.module:ClassName"`` imported only when the component is used. ``group`` is the config
group: audio analyzers must name theirs (``"audio/asr"``...), the other hooks own one group.
Hook modules must not import torch or other heavy libraries at import time.

Components subclass the base classes in :mod:`egorag_core.components`; a component's option
values live in ``conf/<group>/<name>.yaml`` inside its package, their names and types in the
options dataclass the component class is parameterised with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    import numpy as np

    from .scheduler import ModelScheduler

PROJECT = "egorag"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

class Register(Protocol):
    """The callback every ``register_*`` hook receives."""

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any] | str,
        description: str = "",
        group: str | None = None,
    ) -> None:
        """Offer component ``name`` (what users select: ``video=name``) built by ``factory``
        (a callable or a lazy ``"module:Class"`` string), shown with ``description`` by
        ``egorag plugins``, in config ``group`` (only audio analyzers choose one)."""


@runtime_checkable
class QueryEmbedder(Protocol):
    """What a component offers, optionally, to make the vectors it writes searchable by words:
    ``egorag search`` rebuilds the component that wrote a vector column and asks it to embed
    the query text into the same space (MiniLM for ``text``/``caption``, X-CLIP's text tower
    for its ``video`` vectors, CLAP's for its ``audio`` vectors)."""

    def embed_query(self, texts: Sequence[str], scheduler: ModelScheduler) -> np.ndarray:
        """Unit-length float32 rows ``(len(texts), dim)``, ``dim`` the size of the vectors
        this component writes; models are borrowed from ``scheduler``, never kept."""
        ...


@hookspec
def register_scene_splitters(register: Register) -> None:
    """Register scene splitters (config group ``scenes``).

    A scene splitter is a :class:`~egorag_core.components.SceneSplitter`: given a
    :class:`~egorag_core.components.VideoJob` whose decoder is open, it returns the ordered,
    non-overlapping scenes that cover the video. The core validates what it returns.

    :param register: call ``register(name, factory, description="")`` for each splitter.
    """


@hookspec
def register_video_encoders(register: Register) -> None:
    """Register video encoders (config group ``video``).

    A video encoder is a :class:`~egorag_core.components.StageComponent` that sets, for every
    scene of the job, ``result.video`` (a float32 vector whose size comes from the model's
    config) and may hand keyframes on to the captioner in ``result.keyframes`` and
    ``result.keyframe_times`` (only the times when ``job.keyframes_wanted`` is false).

    :param register: call ``register(name, factory, description="")`` for each encoder.
    """


@hookspec
def register_captioners(register: Register) -> None:
    """Register captioners (config group ``caption``).

    A captioner is a :class:`~egorag_core.components.StageComponent` that sets
    ``result.caption_text`` (a clean string) for every scene. It may read the frames the video
    stage left in ``result.keyframes`` or ask the job's decoder for its own; one that never
    reads them says so with ``reads_keyframes()`` returning ``False``.

    :param register: call ``register(name, factory, description="")`` for each captioner.
    """


@hookspec
def register_ocr(register: Register) -> None:
    """Register text readers (config group ``ocr``; ``ocr=none`` by default).

    A text reader is a :class:`~egorag_core.ocr.TextReader` whose ``read(images, job)`` returns
    the lines of text (:class:`~egorag_core.ocr.TextLine`: text, confidence, box) in each frame.
    The core samples at most ``max_frames`` frames per scene from the window's one decode,
    skips empty, tiny, blank and near-duplicate frames, drops lines under ``min_confidence``,
    merges and orders the rest, and sets ``result.ocr_text`` and ``result.extras["ocr"]``; the
    text encoder then embeds ``ocr_text`` as ``result.ocr``.

    :param register: call ``register(name, factory, description="")`` for each reader.
    """


@hookspec
def register_audio_analyzers(register: Register) -> None:
    """Register audio analyzers (config groups ``audio/asr``, ``audio/embedding``,
    ``audio/events`` and ``audio/speakers``).

    An audio analyzer is a :class:`~egorag_core.components.StageComponent` run only for videos
    with an audio track. Depending on its role it sets ``result.transcript``, ``result.audio``
    (a float32 embedding) or entries of ``result.extras`` (``"events"``, ``"speakers"``,
    ``"words"``...). ``job.audio()`` gives the whole track once, 16 kHz mono float32; for
    the ASR of one shard of a long video (``executor.shard_minutes``) only the shard's span,
    whose first sample is at ``job.audio_start`` seconds of the video.

    :param register: call ``register(name, factory, description="", group="audio/asr")`` (or
        ``audio/embedding``, ``audio/events``, ``audio/speakers``) for each analyzer.
    """


@hookspec
def register_text_encoders(register: Register) -> None:
    """Register text encoders (config group ``text``).

    A text encoder is a :class:`~egorag_core.components.StageComponent` that sets, for every
    scene, ``result.text`` (an embedding of the transcript and the caption together),
    ``result.caption`` (an embedding of the caption alone) and, where an ``ocr`` stage found
    text, ``result.ocr`` (an embedding of ``result.ocr_text``); ``None`` for empty text.

    :param register: call ``register(name, factory, description="")`` for each encoder.
    """


#: Hook name -> component kind, in pipeline order.
HOOK_KINDS: dict[str, str] = {
    "register_scene_splitters": "scenes",
    "register_video_encoders": "video",
    "register_captioners": "caption",
    "register_ocr": "ocr",
    "register_audio_analyzers": "audio",
    "register_text_encoders": "text",
}

#: Hook name -> the config groups its components may be registered in (``group`` may be left
#: out where there is only one).
HOOK_GROUPS: dict[str, tuple[str, ...]] = {
    "register_scene_splitters": ("scenes",),
    "register_video_encoders": ("video",),
    "register_captioners": ("caption",),
    "register_ocr": ("ocr",),
    "register_audio_analyzers": ("audio/asr", "audio/embedding", "audio/events", "audio/speakers"),
    "register_text_encoders": ("text",),
}
