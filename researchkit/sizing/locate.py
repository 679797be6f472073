"""Which sizing spec a notebook should use.

In order: the path given; else, when the study runner executes the notebook for a study, the
study's first instrument of kind ``sizing_spec`` (its path is relative to the study file); else
the shipped worked example (an online grocery delivery service entering a region).
"""

from __future__ import annotations

from pathlib import Path

from researchkit.config import load_yaml
from researchkit.datasets.sizing import sizing_example_path
from researchkit.errors import SpecError
from researchkit.run_context import current_study_file

__all__ = ["resolve_sizing_spec"]


def resolve_sizing_spec(path: str | Path = "") -> Path:
    """The sizing spec file to use (see the module docstring).

    Raises
    ------
    SpecError
        If the given file does not exist, or the study names a sizing spec that does not.
    """
    if str(path):
        p = Path(path).expanduser()
        if not p.is_file():
            raise SpecError("sizing spec not found", file=p,
                            hint="give the path of a sizing spec YAML file")
        return p
    study = current_study_file()
    if study is not None:
        doc = load_yaml(study)
        instruments = doc.data.get("instruments") if isinstance(doc.data, dict) else None
        for i, inst in enumerate(instruments or []):
            if isinstance(inst, dict) and inst.get("kind") == "sizing_spec" and inst.get("path"):
                candidate = Path(inst["path"])
                if not candidate.is_absolute():
                    candidate = study.parent / candidate
                if not candidate.is_file():
                    raise SpecError("the study's sizing spec does not exist", file=study,
                                    field=f"instruments[{i}].path", got=inst["path"],
                                    line=doc.line_of(("instruments", i, "path")))
                return candidate
    return sizing_example_path()
