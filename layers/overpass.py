"""The Overpass API client: explicit queries, one HTTP call each, JSON answers read into
:class:`layers.osm_elements.OsmElements`.

A query selects elements by tags inside the study area's outline and adds everything
they are made of (``(._;>;);``: the nodes of ways, the ways and nodes of relations), so
that geometry can be built and the exact polygon applied afterwards. Nothing here uses
OSMnx or its settings; the only function that touches the network is :func:`_http_post`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import shapely

from geo_app.errors import GeoAppError
from layers.network import OVERPASS_HOST, NetworkUnavailableError
from layers.osm_elements import OsmElements, from_overpass_json

OVERPASS_URL = f"https://{OVERPASS_HOST}/api/interpreter"
QUERY_TIMEOUT_S = 180  # what the query asks the server for (s); the server stops it then
CONNECT_TIMEOUT_S = 10.0  # for the connection to open (s)
READ_MARGIN_S = 30.0  # waited beyond QUERY_TIMEOUT_S for the answer (s)
USER_AGENT = "cq-life-circle (Chongqing 15-minute life-circle planner)"
MAX_POLY_POINTS = 400  # vertices of one outline in a query; larger ones are simplified
_POLY_MARGIN_DEG = 1e-4  # outlines in queries are grown by about this much (≈ 11 m)


class FetchError(GeoAppError, RuntimeError):
    """Downloading from OpenStreetMap failed or found nothing; the message says what."""


def _quote(text: str) -> str:
    """``text`` as an Overpass QL string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(kind: str, tags: Mapping[str, str | bool | Sequence[str]]) -> str:
    """Overpass selector of elements of ``kind`` (``node``, ``way``, ``relation`` or
    ``nwr``) carrying every tag of ``tags``: ``True`` for any value, a text for that
    value, a list for any of those values."""
    parts = []
    for key, value in tags.items():
        if value is True:
            parts.append(f"[{_quote(key)}]")
        elif isinstance(value, str):
            parts.append(f"[{_quote(key)}={_quote(value)}]")
        else:
            alternatives = "|".join(re.escape(str(v)) for v in value)
            parts.append(f"[{_quote(key)}~{_quote('^(' + alternatives + ')$')}]")
    return kind + "".join(parts)


def highway_ways() -> list[str]:
    """Selectors of every way with a ``highway`` tag (walk and drive rules apply later)."""
    return [selector("way", {"highway": True})]


def poly_filters(polygon: shapely.Polygon | shapely.MultiPolygon) -> list[str]:
    """``poly:"lat lon …"`` filters covering each part of ``polygon``: the outer ring,
    grown a little and simplified to at most :data:`MAX_POLY_POINTS` vertices, so that a
    detailed boundary gives a short query that still covers it (holes are not sent; the
    exact polygon is applied to the answer)."""
    out = []
    for part in shapely.get_parts(polygon):
        shell = shapely.Polygon(part.exterior)
        tol = _POLY_MARGIN_DEG
        ring = shell.buffer(2 * tol, join_style="mitre").simplify(tol)
        while len(ring.exterior.coords) > MAX_POLY_POINTS:
            tol *= 2
            ring = shell.buffer(2 * tol, join_style="mitre").simplify(tol)
        xy = np.asarray(ring.exterior.coords)[:-1]
        out.append("poly:" + _quote(" ".join(f"{lat:.7f} {lon:.7f}" for lon, lat in xy)))
    return out


def query(polygon, selectors: Iterable[str], timeout_s: int = QUERY_TIMEOUT_S) -> str:
    """Overpass QL text: the elements of each selector inside ``polygon``'s outline, with
    the nodes, ways and relation members they are made of, in JSON."""
    polys = poly_filters(polygon)
    lines = [f"  {s}({p});" for s in selectors for p in polys]
    return (f"[out:json][timeout:{int(timeout_s)}];\n(\n" + "\n".join(lines)
            + "\n);\n(._;>;);\nout;\n")


def _http_post(url: str, text: str, timeout_s: float) -> tuple[int, str, bytes]:
    """POST the query ``text`` to ``url``; the status code, its reason and the body.

    The one function that talks to the internet (tests replace it)."""
    import requests

    response = requests.post(url, data={"data": text}, headers={"User-Agent": USER_AGENT},
                             timeout=(CONNECT_TIMEOUT_S, timeout_s))
    return response.status_code, response.reason or "", response.content


_ADVICE = {429: "the server is busy with other requests: try again in a minute",
           504: "the server is busy or the area too large: try again later or a smaller "
                "area"}


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def fetch_elements(polygon, selectors: Iterable[str], what: str, *,
                   timeout_s: int = QUERY_TIMEOUT_S) -> OsmElements:
    """Download the elements ``selectors`` name inside ``polygon`` (WGS-84) in one query.

    ``what`` names the data in messages. Connection failures and timeouts raise
    :class:`~layers.network.NetworkUnavailableError`; an HTTP error, an answer that is
    not OSM JSON or a query the server stopped (its ``remark``) raise
    :class:`FetchError`. Every message is one line.
    """
    import requests

    text = query(polygon, selectors, timeout_s)
    try:
        status, reason, body = _http_post(OVERPASS_URL, text, timeout_s + READ_MARGIN_S)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NetworkUnavailableError(
            f"lost the connection to OpenStreetMap while downloading {what} "
            f"({type(exc).__name__}); try again later or supply local files") from exc
    except requests.RequestException as exc:
        raise FetchError(f"downloading {what} from OpenStreetMap failed: "
                         f"{type(exc).__name__}: {_one_line(exc)}") from exc
    failed = f"downloading {what} from OpenStreetMap failed"
    if status != 200:
        advice = _ADVICE.get(status, "try again later or supply local files")
        raise FetchError(f"{failed}: the Overpass API answered HTTP {status} "
                         f"{_one_line(reason, 60)}; {advice}")
    try:
        data = json.loads(body)
    except ValueError:
        raise FetchError(f"{failed}: the answer is not JSON "
                         f"({_one_line(body[:120].decode('utf-8', 'replace'))})") from None
    remark = str(data.get("remark", "")) if isinstance(data, dict) else ""
    if "error" in remark.lower():  # e.g. "runtime error: Query timed out": data incomplete
        raise FetchError(f"{failed}: the Overpass API stopped the query ({_one_line(remark)}); "
                         "try again later or a smaller area")
    try:
        return from_overpass_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FetchError(f"{failed}: unexpected answer ({type(exc).__name__}: "
                         f"{_one_line(exc)})") from None
