"""Turning an executed notebook into an HTML report (code hidden by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from researchkit.runner.paths import templates_dir

__all__ = ["export_report"]

REPORT_TEMPLATE = "researchkit"


def _template_dirs() -> list[str]:
    try:
        folder = templates_dir() / "report"
    except Exception:  # no checkout: fall back to nbconvert's own lab template
        return []
    return [str(folder)] if (folder / REPORT_TEMPLATE / "index.html.j2").is_file() else []


def export_report(
    notebook: str | Path, html_path: str | Path, *, header: dict[str, Any] | None = None,
    show_code: bool = False,
) -> Path:
    """Write ``html_path`` from an executed notebook.

    Parameters
    ----------
    notebook : path
        The executed (possibly partial) notebook.
    html_path : path
        Where to write the report. Must not exist yet.
    header : dict, optional
        Facts shown at the top of the report (study title, notebook, status, parameters...).
    show_code : bool
        Include the code cells (hidden by default; reports are for readers of results).

    Notes
    -----
    Cells tagged ``remove-cell`` are left out; cells tagged ``remove-input`` show only their
    output even with ``show_code=True``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    out = Path(html_path)
    if out.exists():
        raise FileExistsError(out)
    nb = nbformat.read(str(notebook), as_version=4)
    extra = _template_dirs()
    cfg = Config()
    cfg.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove-input", "parameters",
                                                   "injected-parameters"}
    cfg.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=cfg,
        template_name=REPORT_TEMPLATE if extra else "lab",
        extra_template_basedirs=extra,
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    resources = {"researchkit": header or {}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out.write_text(body, encoding="utf-8")
    return out
