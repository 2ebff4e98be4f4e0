"""The proposal package of a siting run: a self-contained HTML report (and, with Chromium,
its PDF and a map image), a GeoPackage and a CSV."""

from __future__ import annotations

import base64
import html
import io
import logging
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from analysis.siting import SitingResult
from geo_app.io.export import csv_bytes, write_gpkg_layers
from geo_app.io.files import write_atomic
from geo_app.io.render import NO_CHROMIUM, find_chromium, html_to_pdf, html_to_png
from geo_app.io.scenario_edits import package_edits
from geo_app.labels import facility_label, t
from geo_app.workflows.proposals import proposal_sites, proposal_summary, sites_table, summary_rows
from geo_app.workflows.siting import Evaluation, SitingRun, uncovered_frame

log = logging.getLogger(__name__)

# every file a package can hold; pdf and png only where Chromium renders them
PACKAGE_FILES = {"gpkg": "proposal.gpkg", "csv": "proposal_sites.csv",
                 "html": "proposal_report.html", "pdf": "proposal_report.pdf",
                 "png": "map.png", "readme": "README.txt"}

_STYLE = """
body{font:14px/1.55 "Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;color:#222;
     max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin-bottom:2px} h2{font-size:17px;margin-top:26px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f2f2f2;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:6px 10px;margin:10px 0}
.muted{color:#666} iframe{width:100%;height:620px;border:1px solid #ccc}
img.map{width:100%;height:auto;border:1px solid #ccc}
@page{size:A4;margin:14mm}
@media print{body{max-width:none;margin:0;padding:0} h2{break-after:avoid}
             tr,img{break-inside:avoid}}
"""


def _proposal(evaluation: Evaluation) -> list[int]:
    return [int(s) for s in evaluation.sites["site"]]


def uses_sample(parameters: dict) -> bool:
    """Whether the inputs are the bundled Helsinki sample (not Chongqing data)."""
    from geo_app.workflows.coverage import sample_path

    return str(sample_path()) in {str(v) for v in parameters.values()}


# parameter → label key, where they differ
_PARAMETER_LABELS = {"category": "existing_category", "profile": "ri_walker_profile",
                     "network_edits": "ec_edits"}


def _parameter_label(key: str, lang: str) -> str:
    """A parameter's name: its run-information label where it has one."""
    from geo_app.labels import has_label

    key = _PARAMETER_LABELS.get(key, key)
    return t(key if has_label(key) or not has_label(f"ri_{key}") else f"ri_{key}", lang)


def _parameter_text(key: str, value, lang: str) -> str:
    """A parameter in plain words: labels for codes, file names for paths, planner's numbers."""
    from geo_app.io.display import fmt_share, run_info_value

    if key == "objective":
        return t(str(value), lang)
    if key == "category":
        return facility_label(str(value), lang) if value else t("no_existing", lang)
    if key == "datum":
        return t(str(value), lang) if str(value) in ("wgs84", "gcj02", "bd09") else str(value)
    if key == "target_share" and isinstance(value, (int, float)):
        return fmt_share(value)
    if key == "profile":
        return t(f"profile_{value}" if value else "rv_plain_walk", lang)
    if key == "network_edits":  # "<count>:<hash>" (ui/edit_compare.edits_id)
        return t("ec_count", lang).format(n=str(value).split(":")[0]) if value else "—"
    if value is None or value == "":
        return "—"
    return run_info_value(key, value, lang)


def _file_name(text: str) -> str:
    """A parameter with server folders removed: the report names the files the user gave."""
    from geo_app.workflows.inputs import hide_paths

    return hide_paths(text)


def _today() -> str:
    """Today's date in the configured time zone (``Settings.timezone``)."""
    from geo_app.config import Settings

    return Settings.from_env().local_time().date().isoformat()


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


