"""The 适老化 (age-friendly) view for people: coverage per walker side by side, the gaps
between an adult and the slower walkers, as a table, a sentence, bars and a report page."""

from __future__ import annotations

import html
import math

import pandas as pd

from geo_app.io.display import fmt_minutes, fmt_number, fmt_share
from geo_app.labels import facility_label, t

BASE = "adult"
SLOWER = ("elderly", "wheelchair")  # the differences a planner asks for first
COLOURS = {"adult": "#4575b4", "elderly": "#d73027", "child": "#fdae61",
           "wheelchair": "#7b3294"}


def walkers_of(table: pd.DataFrame) -> list[str]:
    return [c.removeprefix("share_") for c in table.columns if c.startswith("share_")]


def points(v) -> str:
    """A difference of shares (0–1) in percentage points, signed, one decimal."""
    text = fmt_number(100.0 * float(v), 1)
    return text if text.startswith("-") or text in ("0.0", "—") else "+" + text


def display_table(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """:func:`geo_app.workflows.profile_compare.profiles_table` for people: category,
    threshold, share covered per walker (percent), and each slower walker minus the adult
    (percentage points)."""
    walkers = walkers_of(table)
    out = {t("category", lang): [facility_label(c, lang) for c in table["category"]],
           t("wk_minutes", lang): [fmt_minutes(v) for v in table["minutes"]]}
    for w in walkers:
        out[t(f"profile_{w}", lang)] = [fmt_share(v) for v in table[f"share_{w}"]]
    if BASE in walkers:
        for w in (w for w in SLOWER if w in walkers):
            out[t("wk_minus", lang).format(a=t(f"profile_{w}", lang),
                                           b=t(f"profile_{BASE}", lang))] = [
                points(v) for v in table[f"share_{w}"] - table[f"share_{BASE}"]]
    return pd.DataFrame(out)


def largest_drops(table: pd.DataFrame, lang: str = "zh", n: int = 3) -> str:
    """One sentence per slower walker: the categories whose share falls most below the
    adult's (empty when nothing falls)."""
    walkers = walkers_of(table)
    if BASE not in walkers:
        return ""
    rows = table[table["category"] != "basket"]
    said = []
    for w in (w for w in SLOWER if w in walkers):
        drop = (rows[f"share_{BASE}"] - rows[f"share_{w}"]).to_numpy()
        order = [i for i in drop.argsort()[::-1][:n] if drop[i] > 1e-9]
        if order:
            listed = t("list_sep", lang).join(
                f"{facility_label(rows['category'].iloc[i], lang)}"
                f"({points(-drop[i])} {t('wk_points', lang)})" for i in order)
            said.append(t("wk_drops", lang).format(walker=t(f"profile_{w}", lang),
                                                   listed=listed))
    return " ".join(said) if said else t("wk_no_drop", lang)


def bars_svg(table: pd.DataFrame, lang: str = "zh") -> str:
    """Grouped bars of the share covered per category and walker (inline SVG: no scripts)."""
    walkers = walkers_of(table)
    row_h, bar_h, left, width = 10 + 9 * len(walkers), 8, 170, 420
    height = row_h * len(table) + 30
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" '
              f'height="{height}" font-size="11" font-family="sans-serif">')]
    for i, r in enumerate(table.itertuples(index=False)):
        y = 20 + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y + row_h / 2}" text-anchor="end">'
                     f"{html.escape(facility_label(r.category, lang))}</text>")
        for k, w in enumerate(walkers):
            v = float(getattr(r, f"share_{w}"))
            v = v if math.isfinite(v) else 0.0  # NaN: no residents
            parts.append(f'<rect x="{left}" y="{y + k * 9}" width="{width * v:.1f}" '
                         f'height="{bar_h}" fill="{COLOURS.get(w, "#999")}"/>')
    legend = "".join(f'<rect x="{left + 110 * k}" y="2" width="10" height="10" '
                     f'fill="{COLOURS.get(w, "#999")}"/><text x="{left + 110 * k + 14}" '
                     f'y="11">{html.escape(t(f"profile_{w}", lang))}</text>'
                     for k, w in enumerate(walkers))
    return "".join(parts) + legend + "</svg>"


def walkers_section(table: pd.DataFrame, lang: str = "zh", map_png: bytes | None = None) -> str:
    """The report section: heading, sentence, bars, table (and a map picture)."""
    from geo_app.io.report import _img, _table

    parts = [f"<h2>{html.escape(t('wk_heading', lang))}</h2>",
             f'<p class="note">{html.escape(largest_drops(table, lang))}</p>',
             bars_svg(table, lang), _table(display_table(table, lang))]
    if map_png is not None:
        parts.append(_img(map_png, t("wk_map", lang)))
    parts.append(f'<p class="muted">{html.escape(t("wk_note", lang))}</p>')
    return "\n".join(parts)


def walkers_report_html(table: pd.DataFrame, *, lang: str = "zh", title: str | None = None,
                        map_png: bytes | None = None, source: str = "") -> str:
    """The section as one self-contained HTML page (loads nothing from the network)."""
    from geo_app.io.report import _STYLE, _today

    title = title or t("wk_report_title", lang)
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>"
            f'<p class="muted">{t("generated", lang)}: {_today()}'
            + (f" · {html.escape(source)}" if source else "") + "</p>"
            + walkers_section(table, lang, map_png) + "\n</body></html>\n")


def walkers_report_pdf(table: pd.DataFrame, *, lang: str = "zh", title: str | None = None,
                       map_png: bytes | None = None, source: str = "",
                       timeout_s: float = 60) -> bytes:
    """:func:`walkers_report_html` as an A4 PDF through headless Chromium."""
    from geo_app.io.render import html_to_pdf

    return html_to_pdf(walkers_report_html(table, lang=lang, title=title, map_png=map_png,
                                           source=source), timeout_s=timeout_s)
