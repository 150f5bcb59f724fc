"""The ``egorag`` command: a Hydra app, plus ``egorag plugins``, ``search``, ``index``, ``eval``,
``compare`` and ``ui`` (plain argparse commands: their ``--help`` imports nothing heavy).

    egorag video=xclip caption=captioner1 input=videos.json
    egorag --multirun video=xclip,qwen2vl input=videos.json
    egorag plugins
    egorag search "where did I leave the keys" --index egorag-output/index
    egorag search "coffee" --after 2026-11-28T15:00 --before 2026-11-28T18:00
    egorag index optimize --index egorag-output/index
    egorag eval queries.json --index egorag-output/index
    egorag compare sweep/ --queries queries.json
    egorag ui --index egorag-output/index

Exit status: 0 when every video is ok or skipped, 1 when any failed, 2 when the run could not
start (bad config, missing plugin or model, unreadable input). ``search``, ``eval`` and
``compare``: 0 done, 2 with one line saying why not.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("egorag")

EXIT_FAILED_VIDEOS = 1
EXIT_CANNOT_START = 2


def plugins_command(stream: Any = None) -> int:
    """Print installed plugins, their versions and what each registers."""
    from .errors import PluginError
    from .plugins import load_plugins

    out = stream or sys.stdout
    try:
        host = load_plugins()
    except PluginError as exc:
        print(f"error: {exc}", file=out)
        return 1
    if not host.plugins:
        print("no egorag plugins installed (entry-point group 'egorag')", file=out)
    for plugin in host.plugins:
        version = f" {plugin.version}" if plugin.version else ""
        dist = f" ({plugin.distribution}{version})" if plugin.distribution else ""
        print(f"{plugin.name}{dist}: {plugin.module}", file=out)
        if plugin.error:
            print(f"  FAILED TO LOAD: {plugin.error}", file=out)
        for reg in host.registrations(plugin.name):
            group = reg.group or ("audio/*" if reg.kind == "audio" else reg.kind)
            desc = f" - {reg.description}" if reg.description else ""
            print(f"  {group}={reg.name}{desc}", file=out)
    return 1 if any(p.error for p in host.plugins) else 0


DEFAULT_INDEX = "egorag-output/index"
#: ``egorag_core.vector_index``'s search defaults (kept here so ``--help`` imports nothing).
NPROBES, REFINE_FACTOR, MIN_ROWS = 32, 40, 100_000
KIND, KINDS = "IVF_FLAT", ("IVF_FLAT", "IVF_PQ", "IVF_HNSW_SQ")
MODALITY_HELP = ("auto (every list fused), text (transcript + caption vectors), caption, "
                 "transcript (full text), video, audio, ocr (text read in frames)")  # fmt: skip


def search_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="egorag search", description="The scenes that best match QUERY, best first.")
    parser.add_argument("query", help="the words to search for")
    parser.add_argument("--index", default=DEFAULT_INDEX,
                        help=f"an index folder or a run's output folder (default {DEFAULT_INDEX})")
    parser.add_argument("--k", type=int, default=5, help="how many scenes (default 5)")
    parser.add_argument("--modality", default="auto", help=MODALITY_HELP + " (default auto)")
    parser.add_argument("--video", help="search only this video (a name or path)")
    parser.add_argument("--after", metavar="TIME", help="only scenes recorded after TIME "
                        "(wall clock, e.g. 2026-11-28T15:00; no zone: local time)")
    parser.add_argument("--before", metavar="TIME", help="only scenes recorded before TIME")
    parser.add_argument("--device", default="cpu", help="where query models run (default cpu)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of hits")
    parser.add_argument("--nprobes", type=int, default=NPROBES,
                        help=f"ANN index partitions searched (default {NPROBES})")
    parser.add_argument("--refine-factor", type=int, default=REFINE_FACTOR,
                        help="ANN candidates re-ranked exactly, x k, where the index is "
                        f"quantised (IVF_PQ, IVF_HNSW_SQ; default {REFINE_FACTOR})")
    parser.add_argument("--exact", action="store_true",
                        help="compare with every vector, ignoring the ANN indexes")
    return parser


def light_lancedb_import() -> None:
    """Let ``import lancedb`` skip the REST client of Lance namespaces, which a local index
    never uses and whose package imports every API class at once (half a second of a cold
    search): its package is registered without running its ``__init__``, so the models
    LanceDB imports from it still load. Done only where nothing imported it yet. Then
    imports ``pyarrow.dataset`` (which ``lancedb`` imports) without pandas (0.2 s):
    :func:`_without_pandas`."""
    import importlib.util
    import types

    name = "lance_namespace_urllib3_client"
    spec = None if name in sys.modules else importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations is not None:
        package = types.ModuleType(name)
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__, package.__file__ = spec, spec.origin
        sys.modules[name] = package
    if "pyarrow.dataset" not in sys.modules and "pandas" not in sys.modules:
        _without_pandas("pyarrow.dataset")


class _NoPandas:
    """A meta-path finder that says pandas is not installed."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas deferred")  # pyarrow's pandas shim catches this


