"""The proposal package of a siting run: a self-contained HTML report, a GeoPackage and a CSV."""

from __future__ import annotations

import html
import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import shapely

from analysis.siting import SitingResult
from geo_app.export import write_gpkg_layers
from geo_app.labels import facility_label, t
from geo_app.offline import write_atomic
from geo_app.proposals import proposal_sites, proposal_summary, sites_table, summary_rows
from geo_app.siting import Evaluation, SitingRun, uncovered_frame

PACKAGE_FILES = {"gpkg": "proposal.gpkg", "csv": "proposal_sites.csv",
                 "html": "proposal_report.html"}

_STYLE = """
body{font:14px/1.55 "Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;color:#222;
     max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin-bottom:2px} h2{font-size:17px;margin-top:26px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f2f2f2;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;margin:10px 0}
.muted{color:#666} iframe{width:100%;height:620px;border:1px solid #ccc}
"""


def _proposal(evaluation: Evaluation) -> list[int]:
    return [int(s) for s in evaluation.sites["site"]]


def uses_sample(parameters: dict) -> bool:
    """Whether the inputs are the bundled Helsinki sample (not Chongqing data)."""
    from geo_app.workflow import sample_path

    return str(sample_path()) in {str(v) for v in parameters.values()}


_PARAMETER_LABELS = {"category": "existing_category"}  # parameter → label key, where they differ


def _parameter_text(key: str, value, lang: str) -> str:
    if key == "objective":
        return t(str(value), lang)
    if key == "category":
        return facility_label(str(value), lang) if value else t("no_existing", lang)
    return "—" if value is None else str(value)


def _table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """An HTML table; columns named in ``formats`` are numbers written with that format."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="n">{v:{formats[c]}}</td>' if c in formats and pd.notna(v)
            else f"<td>{html.escape(str(v))}</td>" for c, v in zip(frame.columns, row)) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def proposal_report_html(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                         lang: str = "zh", title: str | None = None, parameters: dict,
                         map_html: str) -> str:
    """The proposal as one HTML page that loads nothing from the network.

    Title and date, the data sources and parameters (``parameters``: names as in
    :mod:`geo_app.labels`, e.g. network, category, objective, n_sites, minutes), the
    summary (residents, covered before, newly covered, share after; objective, bound,
    gap and solver), ``map_html`` (a standalone offline map, embedded through
    ``srcdoc``) and the sites with their gains (persons). Notes the Helsinki sample.
    """
    proposal = _proposal(evaluation)
    title = title or t("report_title", lang)
    summary = proposal_summary(run, result, proposal, str(parameters.get("objective", "")))
    params = pd.DataFrame({t("item", lang): [t(_PARAMETER_LABELS.get(k, k), lang)
                                             for k in parameters],
                           t("value", lang): [_parameter_text(k, v, lang)
                                              for k, v in parameters.items()]})
    sites = sites_table(proposal_sites(run, result, proposal), lang)
    formats = {**{t(c, lang): ",.0f" for c in ("gain", "gain_alone", "unique_gain", "overlap",
                                                "snap_m")},
               t("lon", lang): ".5f", t("lat", lang): ".5f"}
    notes = [t("sample_report_note", lang)] if uses_sample(parameters) else []
    if bool(summary["edited"].iloc[0]):
        notes.append(t("edited_note", lang))
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">{t("generated", lang)}: {date.today().isoformat()}</p>',
        *(f'<p class="note">{html.escape(n)}</p>' for n in notes),
        f"<h2>{t('site_summary', lang)}</h2>", _table(summary_rows(summary, lang)),
        f"<h2>{t('report_map', lang)}</h2>",
        f'<iframe title="{html.escape(t("report_map", lang))}" '
        f'srcdoc="{html.escape(map_html, quote=True)}"></iframe>',
        f"<h2>{t('sites_table', lang)}</h2>", _table(sites, formats),
        f"<h2>{t('sources_parameters', lang)}</h2>", _table(params),
        f'<p class="muted">{t("report_footer", lang)}</p>',
    ]
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def sites_csv(run: SitingRun, result: SitingResult, proposal: list[int]) -> str:
    """The proposal's sites as CSV text: ``lon``, ``lat`` (WGS-84) and their gains (persons)."""
    sites = proposal_sites(run, result, proposal)
    table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    table.insert(2, "lat", shapely.get_y(sites.geometry.values))
    table.insert(2, "lon", shapely.get_x(sites.geometry.values))
    return table.to_csv(index=False)


def proposal_package(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                     folder: str | Path, lang: str = "zh", title: str | None = None,
                     parameters: dict, map_html: str) -> dict[str, Path]:
    """Write the proposal to ``folder``: a GeoPackage (layers sites, summary, uncovered),
    the sites as CSV (UTF-8 with a byte-order mark, so that spreadsheets read Chinese) and
    the HTML report. Returns the paths by kind ({"gpkg", "csv", "html"})."""
    folder = Path(folder)
    proposal = _proposal(evaluation)
    summary = proposal_summary(run, result, proposal, str(parameters.get("objective", "")))
    paths = {kind: folder / name for kind, name in PACKAGE_FILES.items()}
    write_gpkg_layers({"sites": proposal_sites(run, result, proposal), "summary": summary,
                       "uncovered": uncovered_frame(run, proposal)}, paths["gpkg"])
    write_atomic(paths["csv"], "\ufeff" + sites_csv(run, result, proposal))
    write_atomic(paths["html"], proposal_report_html(run, result, evaluation, lang=lang,
                                                     title=title, parameters=parameters,
                                                     map_html=map_html))
    return paths


def proposal_zip_bytes(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                       lang: str = "zh", title: str | None = None, parameters: dict,
                       map_html: str) -> bytes:
    """The proposal package (see :func:`proposal_package`) as the bytes of a ZIP file."""
    with tempfile.TemporaryDirectory(prefix="cq_proposal_") as tmp:
        paths = proposal_package(run, result, evaluation, folder=tmp, lang=lang, title=title,
                                 parameters=parameters, map_html=map_html)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in paths.values():
                z.write(path, path.name)
        return buf.getvalue()
