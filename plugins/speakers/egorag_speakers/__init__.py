"""egorag-speakers: speaker labels on transcript segments with resemblyzer."""

__version__ = "0.1.0"
