"""The input options every command that reads a planner's files shares (no geo imports).

``input_options(p, inputs, roles=...)`` adds, once for a command:

- ``--<role>-column [INPUT=]COLUMN`` for the column roles (lon, lat, category, population,
  name; capacity and id where they matter): the user's column of that role in each input
  file that reads the role, or only in ``INPUT`` (e.g. ``--lon-column demand=X坐标``);
- ``--layer [INPUT=]NAME``: the layer or sheet of the input files holding several
  (or of ``INPUT`` only);
- ``--datum`` and ``--<input>-datum`` (each defaulting to ``--datum``);
- ``--on-bad-rows raise|drop``.

``columns_of(args, input)``, ``layer_of(args, input)`` and ``datum_of(args, input)`` read
them back for one input; ``input_notes`` collects the warnings raised while reading, and
``run_info_of`` records what was read, how, and those warnings, for the result's run info.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import contextmanager

#: Column roles the options name, in the order they are listed.
ROLES = ("lon", "lat", "category", "population", "name", "capacity", "id")
BASE_ROLES = ("lon", "lat", "category", "population", "name")
#: The roles each kind of input file reads.
INPUT_ROLES = {
    "facilities": ("lon", "lat", "name", "category", "capacity"),
    "existing": ("lon", "lat", "category", "capacity"),
    "demand": ("lon", "lat", "population", "id"),
    "sites": ("lon", "lat", "name"),
    "candidates": ("lon", "lat", "name"),
    "points": ("lon", "lat", "name", "category", "population", "capacity"),
    "pois": ("lon", "lat", "category"),
    "centres": ("lon", "lat", "name"),
    "bases": ("lon", "lat", "name"),
    "network": (),
}
HELP = {
    "lon": "longitude (or x) column", "lat": "latitude (or y) column",
    "category": "category column (basket key, name, alias, Amap 类型名称 or 类型代码)",
    "population": "residents column (persons)", "name": "name column",
    "capacity": "capacity column (beds, seats, floor area …)", "id": "id column",
}
DATUMS = "wgs84, cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:<code>"


def input_options(p: argparse.ArgumentParser, inputs: Sequence[str], *,
                  roles: Sequence[str] = BASE_ROLES) -> None:
    """Add the shared input options of a command whose input files are ``inputs`` (in the
    order of its options, e.g. ``("network", "facilities", "demand")``)."""
    inputs = tuple(inputs)
    tables = [i for i in inputs if INPUT_ROLES[i]]
    g = p.add_argument_group("input files", "how the input files are read; "
                             "[INPUT=] limits an option to one input: "
                             + ", ".join(tables))
    for role in [r for r in ROLES if r in roles]:
        g.add_argument(f"--{role}-column", dest=f"{role}_column", action="append",
                       metavar="[INPUT=]COLUMN",
                       help=f"{HELP[role]} of the input files (default: found by its "
                            "Chinese or English header, data/gis/column_aliases.csv)")
    g.add_argument("--layer", action="append", metavar="[INPUT=]NAME",
                   help="the layer or sheet to read of a file holding several (GeoPackage, "
                        "Excel, zip)")
    g.add_argument("--datum", default="wgs84", help=f"datum of the input files: {DATUMS} "
                   "(default wgs84)")
    for name in inputs:
        g.add_argument(f"--{name}-datum", help=f"datum of --{name} (default: --datum)")
    on_bad_rows_option(g)
    p.set_defaults(input_names=inputs, column_roles=tuple(roles))


def on_bad_rows_option(p) -> None:
    """``--on-bad-rows raise|drop``."""
    p.add_argument("--on-bad-rows", choices=("raise", "drop"), default="raise",
                   help="raise (default): refuse a file with unusable or repeated rows, naming "
                        "them; drop: leave those rows out, list them as warnings and in the "
                        "result's run info")


def _split(args: argparse.Namespace, option: str, value: str) -> tuple[str | None, str]:
    """(input or None, value) of ``[INPUT=]VALUE``; an unknown INPUT is refused."""
    from geo_app.errors import ParameterError

    names = getattr(args, "input_names", ())
    head, sep, tail = value.partition("=")
    if sep and head in INPUT_ROLES:
        if head not in names:
            raise ParameterError(f"{option} {value}: {head} is not an input of this command "
                                 f"(its inputs: {', '.join(names)})")
        if not tail.strip():
            raise ParameterError(f"{option} {value}: name the column or layer after '='")
        return head, tail
    if not value.strip():
        raise ParameterError(f"{option}: empty value")
    return None, value


def _given(args: argparse.Namespace, dest: str, name: str, option: str) -> str | None:
    """The value of a repeatable ``[INPUT=]VALUE`` option for input ``name``: its own, else
    the one without INPUT."""
    plain = None
    for value in getattr(args, dest, None) or ():
        where, text = _split(args, option, value)
        if where == name:
            return text
        if where is None:
            plain = text
    return plain


def columns_of(args: argparse.Namespace, name: str) -> dict[str, str]:
    """{role: column} the options name for the input ``name`` (only roles it reads)."""
    out = {}
    for role in INPUT_ROLES.get(name, ()):
        column = _given(args, f"{role}_column", name, f"--{role}-column")
        if column:
            out[role] = column
    return out


def layer_of(args: argparse.Namespace, name: str) -> str | None:
    """The layer or sheet ``--layer`` names for the input ``name``: ``--layer name=X``, else
    a plain ``--layer X`` when the input's file holds several layers or sheets."""
    own = plain = None
    for value in getattr(args, "layer", None) or ():
        where, text = _split(args, "--layer", value)
        if where == name:
            own = text
        elif where is None:
            plain = text
    if own is not None or plain is None:
        return own
    return plain if len(_layers_in(getattr(args, name, None))) > 1 else None


