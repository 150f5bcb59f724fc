"""egorag-whisper: speech transcripts with faster-whisper (default) or openai-whisper."""

__version__ = "0.1.0"
