# The two newcomer commands: `make preview` and `make test`. Both create .venv when it is missing
# and reinstall when a requirements file changes.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STACK ?= aws-dev
PIP   := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: preview test bench golden api-models

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) -r requirements-dev.txt -c constraints.txt
	$(PY) -c "import pulumi, pulumi_aws, pulumi_kubernetes, pulumi_policy, pydantic, pytest"
	touch $(STAMP)

preview: $(STAMP)
	$(PY) -m infra preview $(STACK)

# The Azure management API's models (SDK wheels, read as data by tests/azure, never installed).
API_MODELS := $(VENV)/api-models/.downloaded
$(API_MODELS): tests/azure/api_models.py $(STAMP)
	$(PY) -m tests.azure.api_models
	touch $@

api-models: $(API_MODELS)

test: $(STAMP) $(API_MODELS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	$(VENV)/bin/check-jsonschema --schemafile schemas/pulumi-project.json Pulumi.yaml
	$(VENV)/bin/pytest -n 2 --durations=5

bench: $(STAMP)
	$(PY) -m bench.preview_time
	$(PY) -m bench.sizing

# Rewrite tests/golden/<stack>.json from the real program (after an intended resource change).
golden: $(STAMP)
	$(PY) -m tests.golden --update
