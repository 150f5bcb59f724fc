"""egorag plugin: Qwen2-VL video encoder (``video=qwen2vl``) and captioner (``caption=captioner2``).

Light on import: torch and transformers load only when a component runs.
"""

__version__ = "0.1.0"