def _layers_in(spec) -> list[str]:
    from pathlib import Path

    if not isinstance(spec, (str, Path)) or not Path(spec).is_file():
        return []
    from layers.sources import layer_names

    return layer_names(spec)


def datum_of(args: argparse.Namespace, name: str) -> str:
    """``--<name>-datum``, else ``--datum``."""
    return getattr(args, f"{name.replace('-', '_')}_datum", None) or args.datum


def check_options(args: argparse.Namespace) -> None:
    """Refuse ``[INPUT=]`` values naming another command's input, and warn about a column
    option no input of this command reads (it would do nothing)."""
    from geo_app.errors import ParameterError, warn

    names = getattr(args, "input_names", ())
    for role in getattr(args, "column_roles", ()):
        for value in getattr(args, f"{role}_column", None) or ():
            where, _ = _split(args, f"--{role}-column", value)
            readers = [n for n in names if role in INPUT_ROLES[n]]
            if where is not None and where not in readers:
                raise ParameterError(f"--{role}-column {value}: {where} has no {role} column "
                                     f"(inputs with one: {', '.join(readers) or 'none'})")
            if where is None and not readers:
                warn(None, f"--{role}-column {value}: no input of this command reads a {role} "
                     f"column (its inputs: {', '.join(names)}); ignored",
                     key="warn_option_ignored", option=f"--{role}-column")
    for value in getattr(args, "layer", None) or ():
        where, _ = _split(args, "--layer", value)
        if where is None and not any(len(_layers_in(getattr(args, n, None))) > 1
                                     for n in names):
            warn(None, f"--layer {value}: no input file of this command holds several layers "
                 "or sheets; ignored", key="warn_option_ignored", option="--layer")


def hint(args: argparse.Namespace, message: str) -> str:
    """A refusal of a column named by a plain ``--<role>-column`` (which every input file
    reading the role gets), with the ``INPUT=`` form that names it for one file only."""
    import re

    found = re.search(r"no column '([^']*)' for (\w+) \(--(\w+)-column\)", message)
    if not found:
        return message
    column, role = found.group(1), found.group(2)
    readers = [n for n in getattr(args, "input_names", ()) if role in INPUT_ROLES[n]]
    plain = [v for v in getattr(args, f"{role}_column", None) or () if "=" not in v]
    if len(readers) < 2 or column not in plain:
        return message
    others = [n for n in readers if not message.startswith(f"{getattr(args, n, None)}:")]
    return (f"{message} (--{role}-column {column} applies to every input file with a {role} "
            f"column: {', '.join(readers)}; name it for one of them, e.g. "
            f"--{role}-column {(others or readers)[0]}={column})")


def reader_options(args: argparse.Namespace, name: str) -> dict:
    """``datum``, ``layer``, ``columns`` and ``on_bad_rows`` for reading the input ``name``."""
    return {"datum": datum_of(args, name), "layer": layer_of(args, name),
            "columns": columns_of(args, name) or None, "on_bad_rows": args.on_bad_rows}


@contextmanager
def input_notes():
    """Collect the project's warnings raised while reading inputs (they are still shown)."""
    import warnings

    from geo_app.errors import GeoAppWarning

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoAppWarning)
        yield notes
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        if issubclass(w.category, GeoAppWarning):
            notes.append(str(w.message))


def run_info_of(args: argparse.Namespace, notes: Sequence[str] = ()) -> dict[str, str]:
    """What was read and how, for a result's run info: each input given (its datum, layer
    and columns where set), ``on_bad_rows`` and the warnings raised while reading."""
    out: dict[str, str] = {}
    for name in getattr(args, "input_names", ()):
        spec = getattr(args, name, None)
        if spec is None:
            continue
        out[f"input_{name}"] = str(spec)
        out[f"datum_{name}"] = datum_of(args, name)
        if layer_of(args, name):
            out[f"layer_{name}"] = layer_of(args, name)
        cols = columns_of(args, name)
        if cols:
            out[f"columns_{name}"] = "; ".join(f"{r}={c}" for r, c in cols.items())
    out["on_bad_rows"] = args.on_bad_rows
    out["input_warnings"] = " | ".join(notes) if notes else "none"
    return out


def edits_of(args: argparse.Namespace):
    """The ``--edits`` file of a command, read and checked (None without one)."""
    if getattr(args, "edits", None) is None:
        return None
    from layers.edits import read_edits

    return read_edits(args.edits)
