# Entry points for users and CI. `make demo` and `make test` set everything up from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SSM := $(VENV)/bin/ssm-profile
EXAMPLES := $(basename $(notdir $(wildcard examples/*.toml examples/*.yaml examples/*.json)))
DEMO_OUT ?= out/basic

.PHONY: install demo lint test test-fast modules check-modules snapshots plan drift release clean

install: $(VENV)/.installed

# Re-runs when pyproject.toml or the version changes (an editable install's metadata holds the
# version pip read then); pip reaches PyPI only for what is missing.
$(VENV)/.installed: pyproject.toml generator/ssm_profile/_version.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The judges of `ssm-profile check` get their own venv: checkov pins a botocore older than the
# Region data ssm-profile generates from. `ssm-profile judges install` builds it (idempotent)
# under the cache folder, where `check` finds it; the project's cache keeps it in .cache/.
export SSM_PROFILE_CACHE ?= $(CURDIR)/.cache/ssm-profile
.PHONY: install-judges
install-judges: install
	$(SSM) judges install

## demo: generate the basic example into out/basic, then validate and plan it offline
demo: install
	$(SSM) generate examples/basic.toml -o $(DEMO_OUT)
	$(SSM) validate $(DEMO_OUT)
	$(SSM) plan $(DEMO_OUT) --offline --json $(DEMO_OUT).plan.json

# One pytest worker per core; a test file stays on one worker (its module fixtures, such as
# the one emulator and apply of test_apply.py, are made once).
PYTEST_WORKERS ?= -n auto --dist loadfile

## lint: ruff over the package, the tests and the benchmarks, then mypy over the package (pyproject.toml's [tool.ruff] and [tool.mypy])
lint: install
	$(VENV)/bin/ruff check generator tests bench
	$(VENV)/bin/mypy

## test: lint, then the whole suite, real Terraform and provider included (what CI runs)
test: install install-judges lint
	$(PY) -m pytest $(PYTEST_WORKERS)

## test-fast: every test that needs neither Terraform nor node and is not slow (under 60 s on 2 idle cores; docs/testing.md)
test-fast: install lint
	$(PY) -m pytest $(PYTEST_WORKERS) -m "not terraform and not cdk and not slow"

## modules: regenerate the committed modules of every example under modules/
modules: install
	@for name in $(EXAMPLES); do \
	  spec=$$(ls examples/$$name.* | head -n 1); \
	  $(SSM) generate $$spec -o modules/$$name || exit $$?; \
	done

## check-modules: fail when modules/ is stale (the drift gate)
check-modules: install
	@for name in $(EXAMPLES); do \
	  spec=$$(ls examples/$$name.* | head -n 1); \
	  $(SSM) generate $$spec -o modules/$$name --check || exit $$?; \
	done

## snapshots: rewrite the plan snapshots under tests/snapshots/ (review the diff!)
snapshots: install
	$(PY) -m pytest -m terraform --snapshot-update

## plan: the pipeline pattern for one module: drift gate, validate, its own tests, plan against the snapshot
EXAMPLE ?= basic
plan: install
	$(SSM) generate $$(ls examples/$(EXAMPLE).* | head -n 1) -o modules/$(EXAMPLE) --check
	$(SSM) validate modules/$(EXAMPLE)
	$(SSM) test modules/$(EXAMPLE)
	@mkdir -p out
	$(SSM) plan modules/$(EXAMPLE) --offline --json out/$(EXAMPLE).plan.json --normalised
	diff -u tests/snapshots/$(EXAMPLE).plan.json out/$(EXAMPLE).plan.json

## release: release one example's module, e.g. make release EXAMPLE=basic VERSION=0.2.0 or BUMP=auto (version stamp, CHANGELOG.md entry, moved blocks)
release: install
	@test -n "$(VERSION)$(BUMP)" -a "$(origin EXAMPLE)" != file || { echo "usage: make release EXAMPLE=<example> VERSION=X.Y.Z | BUMP=auto|major|minor|patch" >&2; exit 2; }
	$(SSM) release modules/$(EXAMPLE) $(if $(VERSION),--version $(VERSION)) $(if $(BUMP),--bump $(BUMP))

## drift: every generated module in the repository is up to date with its spec (the pre-commit hook)
drift: install
	$(SSM) drift

## templates: recompile the HCL template ahead of time after editing module.tf.j2 or upgrading Jinja
.PHONY: templates
templates: install
	$(PY) -m ssm_profile.render.hcl_template

## bench: whole-process benchmarks (issue 7; figures in docs/BENCHMARKS.md), e.g. make bench BENCH_ARGS="--only startup --wait 1200"
BENCH_ARGS ?=
.PHONY: bench
bench: install install-judges
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf out .pytest_cache .hypothesis .mypy_cache .ruff_cache