def _without_pandas(module: str) -> None:
    """Import ``module`` while pandas cannot be imported. pyarrow's pandas shim, asked once at
    import whether a scalar is a pandas object, then takes pandas for absent in its quick
    checks, yet still imports it where a call needs it (``to_pandas()``); everything after
    this import sees pandas as usual."""
    import importlib

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module(module)
    finally:
        sys.meta_path.remove(finder)


def search_command(argv: list[str]) -> int:
    """``egorag search``: print the hits (or JSON); 2 with one line when it cannot search."""
    args = search_parser().parse_args(argv)
    light_lancedb_import()
    from .retrieval import SearchIndex, format_hits

    index = SearchIndex(args.index, args.device, args.nprobes, args.refine_factor, args.exact)
    hits = index.search(args.query, args.k, args.modality, args.video, args.after, args.before)
    for note in index.plan(args.modality)[1]:
        print(f"egorag: not searched: {note}", file=sys.stderr)
    shown = json.dumps([h.to_dict() for h in hits], indent=2) if args.json else \
        format_hits(hits, args.query)  # fmt: skip
    print(shown)
    return 0


def eval_command(argv: list[str]) -> int:
    """``egorag eval``: recall@1/5/10 and MRR per modality."""
    parser = argparse.ArgumentParser(
        prog="egorag eval", description="Recall@1/5/10 and MRR of known questions, per "
        'modality and for auto. QUERIES.json: [{"query", "video", "start", "end"}] (seconds).')
    parser.add_argument("queries", help="the JSON file of queries")
    parser.add_argument("--index", default=DEFAULT_INDEX, help=f"default {DEFAULT_INDEX}")
    parser.add_argument("--modality", action="append", help="only these (repeatable)")
    parser.add_argument("--device", default="cpu", help="where query models run (default cpu)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    from .evaluate import evaluate, format_report, load_queries
    from .retrieval import SearchIndex

    queries = load_queries(args.queries)
    report = evaluate(SearchIndex(args.index, args.device), queries, args.modality)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def compare_command(argv: list[str]) -> int:
    """``egorag compare``: one row per job of a sweep; compare.md, .csv and .png."""
    parser = argparse.ArgumentParser(
        prog="egorag compare", description="One row per job of an egorag --multirun: the "
        "overrides that differ, videos ok/failed, seconds, memory, model loads, vector sizes, "
        "random weights and, with --queries, recall@5 and MRR. Writes compare.md, compare.csv "
        "and compare.png into SWEEP_DIR.")
    parser.add_argument("sweep", metavar="SWEEP_DIR", help="the output_dir of the multirun")
    parser.add_argument("--queries", help="QUERIES.json, as for egorag eval")
    parser.add_argument("--device", default="cpu", help="where query models run (default cpu)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    from .compare import compare, markdown, write_outputs
    from .evaluate import load_queries

    queries = load_queries(args.queries) if args.queries else None
    rows = compare(args.sweep, queries, args.device)
    written, problem = write_outputs(rows, args.sweep)
    print(json.dumps(rows, indent=2) if args.json else markdown(rows), end="")
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if problem:
        print(f"egorag: {problem}", file=sys.stderr)
    return 0


def index_command(argv: list[str]) -> int:
    """``egorag index optimize``: build the ANN indexes due and fold in every row added since;
    ``egorag index status``: what is indexed."""
    parser = argparse.ArgumentParser(
        prog="egorag index", description="optimize: give each vector column past MIN_ROWS "
        "vectors an ANN index and fold every row added since into the indexes (a run does "
        "both as it commits, the folding once the new rows pass a share of the index); "
        "status: the indexes, their rows, and the rows waiting to be folded in.")
    parser.add_argument("action", choices=["optimize", "status"])
    parser.add_argument("--index", default=DEFAULT_INDEX, help=f"default {DEFAULT_INDEX}")
    parser.add_argument("--min-rows", type=int, default=MIN_ROWS,
                        help=f"vectors a column needs for an ANN index (default {MIN_ROWS})")
    parser.add_argument("--kind", default=KIND, choices=KINDS,
                        help=f"the kind of ANN index built (default {KIND})")
    args = parser.parse_args(argv)
    from .retrieval import index_folder
    from .store import SCENES, LanceStore
    from .vector_index import IndexSettings, waiting

    store = LanceStore(index_folder(args.index), create=False,
                       index=IndexSettings(args.min_rows, kind=args.kind))  # fmt: skip
    if SCENES not in store.tables():
        print(f"{store.path}: no scenes to index yet")
        return 0
    done = store.maintain(force=True) if args.action == "optimize" else []
    for line in done or (["nothing to do"] if args.action == "optimize" else []):
        print(line)
    for column, (rows, added) in sorted(waiting(store.table(SCENES)).items()):
        print(f"{column}: {rows} rows indexed, {added} waiting")
    return 0


def ui_command(argv: list[str]) -> int:
    """``egorag ui``: a local web page to search the index, watch hits and check scenes."""
    parser = argparse.ArgumentParser(
        prog="egorag ui", description="A local web page over an index: search it, watch a "
        "hit from its second, check what each encoder said scene by scene. Serves on "
        "127.0.0.1 (a free port unless --port) and prints the address; needs "
        "pip install 'egorag-core[ui]'.")
    parser.add_argument("--index", help=f"an index folder or a run's output folder (default "
                        f"{DEFAULT_INDEX})")
    parser.add_argument("--sweep", metavar="DIR", help="the output_dir of an egorag --multirun: "
                        "its comparison, and one query against every job's index")
    parser.add_argument("--queries", help="with --sweep: QUERIES.json, as for egorag eval "
                        "(the comparison then has each job's recall@5 and MRR)")
    parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--device", default="cpu", help="where query models run (default cpu)")
    args = parser.parse_args(argv)
    if args.index and args.sweep:
        parser.error("give --index or --sweep, not both")
    if args.queries and not args.sweep:
        parser.error("--queries goes with --sweep (egorag eval scores one index)")
    from .ui.server import serve

    return serve(args.index, args.sweep, args.host, args.port, args.device, args.queries)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "search": search_command,
    "index": index_command,
    "eval": eval_command,
    "compare": compare_command,
    "ui": ui_command,
}


def run_command(name: str, argv: list[str]) -> int:
    """Run ``egorag NAME ARGV``; any egorag error is one line on stderr and exit status 2."""
    from .errors import EgoragError

    logging.basicConfig(level=logging.WARNING, format="egorag: %(message)s")
    try:
        return COMMANDS[name](argv)
    except EgoragError as exc:
        print(f"egorag {name}: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START


def _hydra_main(cfg: Any) -> int:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from .data import VideoDataset
    from .errors import ConfigError, InputError, StoreError
    from .run import run

    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    choices = {k: str(v) for k, v in hydra_cfg.runtime.choices.items()}
    plain = {str(k): v for k, v in OmegaConf.to_container(cfg, resolve=True).items()}  # type: ignore[union-attr]
    try:
        dataset = VideoDataset.from_path(str(plain["input"]))
        outcome = run(plain, dataset, output_dir, choices=choices)
    except (ConfigError, InputError, StoreError) as exc:
        log.error("%s", exc)
        return EXIT_CANNOT_START
    counts = outcome.report.counts()
    summary = (
        f"{counts['ok']} encoded, {counts['skipped']} skipped, {counts['failed']} failed; "
        f"index: {outcome.report.index_path}; report: {outcome.report.path}"
    )
    log.info(summary)
    return EXIT_FAILED_VIDEOS if counts["failed"] else 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``egorag`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["plugins"]:
        sys.exit(plugins_command())
    if argv[:1] and argv[0] in COMMANDS:
        sys.exit(run_command(argv[0], argv[1:]))
    import hydra

    from .config import register_schema

    register_schema()
    codes: list[int] = []

    @hydra.main(version_base=None, config_path="pkg://egorag_core.conf", config_name="config")
    def app(cfg: Any) -> None:
        codes.append(_hydra_main(cfg))

    sys.argv = [sys.argv[0], *argv]
    app()
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    main()
