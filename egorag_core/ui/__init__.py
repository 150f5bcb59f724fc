"""``egorag ui``: a local web page over an index — search it, watch a hit, check each scene.

A thin layer over :func:`egorag_core.search` and the index as they are (no second search
engine, no copy of the data): :mod:`.catalog` reads the index, :mod:`.thumbs` decodes one frame
per scene thumbnail on demand and caches it, :mod:`.app` renders the pages (Starlette, Jinja2)
and :mod:`.server` serves them (uvicorn). The web packages are the ``ui`` extra
(``pip install 'egorag-core[ui]'``), imported only when the server starts.
"""
