"""Speaker diarization with resemblyzer: sliding windows over the voiced audio of the whole
video are embedded, clustered into speakers, and the words of the transcript labelled by time."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE
from egorag_core.models import ModelSource, ModelUnavailable

from .cluster import cluster_speakers
from .options import ResemblyzerOptions
from .timeline import (
    renumber,
    sliding_windows,
    speaker_at,
    speaker_track,
    turns,
    voiced_regions,
    word_runs,
)

#: webrtcvad frame (seconds): it takes 10, 20 or 30 ms.
VAD_STEP_S = 0.03
#: Level the voiced audio is brought to, as resemblyzer's training audio was (dBFS).
TARGET_DBFS = -30.0


def weights_path() -> Path:
    """The real weights shipped in the resemblyzer package."""
    import importlib.util

    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "audio.speakers=resemblyzer: resemblyzer is not installed; "
            "pip install resemblyzer 'setuptools<81'"
        )
    path = Path(spec.submodule_search_locations[0]) / "pretrained.pt"
    if not path.is_file():
        raise ModelUnavailable(f"audio.speakers=resemblyzer: {path} missing; reinstall resemblyzer")
    return path


def load_encoder(location: str, device: str, options: ResemblyzerOptions) -> Any:
    """resemblyzer's ``VoiceEncoder`` with the weights at ``location``, on ``device``."""
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device=device, verbose=False, weights_fpath=location)


def vad_flags(audio: np.ndarray, mode: int) -> np.ndarray:
    """webrtcvad's speech decision for each :data:`VAD_STEP_S` frame of 16 kHz ``audio``."""
    with warnings.catch_warnings():  # webrtcvad imports pkg_resources (deprecated)
        warnings.simplefilter("ignore")
        import webrtcvad

    vad = webrtcvad.Vad(int(mode))
    size = int(VAD_STEP_S * AUDIO_SAMPLE_RATE)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    return np.array([vad.is_speech(pcm[a : a + size].tobytes(), AUDIO_SAMPLE_RATE)
                     for a in range(0, pcm.size - size + 1, size)], dtype=bool)


def normalised(audio: np.ndarray, regions: list[tuple[float, float]]) -> np.ndarray:
    """``audio`` scaled so that its voiced part is at :data:`TARGET_DBFS` RMS."""
    voiced = np.concatenate([audio[int(a * AUDIO_SAMPLE_RATE) : int(b * AUDIO_SAMPLE_RATE)]
                             for a, b in regions])
    rms = float(np.sqrt(np.mean(np.square(voiced, dtype=np.float64)))) if voiced.size else 0.0
    if rms <= 1e-6:
        return audio
    return (audio * (10 ** (TARGET_DBFS / 20) / rms)).astype(np.float32)


