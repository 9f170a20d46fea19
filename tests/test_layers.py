"""Dependencies point one way (the contracts in pyproject.toml's [tool.importlinter]): data <- spec
<- sizing <- plan <- clouds <- program <- engine/verify <- cli, no cycle between siblings, no Pulumi
or cloud SDK below the translators, `verify` apart from the preview harness, and a policy pack that
imports nothing of the program. The layers contract is exhaustive: a new module of `infra` that no
layer names fails too."""

from __future__ import annotations

from importlinter import configuration
from importlinter.application.use_cases import lint_imports

from infra.engine.stackfile import ROOT


def test_imports_point_one_way_with_no_cycle(capsys) -> None:
    configuration.configure()  # registers import-linter's readers, as its CLI does
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out
