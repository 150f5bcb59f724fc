"""Speaker labels with resemblyzer: embed transcript segments, cluster over the whole video."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.components import ModelComponent, ModelRole, VideoJob
from egorag_core.media import AUDIO_SAMPLE_RATE
from egorag_core.models import ModelSource, ModelUnavailable

from .cluster import cluster_speakers
from .options import ResemblyzerOptions


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


def voiced_windows(audio: np.ndarray, window_s: float, min_rms: float) -> list[tuple[float, float]]:
    """Fixed windows (seconds) whose RMS is at least ``min_rms``: segments when no ASR ran."""
    size = max(1, int(window_s * AUDIO_SAMPLE_RATE))
    spans = []
    for a in range(0, audio.size, size):
        chunk = audio[a : a + size]
        if chunk.size and float(np.sqrt(np.mean(chunk**2))) >= min_rms:
            spans.append((a / AUDIO_SAMPLE_RATE, (a + chunk.size) / AUDIO_SAMPLE_RATE))
    return spans


class ResemblyzerSpeakers(ModelComponent[ResemblyzerOptions]):
    """Sets ``result.extras["speakers"] = [{start, end, speaker, text}]``: the transcript
    segments of every scene (``extras["segments"]``, from the ASR) labelled by speaker, with
    labels shared across the whole video. Without segments, voiced fixed windows are used."""

    #: No option names this model: its weights ship in the resemblyzer package (about 17 MB).
    roles = (ModelRole(load=load_encoder, key="resemblyzer", estimated_bytes=17 * 2**20),)

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

    def segments(self, job: VideoJob, audio: np.ndarray) -> list[tuple[int, dict[str, Any]]]:
        """``(scene index, segment)`` pairs: the ASR's, else voiced windows of each scene."""
        pairs = [(i, dict(s)) for i, r in enumerate(job.results)
                 for s in r.extras.get("segments", [])]
        if pairs:
            return pairs
        for i, scene in enumerate(job.scenes):
            clip = job.scene_audio(i)
            if clip is None:
                continue
            for a, b in voiced_windows(clip, self.options.window_s, self.options.min_rms):
                pairs.append((i, {"start": round(scene.start + a, 3),
                                  "end": round(scene.start + b, 3), "text": ""}))
        return pairs

    def process(self, job: VideoJob) -> None:
        """Label every segment of the video with its speaker (``extras["speakers"]``)."""
        for result in job.results:
            result.extras["speakers"] = []
        audio = job.audio()
        if audio is None or audio.size == 0:
            return
        pairs = []
        for i, seg in self.segments(job, audio):
            a = int(float(seg["start"]) * AUDIO_SAMPLE_RATE)
            b = int(float(seg["end"]) * AUDIO_SAMPLE_RATE)
            if b > a and audio[a:b].size:
                pairs.append((i, seg, audio[a:b]))
        if not pairs:
            return
        with self.model(job) as encoder:
            embeddings = np.stack([self.embed(encoder, wav) for _, _, wav in pairs])
        labels = cluster_speakers(embeddings, self.options.threshold, self.options.num_speakers)
        for (i, seg, _), label in zip(pairs, labels, strict=True):
            job.results[i].extras["speakers"].append({
                "start": float(seg["start"]), "end": float(seg["end"]),
                "speaker": f"SPEAKER_{label:02d}", "text": str(seg.get("text", "")),
            })  # fmt: skip

    @staticmethod
    def embed(encoder: Any, wav: np.ndarray) -> np.ndarray:
        """The 256-d resemblyzer embedding of 16 kHz ``wav`` (silences trimmed when possible)."""
        from resemblyzer import preprocess_wav

        trimmed = preprocess_wav(np.asarray(wav, dtype=np.float32), AUDIO_SAMPLE_RATE)
        if trimmed.size < AUDIO_SAMPLE_RATE // 4:
            trimmed = np.asarray(wav, dtype=np.float32)
        return np.asarray(encoder.embed_utterance(trimmed), dtype=np.float32)
