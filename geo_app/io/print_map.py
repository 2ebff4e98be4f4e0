"""Maps for documents: an offline map page dressed for print (title, north arrow, sources and
date; its legend and metric scale bar kept; zoom buttons, layer switcher, drawing tools and
attribution hidden), then drawn to PNG or PDF by headless Chromium (:mod:`geo_app.io.render`)."""

from __future__ import annotations

import html as html_lib
from datetime import datetime

from geo_app.labels import t

HIDDEN = (".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-draw",
          ".leaflet-control-attribution")

_NORTH = ('<svg width="34" height="48" viewBox="0 0 34 48" aria-hidden="true">'
          '<polygon points="17,2 29,40 17,32 5,40" fill="#222"/>'
          '<polygon points="17,2 17,32 5,40" fill="#fff" stroke="#222" stroke-width="1.5"/>'
          '<text x="17" y="47" font-size="11" text-anchor="middle" '
          'font-family="sans-serif" font-weight="bold">N</text></svg>')


def made_at(timezone: str = "Asia/Shanghai", now: datetime | None = None) -> str:
    """The date and time a map is made, in ``timezone`` (the planners' own by default)."""
    from zoneinfo import ZoneInfo

    when = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(timezone))
    return when.strftime("%Y-%m-%d %H:%M")


def print_page(page: str, *, title: str, lang: str = "zh", sources: str | None = None,
               when: str | None = None, pdf: bool = False) -> str:
    """``page`` (a standalone map page) with a title, a north arrow, its sources and the date
    (``when``, default now in Beijing time), and no interactive controls; ``pdf``: sized to
    one landscape A4 page."""
    from geo_app.config import Settings

    when = when or made_at(Settings.from_env().timezone)
    note = (f"{html_lib.escape(sources or t('print_sources', lang))} · "
            f"{html_lib.escape(t('print_made', lang).format(when=when))}")
    css = "".join(f"{sel}{{display:none!important}}" for sel in HIDDEN)
    css += (".cq-print-title{position:fixed;top:10px;left:14px;right:70px;z-index:1000;"
            "font:bold 22px sans-serif;color:#111;background:rgba(255,255,255,.85);"
            "padding:4px 10px;border-radius:3px}"
            ".cq-print-north{position:fixed;top:10px;right:14px;z-index:1000;"
            "background:rgba(255,255,255,.85);padding:4px;border-radius:3px}"
            ".cq-print-note{position:fixed;bottom:4px;right:10px;z-index:1000;"
            "font:11px sans-serif;color:#333;background:rgba(255,255,255,.85);"
            "padding:2px 6px;border-radius:3px}"
            ".leaflet-bottom{bottom:26px!important}")  # legends and scale above the note
    if pdf:
        css += ("@page{size:A4 landscape;margin:0}"
                "html,body{width:297mm;height:210mm;margin:0}")
    overlay = (f'<div class="cq-print-title">{html_lib.escape(title)}</div>'
               f'<div class="cq-print-north" title="{html_lib.escape(t("north", lang))}">'
               f'{_NORTH}</div><div class="cq-print-note">{note}</div>')
    out = page.replace("</head>", f"<style>{css}</style></head>", 1)
    return out.replace("</body>", f"{overlay}</body>", 1) if "</body>" in out \
        else out + overlay


def map_png(page: str, *, title: str, lang: str = "zh", sources: str | None = None) -> bytes:
    """A 1600 × 1100 pixel picture of the map for documents."""
    from geo_app.io.render import html_to_png

    return html_to_png(print_page(page, title=title, lang=lang, sources=sources),
                       width=1600, height=1100, wait_ms=2500)


def map_pdf(page: str, *, title: str, lang: str = "zh", sources: str | None = None) -> bytes:
    """The map on one landscape A4 page (PDF)."""
    from geo_app.io.render import html_to_pdf

    return html_to_pdf(print_page(page, title=title, lang=lang, sources=sources, pdf=True))
