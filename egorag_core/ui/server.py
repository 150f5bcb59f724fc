"""``egorag ui``: open the index (or a sweep's jobs), bind the port, serve the pages."""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError, EgoragError

#: Hosts that only this machine can reach.
LOCAL = ("127.0.0.1", "localhost", "::1")


def web_modules() -> None:
    """Raise :class:`ConfigError` (one line) when the ``ui`` extra is not installed."""
    import importlib.util

    missing = [m for m in ("starlette", "jinja2", "uvicorn", "PIL")
               if importlib.util.find_spec(m) is None]  # fmt: skip
    if missing:
        raise ConfigError(f"egorag ui needs {', '.join(missing)}: pip install 'egorag-core[ui]'")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port); one-line error naming
    ``--port`` / ``--host`` when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        option = "--port" if exc.errno == errno.EADDRINUSE else "--host"
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another "
                          f"{option}") from None  # fmt: skip
    sock.listen(128)
    return sock


def banner(url: str, what: str, host: str) -> list[str]:
    """What the server prints when it starts: where, what, and a warning when others can
    reach it."""
    lines = [f"egorag ui: {what}", f"egorag ui: open {url} (Ctrl-C stops; no model is loaded "
             "until the first query)"]  # fmt: skip
    if host not in LOCAL:
        lines.append(f"egorag ui: listening on {host}, not 127.0.0.1: anyone who can reach "
                     "this machine can search the index and watch its videos")  # fmt: skip
    return lines


def open_catalogs(index: str | None, sweep: str | None, device: str,
                  queries: str | None = None) -> tuple[list[Any], Any]:  # fmt: skip
    """The catalogs served and the sweep (``None`` without ``--sweep``)."""
    from .catalog import Catalog
    from .sweep import Sweep

    if sweep is not None:
        found = Sweep(sweep, device, queries)
        catalogs = found.catalogs()
        if not catalogs:
            problems = "; ".join(f"{k}: {v}" for k, v in found.problems.items())
            raise EgoragError(f"--sweep {sweep}: no job has an index with scenes ({problems})")
        return catalogs, found
    return [Catalog(index or "egorag-output/index", device)], None


def serve(index: str | None, sweep: str | None, host: str, port: int, device: str,
          queries: str | None = None) -> int:  # fmt: skip
    """Serve the pages until interrupted; 0 when stopped."""
    web_modules()
    catalogs, found = open_catalogs(index, sweep, device, queries)
    import uvicorn

    from .app import LOCAL_HOSTS, create_app

    app = create_app(catalogs, found, None if host not in LOCAL else LOCAL_HOSTS)
    sock = bind(host, port)
    name, bound = sock.getsockname()[:2]
    shown = f"[{name}]" if ":" in name else name
    what = f"sweep {Path(sweep).resolve()} ({len(catalogs)} jobs)" if sweep else \
        f"index {catalogs[0].path.resolve()}"  # fmt: skip
    for line in banner(f"http://{shown}:{bound}/", what, host):
        print(line, flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("egorag ui: stopped", file=sys.stderr)
    return 0
