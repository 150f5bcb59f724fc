"""Wall-clock time: when a video was recorded, and the times people search by.

A video's recording start is ``recorded_at`` from the input list where given, else the file's
``creation_time`` tag (what cameras and phones write; ffprobe reads it); a scene's wall-clock
time is that start plus its offset. Times without a zone are the local time of the machine
(``TZ``), and hits are shown in it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

from .errors import SearchError

EXAMPLE = "2026-11-28T15:00"


def parse_time(text: str, option: str = "--after") -> dt.datetime:
    """``text`` (ISO 8601, e.g. ``2026-11-28T15:00`` or ``2026-11-28``; a trailing ``Z`` is
    UTC) as an aware datetime; no zone means local time. Raises :class:`SearchError` naming
    ``option`` when it is not a date and time."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SearchError(f"{option} {text}: not a date and time (e.g. {EXAMPLE})") from None
    return when.astimezone() if when.tzinfo is None else when


#: ``creation_time`` tags before this are placeholders (a zero MP4 time reads as 1904 or 1970).
EARLIEST_RECORDING = dt.datetime(1980, 1, 1, tzinfo=dt.timezone.utc)


def creation_time(path: str | Path) -> dt.datetime | None:
    """The ``creation_time`` tag of the file (its container's, else a stream's), ``None``
    when it has none, is unreadable, is a placeholder (before 1980), or ffprobe is missing."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None or not Path(path).is_file():
        return None
    cmd = [ffprobe, "-v", "error", "-print_format", "json", "-show_entries",
           "format_tags=creation_time:stream_tags=creation_time", "--", str(path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout or "{}")
    tags = [data.get("format", {}).get("tags", {})]
    tags += [s.get("tags", {}) for s in data.get("streams", [])]
    for found in (t.get("creation_time") for t in tags):
        if found:
            try:
                when = dt.datetime.fromisoformat(found.replace("Z", "+00:00"))
            except ValueError:
                continue
            when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
            if when >= EARLIEST_RECORDING:
                return when
    return None


def recording_start(recorded_at: str | None, path: str | Path) -> dt.datetime | None:
    """When the video began recording (UTC): ``recorded_at`` (the input list's) where given,
    else the file's ``creation_time``; ``None`` when neither is known."""
    if recorded_at:
        return parse_time(recorded_at, "recorded_at").astimezone(dt.timezone.utc)
    when = creation_time(path)
    return None if when is None else when.astimezone(dt.timezone.utc)


def local_text(when: dt.datetime) -> str:
    """``2026-11-28 15:04:05`` in local time."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def sql_time(when: dt.datetime) -> str:
    """A SQL timestamp literal (UTC) for LanceDB filters."""
    utc = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return f"timestamp '{utc.isoformat(timespec='microseconds')}Z'"
