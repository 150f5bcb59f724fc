"""egorag-speakers: speaker diarization with resemblyzer; transcript words labelled by time."""

__version__ = "0.1.0"