def window_mels(audio: np.ndarray, windows: list[tuple[float, float]],
                chunk_s: float = 60.0) -> list[np.ndarray]:
    """resemblyzer's mel frames (10 ms) of each window, cut from the spectrogram of runs of
    overlapping windows (each run at most ``chunk_s`` long, so memory stays bounded)."""
    from resemblyzer.audio import wav_to_mel_spectrogram

    hop = AUDIO_SAMPLE_RATE // 100
    mels: list[np.ndarray] = []
    i = 0
    while i < len(windows):
        start, end, j = windows[i][0], windows[i][1], i + 1
        while j < len(windows) and windows[j][0] < end and windows[j][1] - start <= chunk_s:
            end, j = max(end, windows[j][1]), j + 1
        a = int(round(start * AUDIO_SAMPLE_RATE))
        spec = wav_to_mel_spectrogram(audio[a : int(round(end * AUDIO_SAMPLE_RATE))])
        for wa, wb in windows[i:j]:
            first = int(round((wa - start) * AUDIO_SAMPLE_RATE / hop))
            mels.append(spec[first : first + 1 + int(round((wb - wa) * AUDIO_SAMPLE_RATE)) // hop])
        i = j
    return mels


def embed_windows(encoder: Any, audio: np.ndarray, windows: list[tuple[float, float]],
                  batch_size: int) -> np.ndarray:
    """Unit resemblyzer embeddings (windows, 256) of ``audio`` cut at ``windows`` (seconds,
    in time order); windows of one length share forward passes of up to ``batch_size``."""
    import torch

    mels = window_mels(audio, windows)
    out = np.zeros((len(windows), 256), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, mel in enumerate(mels):
        by_length.setdefault(mel.shape[0], []).append(i)
    size = max(1, batch_size)
    for rows in by_length.values():
        for k in range(0, len(rows), size):
            part = rows[k : k + size]
            batch = torch.from_numpy(np.stack([mels[i] for i in part])).to(encoder.device)
            with torch.no_grad():
                out[part] = encoder(batch).cpu().numpy()
    return out


def centroid_scores(embeddings: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(windows, speakers): cosine of every centred embedding with each speaker's centred mean
    over the clustered ``rows`` (speaker ``labels``; -1: left out of every mean)."""
    mean = embeddings[rows].mean(axis=0)
    x = embeddings - mean
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    centres = np.stack([embeddings[rows][labels == k].mean(axis=0) - mean
                        for k in range(int(labels.max()) + 1)])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return x @ centres.T


def longest_turns(track: np.ndarray, count: int) -> np.ndarray:
    """The longest turn (seconds) of each of ``count`` speakers in ``track`` (0: none)."""
    longest = np.zeros(count)
    for a, b, s in turns(track):
        longest[s] = max(longest[s], b - a)
    return longest


def speaker_name(number: int) -> str:
    """``SPEAKER_00``, ``SPEAKER_01``..."""
    return f"SPEAKER_{number:02d}"


class ResemblyzerSpeakers(ModelComponent[ResemblyzerOptions]):
    """Speaker diarization of the whole video. Every word of the ASR (``extras["words"]``)
    gets a ``speaker``, and ``result.extras["speakers"] = [{start, end, speaker, text}]`` holds
    each scene's runs of words of one speaker; a scene without words gets its voiced speaker
    turns instead (``text`` empty). Labels are shared across the video."""

    #: No option names this model: its weights ship in the resemblyzer package (about 17 MB).
    roles = (ModelRole(load=load_encoder, key="resemblyzer", estimated_bytes=17 * 2**20),)

    def __init__(self, *args: Any, **kwargs: Any):
        """As :class:`ModelComponent`, with the window counters at zero."""
        super().__init__(*args, **kwargs)
        self.embedded_windows = 0
        self.clustered_windows = 0

    def resolve(self, role: ModelRole) -> ModelSource:
        """The weights shipped in the resemblyzer package (real ones, in every mode)."""
        return ModelSource(str(weights_path()))

    def check(self) -> None:
        """The weights exist and resemblyzer imports; else one-line ``ModelUnavailable``."""
        super().check()
        try:
            import resemblyzer  # noqa: F401
        except Exception as exc:  # webrtcvad needs pkg_resources (setuptools<81)
            raise ModelUnavailable(
                f"audio.speakers=resemblyzer: import failed ({type(exc).__name__}: {exc}); "
                "pip install resemblyzer 'setuptools<81'"
            ) from None

    def stats(self) -> dict[str, Any]:
        """Windows embedded and windows clustered, over all videos."""
        return {"embedded_windows": self.embedded_windows,
                "clustered_windows": self.clustered_windows}

    def process(self, job: VideoJob) -> None:
        """Diarize the video and write the speakers of its words and scenes."""
        for result in job.results:
            result.extras["speakers"] = []
        audio = job.audio()
        if audio is None or audio.size == 0:
            return
        track = self.diarize(job, audio)
        if track is not None and (track >= 0).any():
            self.label(job, track)

    def diarize(self, job: VideoJob, audio: np.ndarray) -> np.ndarray | None:
        """The speaker track of ``audio`` (see :func:`~.timeline.speaker_track`); ``None``
        when nothing is voiced."""
        o = self.options
        duration = audio.size / AUDIO_SAMPLE_RATE
        regions = voiced_regions(vad_flags(audio, o.vad_mode), VAD_STEP_S)
        windows = sliding_windows(regions, o.window_s, o.hop_s, o.min_window_s, duration)
        if not windows:
            return None
        with self.model(job) as encoder:
            emb = embed_windows(encoder, normalised(audio, regions), windows, o.batch_size)
        rows = np.unique(np.linspace(0, len(windows) - 1,
                                     min(len(windows), max(1, o.max_cluster_windows))).astype(int))
        labels = cluster_speakers(emb[rows], o.num_speakers, o.max_speakers,
                                  [windows[i] for i in rows])
        self.embedded_windows += len(windows)
        self.clustered_windows += len(rows)
        return renumber(self.track(emb, rows, np.asarray(labels), windows, regions, duration))

    def track(self, emb: np.ndarray, rows: np.ndarray, labels: np.ndarray,
              windows: list[tuple[float, float]], regions: list[tuple[float, float]],
              duration: float) -> np.ndarray:
        """The speaker track of the clustered windows. With an estimated count, a speaker who
        never holds a turn of ``min_turn_s`` is dropped (windows straddling a change of
        speaker form such a cluster) and the track redone, down to one speaker."""
        while True:
            track = speaker_track(windows, centroid_scores(emb, labels, rows), regions, duration)
            count = int(labels.max()) + 1
            if self.options.num_speakers or count == 1:
                return track
            longest = longest_turns(track, count)
            weakest = int(longest.argmin())
            if longest[weakest] >= self.options.min_turn_s:
                return track
            labels = np.where(labels == weakest, -1, labels - (labels > weakest))

    def label(self, job: VideoJob, track: np.ndarray) -> None:
        """Speakers of the words (by time) and each scene's ``extras["speakers"]``."""
        spans = turns(track)
        for scene, result in zip(job.scenes, job.results, strict=True):
            words = result.extras.get("words") or []
            for w in words:
                w["speaker"] = speaker_name(speaker_at(track, float(w["start"]), float(w["end"])))
            if words:
                result.extras["speakers"] = word_runs(words)
                continue
            result.extras["speakers"] = [
                {"start": max(a, scene.start), "end": min(b, scene.end),
                 "speaker": speaker_name(s), "text": ""}
                for a, b, s in spans if min(b, scene.end) - max(a, scene.start) > 0.05
            ]  # fmt: skip
