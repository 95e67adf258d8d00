# Two commands do everything on a fresh machine with Python 3.11+: `make demo` and `make test`.
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_LINK_MODE ?= copy

.PHONY: bootstrap demo test lint bench

# Install uv if missing, then the locked environment (library, dev tools, Airflow).
bootstrap:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

# The main job end to end on the embedded default (local folder + SQLite, demo data included).
demo: bootstrap
	$(UV) run csmatch demo

lint: bootstrap
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy loaders matching worklists pipeline sql dags bench tests

# The whole test suite: lint, types, then pytest against real SQLite, PostgreSQL and moto's S3 server.
test: lint
	$(UV) run pytest -q

# The headline benchmarks at 200k NCPs / 100k records (minutes); state scale: see bench/README.md.
bench: bootstrap
	$(UV) run python -m bench.splink_anchor --persons 200000 --records 100000
	$(UV) run python bench/bench_accuracy.py --persons 200000 --records 100000 --model matching/models/default.json \
		--sources new_hire,quarterly_wage,dmv,fidm
	$(UV) run python -m bench.bench_pipeline new-hire --persons 200000 --records 100000 --splink
