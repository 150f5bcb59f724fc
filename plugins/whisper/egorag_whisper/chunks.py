"""The chunk plan of the batched ASR, made in bounded memory over a track of any length.

faster-whisper's ``BatchedInferencePipeline.transcribe`` called on a whole track runs Silero
VAD over all of it (two padded copies of the track), copies every speech chunk and keeps the
log-mel features of every chunk until the end. Here the VAD runs on windows of
``VAD_WINDOW_S`` cut at a quiet point, and the speech spans are packed into chunks of at most
``CHUNK_S`` the way the pipeline packs them (``collect_chunks``: consecutive spans, silence
between them left out), so the pipeline can be fed one batch of chunks at a time.
Spans are ``(start, end)`` sample indices into the track. Imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np

T = TypeVar("T")

SAMPLE_RATE = 16000
#: Longest chunk whisper takes (seconds).
CHUNK_S = 30
#: Silero VAD runs on windows of about this length (seconds).
VAD_WINDOW_S = 120
#: A window ends at the quietest frame of its last this many seconds.
SEARCH_S = 5.0
#: Frame (samples) over which loudness is measured when looking for a cut.
FRAME = 512

Span = tuple[int, int]


def quiet_cut(audio: np.ndarray, lo: int, hi: int) -> int:
    """The start of the quietest ``FRAME`` in ``audio[lo:hi]`` (``hi`` when it holds none)."""
    frames = (hi - lo) // FRAME
    if frames < 1:
        return hi
    piece = audio[lo : lo + frames * FRAME].reshape(frames, FRAME)
    energy = np.einsum("ij,ij->i", piece, piece)
    return lo + int(np.argmin(energy)) * FRAME


def windows(audio: np.ndarray, length_s: float, search_s: float = SEARCH_S) -> Iterator[Span]:
    """Consecutive spans covering ``audio``, each at most ``length_s`` long, each (but the
    last) ending at the quietest frame of its last ``search_s`` seconds."""
    for first, piece in track_windows(array_reader(audio), length_s, search_s):
        yield first, first + piece.size


def peak(audio: np.ndarray) -> float:
    """The largest absolute sample (no copy of the audio)."""
    return max(float(audio.max()), -float(audio.min())) if audio.size else 0.0


def array_reader(audio: np.ndarray) -> Callable[[int], np.ndarray]:
    """``read(n)`` over an array in memory: its next ``n`` samples (see :func:`track_windows`)."""
    position = 0

    def read(count: int) -> np.ndarray:
        nonlocal position
        piece = audio[position : position + count]
        position += piece.size
        return piece

    return read


def track_windows(
    read: Callable[[int], np.ndarray], length_s: float, search_s: float = SEARCH_S
) -> Iterator[tuple[int, np.ndarray]]:
    """The track read forward once (``read(n)``: its next ``n`` samples, fewer at its end) as
    consecutive windows ``(first sample, samples)`` cut as :func:`windows` cuts them: only
    one window is held, whatever the track's length."""
    length = int(length_s * SAMPLE_RATE)
    search = min(int(search_s * SAMPLE_RATE), length // 2)
    start, carry = 0, np.zeros(0, dtype=np.float32)
    while True:  # one sample more than a window: a track of exactly one window is not cut
        piece = np.concatenate([carry, read(length + 1 - carry.size)])
        if piece.size <= length:
            if piece.size:
                yield start, piece
            return
        cut = quiet_cut(piece, length - search, length)
        yield start, piece[:cut]
        carry, start = piece[cut:].copy(), start + cut


def speech_chunks(
    windows: Iterable[tuple[int, np.ndarray]], vad_filter: bool, silence_peak: float = 0.0
) -> Iterator[tuple[list[Span], np.ndarray]]:
    """The windows' speech (:func:`speech_spans` per window; none in a window quieter than
    ``silence_peak``) packed into chunks as :func:`pack` packs a whole track's: each chunk's
    spans in track samples and its audio (spans joined). Holds two windows at most."""
    held: dict[int, np.ndarray] = {}  # first sample -> samples, of the windows pending spans use
    pending: list[Span] = []

    def audio_of(chunk: list[Span]) -> np.ndarray:
        return np.concatenate([held[k][a - k : b - k] for a, b in chunk
                               for k in held if k <= a < k + held[k].size])  # fmt: skip

    for first, audio in windows:
        held = {k: v for k, v in held.items() if any(k <= a < k + v.size for a, _ in pending)}
        held[first] = audio
        loud = peak(audio) >= silence_peak
        found = speech_spans(audio, vad_filter, audio.size / SAMPLE_RATE + 1) if loud else ()
        groups = list(pack([*pending, *((first + a, first + b) for a, b in found)]))
        for chunk in groups[:-1]:
            yield chunk, audio_of(chunk)
        pending = groups[-1] if groups else []
    if pending:
        yield pending, audio_of(pending)


def speech_spans(
    audio: np.ndarray, vad_filter: bool, window_s: float | None = None
) -> Iterator[Span]:
    """With ``vad_filter``: the speech Silero VAD finds (the pipeline's VAD settings: chunks of
    at most ``CHUNK_S``, 160 ms of silence ends one), found window by window. Without: the
    whole track in pieces of at most ``CHUNK_S`` cut at quiet points (music and song kept)."""
    if not vad_filter:
        yield from windows(audio, CHUNK_S)
        return
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(max_speech_duration_s=CHUNK_S, min_silence_duration_ms=160)
    for start, end in windows(audio, window_s or VAD_WINDOW_S):
        for span in get_speech_timestamps(audio[start:end], options):
            yield start + span["start"], start + span["end"]


def pack(spans: Iterable[Span], max_s: float = CHUNK_S) -> Iterator[list[Span]]:
    """Consecutive spans grouped into chunks of at most ``max_s`` seconds of audio in all
    (longer spans are cut first), as ``faster_whisper.vad.collect_chunks`` groups them."""
    limit = int(max_s * SAMPLE_RATE)
    chunk: list[Span] = []
    size = 0
    for start, end in spans:
        for a in range(start, end, limit):
            b = min(end, a + limit)
            if chunk and size + b - a > limit:
                yield chunk
                chunk, size = [], 0
            chunk.append((a, b))
            size += b - a
    if chunk:
        yield chunk


def batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    """``items`` in lists of ``n`` (the last may be shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def batch_audio(audio: np.ndarray, chunks: list[list[Span]]) -> tuple[np.ndarray, list[dict]]:
    """The audio of ``chunks`` joined (silence between spans left out) and each chunk's
    ``{"start", "end"}`` in seconds within it (see :func:`join_chunks`)."""
    return join_chunks([np.concatenate([audio[a:b] for a, b in chunk]) for chunk in chunks])


def join_chunks(pieces: list[np.ndarray]) -> tuple[np.ndarray, list[dict]]:
    """Chunk audios joined and each chunk's ``{"start", "end"}`` in seconds within the whole
    (the pipeline's ``clip_timestamps``). The clips cover the joined audio without gaps, so
    releases that map clip times back as if they were VAD speech chunks (faster-whisper issue
    #1361) leave them unchanged."""
    clips, offset = [], 0
    for piece in pieces:
        clips.append({"start": offset / SAMPLE_RATE, "end": (offset + piece.size) / SAMPLE_RATE})
        offset += piece.size
    return np.concatenate(pieces), clips
