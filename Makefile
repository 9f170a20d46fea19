# The two newcomer commands: `make preview` and `make test`. Both create .venv when it is missing
# and reinstall when a requirements file changes.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= aws-dev
PIP   := $(PY) -m pip install --quiet --disable-pip-version-check
# Google's API discovery documents, read by tests/gcp/test_api_model.py out of this wheel (installing
# google-api-python-client beside pulumi would move protobuf): downloaded, never installed.
DISCOVERY := $(VENV)/cache/google_api_python_client-2.202.0-py3-none-any.whl

.PHONY: preview test schema bench golden api-models

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -r requirements-dev.txt -c constraints.txt
	$(PY) -c "import pulumi, pulumi_aws, pulumi_kubernetes, pulumi_policy, pydantic, pytest"
	touch $(STAMP)

# `make preview` exits as the preview does: 0 clean, 1 mandatory policy violations, 2 invalid stack
# file or program error. Make itself exits only 0, 2 on a failed recipe, or 1 in question mode, so
# the preview runs while this file is read (its output on stderr) and its status picks the mode.
ifeq ($(MAKECMDGOALS),preview)
PREVIEW_STATUS := $(shell $(MAKE) --no-print-directory $(STAMP) >&2 && { $(PY) -m infra preview $(STACK) >&2; echo $$?; } || echo 2)
ifeq ($(PREVIEW_STATUS),1)
MAKEFLAGS += --question
else ifneq ($(PREVIEW_STATUS),0)
$(error the preview of $(STACK) failed (exit $(PREVIEW_STATUS)))
endif
endif

preview:
	@echo "preview of $(STACK): exit $(PREVIEW_STATUS)" >&2

# The Azure management API's models (SDK wheels, read as data by tests/azure, never installed).
API_MODELS := $(VENV)/api-models/.downloaded
$(API_MODELS): tests/azure/api_models.py $(STAMP)
	$(PY) -m tests.azure.api_models
	touch $@

api-models: $(API_MODELS)

$(DISCOVERY): | $(STAMP)
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --dest $(VENV)/cache google-api-python-client==2.202.0

test: $(STAMP) $(API_MODELS) $(DISCOVERY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/check-jsonschema --schemafile schemas/pulumi-project.json Pulumi.yaml
	$(VENV)/bin/check-jsonschema --schemafile schemas/stack-file.json stacks/Pulumi.*.yaml
	$(VENV)/bin/zizmor --offline --pedantic .github/workflows
	$(VENV)/bin/pytest -n 2 --durations=5

# Regenerate the stack-file JSON Schema and the README's stack-file reference from infra/spec.
schema: $(STAMP)
	$(PY) -m infra schema --write

bench: $(STAMP)
	$(PY) -m bench.preview_time
	$(PY) -m bench.sizing
	$(PY) -m bench.sizing_accuracy

# Rewrite tests/golden/<stack>.json from the real program (after an intended resource change).
golden: $(STAMP)
	$(PY) -m tests.golden --update
