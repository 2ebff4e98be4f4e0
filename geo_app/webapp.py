"""Helpers the Streamlit app calls: map assets served locally, layer choices, labels."""

from __future__ import annotations

from pathlib import Path

import folium

from geo_app.offline import localize_links

APP_DIR = Path(__file__).resolve().parents[1]
STATIC_DIR = APP_DIR / "static"  # Streamlit serves <app dir>/static at /app/static/


def static_url_prefix(base_url_path: str = "") -> str:
    """URL at which Streamlit serves the app's static folder."""
    base = base_url_path.strip("/")
    return f"/{base}/app/static/" if base else "/app/static/"


def serve_locally(m: folium.Map, base_url_path: str = "") -> folium.Map:
    """Make the map load Leaflet from the app's own static folder (no CDN)."""
    localize_links(m, STATIC_DIR, static_url_prefix(base_url_path))
    return m