def before_after_table(before_after: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The table of :func:`geo_app.workflows.before_after.coverage_before_after` for people:
    labelled categories and columns, whole persons and percentages."""
    def share(v) -> str:
        return "—" if pd.isna(v) else f"{100 * v:.1f} %"

    f = before_after
    return pd.DataFrame({
        t("category", lang): [facility_label(str(c), lang) for c in f["category"]],
        t("in_hub", lang): [t("yes" if h else "no", lang) for h in f["in_hub"]],
        t("minutes", lang): ["—" if pd.isna(m) else f"{m:g}" for m in f["threshold_min"]],
        t("ba_covered_before", lang): f["covered_before"].round(0),
        t("ba_share_before", lang): [share(v) for v in f["share_before"]],
        t("ba_covered_after", lang): f["covered_after"].round(0),
        t("ba_share_after", lang): [share(v) for v in f["share_after"]],
        t("ba_gain", lang): f["gain"].round(0),
    })


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="map" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _page(run: SitingRun, result: SitingResult, evaluation: Evaluation, *, lang: str,
          title: str | None, parameters: dict, map_html: str | None, map_png: bytes | None,
          before_after: pd.DataFrame | None, indicators=None) -> str:
    """The report page; without ``map_html`` it has no iframe (for printing)."""
    proposal = _proposal(evaluation)
    title = title or t("report_title", lang)
    summary = proposal_summary(run, result, proposal, str(parameters.get("objective", "")))
    params = pd.DataFrame({t("item", lang): [_parameter_label(k, lang) for k in parameters],
                           t("value", lang): [_parameter_text(k, v, lang)
                                              for k, v in parameters.items()]})
    sites = sites_table(proposal_sites(run, result, proposal), lang)
    formats = {**{t(c, lang): ",.0f" for c in ("gain", "gain_alone", "unique_gain", "overlap",
                                                "snap_m")},
               t("lon", lang): ".5f", t("lat", lang): ".5f"}
    notes = [t("sample_report_note", lang)] if uses_sample(parameters) else []
    if bool(summary["edited"].iloc[0]):
        notes.append(t("edited_note", lang))
    effect = []
    if before_after is not None:
        persons = {t(c, lang): ",.0f" for c in ("ba_covered_before", "ba_covered_after",
                                                  "ba_gain")}
        effect = [f"<h2>{t('before_after', lang)}</h2>",
                  f'<p class="muted">{html.escape(t("before_after_note", lang))}</p>',
                  _table(before_after_table(before_after, lang), persons)]
    figure = []
    if map_png is not None:
        figure.append(_img(map_png, t("map_image", lang)))
    if map_html is not None:
        figure.append(f'<iframe title="{html.escape(t("map_interactive", lang))}" '
                      f'srcdoc="{html.escape(map_html, quote=True)}"></iframe>')
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">{t("generated", lang)}: {_today()}</p>',
        *(f'<p class="note">{html.escape(n)}</p>' for n in notes),
        f"<h2>{t('site_summary', lang)}</h2>", _table(summary_rows(summary, lang)),
        *effect,
        *([] if indicators is None else [indicators_section(indicators, lang)]),
        f"<h2>{t('report_map', lang)}</h2>", *figure,
        f"<h2>{t('sites_table', lang)}</h2>", _table(sites, formats),
        f"<h2>{t('sources_parameters', lang)}</h2>", _table(params),
        f'<p class="muted">{t("report_footer", lang)}</p>',
    ]
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def proposal_report_html(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                         lang: str = "zh", title: str | None = None, parameters: dict,
                         map_html: str, map_png: bytes | None = None,
                         before_after: pd.DataFrame | None = None, indicators=None) -> str:
    """The proposal as one HTML page that loads nothing from the network.

    Title and date, the data sources and parameters (``parameters``: names as in
    :mod:`geo_app.labels`, e.g. network, category, objective, n_sites, minutes), the
    summary (residents, covered before, newly covered, share after; objective, bound,
    gap and solver), ``before_after`` (a :func:`geo_app.workflows.before_after.coverage_before_after`
    frame: persons and shares per category), the map (``map_png``, an image of it,
    embedded as base64, then ``map_html``, a standalone offline map, through ``srcdoc``)
    and the sites with their gains (persons). Notes the Helsinki sample. ``indicators``
    (an :class:`~geo_app.workflows.indicators.IndicatorResult`) adds the indicator section.
    """
    return _page(run, result, evaluation, lang=lang, title=title, parameters=parameters,
                 map_html=map_html, map_png=map_png, before_after=before_after,
                 indicators=indicators)


def proposal_report_pdf(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                        lang: str = "zh", title: str | None = None, parameters: dict,
                        map_html: str, map_png: bytes | None = None,
                        before_after: pd.DataFrame | None = None,
                        timeout_s: float = 60, indicators=None) -> bytes:
    """The report of :func:`proposal_report_html` as PDF bytes (A4), with the map as an
    image (``map_png``, else a screenshot of ``map_html``) instead of the interactive map.
    ``timeout_s``: seconds per Chromium run. Raises ``RuntimeError`` without Chromium."""
    png = map_png if map_png is not None else html_to_png(map_html, timeout_s=timeout_s)
    page = _page(run, result, evaluation, lang=lang, title=title, parameters=parameters,
                 map_html=None, map_png=png, before_after=before_after, indicators=indicators)
    return html_to_pdf(page, timeout_s=timeout_s)


def sites_csv(run: SitingRun, result: SitingResult, proposal: list[int]) -> bytes:
    """The proposal's sites as CSV bytes (UTF-8 with a byte-order mark): ``order``,
    ``candidate``, ``lon``, ``lat`` (WGS-84) and their gains (persons)."""
    return csv_bytes(proposal_sites(run, result, proposal), lonlat_at=2)


def _readme(paths: dict[str, Path], lang: str, missing: str | None) -> str:
    lines = [t("package_contents", lang), ""]
    lines += [f"{p.name}: {t('file_' + kind, lang)}" for kind, p in paths.items()]
    if missing:
        lines += ["", t("no_pdf_note", lang).format(reason=missing)]
    return "\n".join(lines) + "\n"


def proposal_package(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                     folder: str | Path, lang: str = "zh", title: str | None = None,
                     parameters: dict, map_html: str, map_png: bytes | None = None,
                     before_after: pd.DataFrame | None = None,
                     indicators=None, network_edits=None,
                     walker_profile: str | None = None) -> dict[str, Path]:
    """Write the proposal to ``folder``: a GeoPackage (layers sites, summary, uncovered),
    the sites as CSV (UTF-8 with a byte-order mark, so that spreadsheets read Chinese),
    the HTML report and a README.txt; where Chromium is found (see
    :func:`geo_app.io.render.find_chromium`) also the map as PNG (``map_png`` or a
    screenshot of ``map_html``) and the report as PDF. Without Chromium, or when it
    fails, the README says why they are missing. With ``network_edits`` (the scenario's
    edits) also ``network_edits.geojson`` with the ``walker_profile``
    (:mod:`geo_app.io.scenario_edits`). Returns the paths by kind (keys of
    :data:`PACKAGE_FILES`, and ``network_edits``)."""
    folder = Path(folder)
    proposal = _proposal(evaluation)
    summary = proposal_summary(run, result, proposal, str(parameters.get("objective", "")))
    paths = {kind: folder / PACKAGE_FILES[kind] for kind in ("gpkg", "csv", "html")}
    write_gpkg_layers({"sites": proposal_sites(run, result, proposal), "summary": summary,
                       "uncovered": uncovered_frame(run, proposal)}, paths["gpkg"])
    write_atomic(paths["csv"], sites_csv(run, result, proposal))
    paths.update(package_edits(folder, network_edits, walker_profile))  # network_edits.geojson
    report = dict(lang=lang, title=title, parameters=parameters, before_after=before_after,
                  indicators=indicators)
    png, pdf, missing = map_png, None, None
    if find_chromium() is None:
        missing = NO_CHROMIUM
    else:
        try:
            png = png if png is not None else html_to_png(map_html)
            pdf = proposal_report_pdf(run, result, evaluation, map_html=map_html, map_png=png,
                                      **report)
        except RuntimeError as err:  # the HTML report still goes out; the README says why
            missing = str(err)
    write_atomic(paths["html"], proposal_report_html(run, result, evaluation, map_html=map_html,
                                                     map_png=png, **report))
    for kind, data in (("pdf", pdf), ("png", png)):
        if data is not None:
            paths[kind] = folder / PACKAGE_FILES[kind]
            write_atomic(paths[kind], data)
    paths["readme"] = folder / PACKAGE_FILES["readme"]
    write_atomic(paths["readme"], _readme(paths, lang, missing))
    return paths


def proposal_zip_bytes(run: SitingRun, result: SitingResult, evaluation: Evaluation, *,
                       lang: str = "zh", title: str | None = None, parameters: dict,
                       map_html: str, map_png: bytes | None = None,
                       before_after: pd.DataFrame | None = None, indicators=None,
                       network_edits=None, walker_profile: str | None = None) -> bytes:
    """The proposal package (see :func:`proposal_package`) as the bytes of a ZIP file."""
    with tempfile.TemporaryDirectory(prefix="cq_proposal_") as tmp:
        paths = proposal_package(run, result, evaluation, folder=tmp, lang=lang, title=title,
                                 parameters=parameters, map_html=map_html, map_png=map_png,
                                 before_after=before_after, indicators=indicators,
                                 network_edits=network_edits, walker_profile=walker_profile)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in paths.values():
                z.write(path, path.name)
        return buf.getvalue()


# ---------------------------------------------------------------- indicator section


def _bars_svg(rows: pd.DataFrame, lang: str) -> str:
    """Horizontal bars of the study area's indicator values (%) with a mark at each
    target: an inline SVG, so the report stays one offline file."""
    rows = rows[rows["value_pct"].notna()]
    left, width, step = 330, 420, 24
    height = step * len(rows) + 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" '
           f'height="{height}" font-size="12" role="img" '
           f'aria-label="{html.escape(t("ind_chart", lang))}">']
    for k in (0, 25, 50, 75, 100):
        x = left + width * k / 100
        out.append(f'<line x1="{x}" y1="4" x2="{x}" y2="{height - 24}" stroke="#ddd"/>'
                   f'<text x="{x}" y="{height - 8}" text-anchor="middle" fill="#666">{k}%</text>')
    for i, r in enumerate(rows.itertuples(index=False)):
        y = 6 + i * step
        name = r.name_zh if lang == "zh" else r.name_en
        colour = "#1a9850" if r.meets_target is True else (
            "#d73027" if r.meets_target is False else "#4575b4")
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">'
                   f"{html.escape(str(name)[:34])}</text>"
                   f'<rect x="{left}" y="{y + 2}" width="{width * r.value_pct / 100:.1f}" '
                   f'height="14" fill="{colour}"/>'
                   f'<text x="{left + width * r.value_pct / 100 + 4:.1f}" y="{y + 13}">'
                   f"{r.value_pct:.1f}</text>")
        if pd.notna(r.target_pct):
            x = left + width * r.target_pct / 100
            out.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 18}" '
                       f'stroke="#000" stroke-width="2"><title>{t("ind_target_mark", lang)} '
                       f"{r.target_pct:g}% ({r.target_year})</title></line>")
    out.append("</svg>")
    return "".join(out)


def indicators_section(result, lang: str = "zh") -> str:
    """The indicator section of a report: the study area's values against targets (a bar
    chart and a table), the GB 50180 compliance by facility type and level, and coverage of
    the elderly and children where the residents carry them."""
    from geo_app.io.indicators import compliance_display, definitions_display, display_table

    area = result.study_area()
    table = display_table(area, lang).drop(columns=[t("ind_zone_type", lang),
                                                    t("ind_zone", lang)])
    for col, fmt in ((t("ind_value", lang), ".1f"), (t("ind_numerator", lang), ",.0f"),
                     (t("ind_denominator", lang), ",.0f")):
        table[col] = ["—" if pd.isna(v) else f"{v:{fmt}}" for v in table[col]]
    parts = [f"<h2>{html.escape(t('ind_section', lang))}</h2>",
             f'<p class="note">{html.escape(t("ind_verify_note", lang))}</p>',
             _bars_svg(area, lang),
             _table(table),
             _table(definitions_display(result.table, lang)),
             f"<h3>{html.escape(t('ind_compliance', lang))}</h3>",
             _table(compliance_display(result.compliance, result.standards, lang),
                    {t("ind_persons", lang): ",.0f"})]
    groups = result.table[(result.table["group"] != "all")
                          & (result.table["zone_type"] == "study_area")]
    if len(groups):
        shown = display_table(groups, lang).drop(columns=[t("ind_zone_type", lang),
                                                          t("ind_zone", lang)])
        parts += [f"<h3>{html.escape(t('ind_group', lang))}</h3>",
                  _table(shown.astype(object).where(shown.notna(), "—"))]
    return "\n".join(parts)


def indicators_report_html(result, *, lang: str = "zh", title: str | None = None) -> str:
    """The indicator section as one self-contained HTML page (title, date, section)."""
    title = title or t("ind_report_title", lang)
    src = result.run_info.set_index("key")["value"].get("coverage", "")
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>"
            f'<p class="muted">{t("generated", lang)}: {_today()} · '
            f"{html.escape(str(src))}</p>" + indicators_section(result, lang)
            + "\n</body></html>\n")


def indicators_report_pdf(result, *, lang: str = "zh", title: str | None = None,
                          timeout_s: float = 60) -> bytes:
    """:func:`indicators_report_html` as PDF bytes (A4) through headless Chromium."""
    return html_to_pdf(indicators_report_html(result, lang=lang, title=title),
                       timeout_s=timeout_s)


# ---------------------------------------------------------------- scorecard section (issue 16)


def scorecard_section(card, lang: str = "zh") -> str:
    """The scorecard section: the 2027 targets' progress (bars), the zones side by side and
    the region groups (tables; shares in percent)."""
    from geo_app.io.scorecard import display

    tb = card.views["targets"]
    bars = []
    for r in tb.itertuples(index=False):
        done = min(max(r.progress, 0.0), 1.0) * 100
        more = min(max(r.progress_with_proposed, 0.0), 1.0) * 100 - done
        name = r.name_zh if lang == "zh" else r.name_en
        bars.append(f'<div style="margin:4px 0">{html.escape(str(name))} · '
                    f"{r.achieved:g} / {r.needed:g} (+{r.proposed:g}) "
                    f'<span class="muted">{html.escape(str(r.section))}</span>'
                    '<div style="background:#eee;height:10px;width:420px">'
                    f'<div style="float:left;background:#1a9850;height:10px;width:{done:.1f}%">'
                    f'</div><div style="float:left;background:#91cf60;height:10px;'
                    f'width:{more:.1f}%"></div></div></div>')
    keep = ["id", "name_zh" if lang == "zh" else "name_en", "clause", "section", "needed",
            "achieved", "proposed", "candidates", "progress", "source"]
    shown = display(tb[keep], lang).astype(object)
    parts = [f"<h2>{html.escape(t('card_targets_heading', lang))}</h2>",
             f'<p class="note">{html.escape(t("card_targets_note", lang))}</p>',
             "".join(bars), _table(shown.where(shown.notna(), "—")),
             f"<h2>{html.escape(t('card_sheet_scorecard', lang))}</h2>"]
    for view in ("scorecard", "regions"):
        if view in card.views:
            f = display(card.views[view], lang).astype(object)
            if view == "regions":
                parts.append(f"<h3>{html.escape(t('card_sheet_regions', lang))}</h3>")
            parts.append(_table(f.where(f.notna(), "—")))
    return "\n".join(parts)


def scorecard_report_html(card, *, lang: str = "zh", title: str | None = None) -> str:
    """The scorecard section as one self-contained HTML page."""
    title = title or t("card_report_title", lang)
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>"
            f'<p class="muted">{t("generated", lang)}: {_today()}</p>'
            + scorecard_section(card, lang) + "\n</body></html>\n")
