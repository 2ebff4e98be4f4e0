"""Coverage side by side for every walker (the 适老化 view): the adult column is the adult
run, slower walkers never reach more, and the CLI writes and prints the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_app.workflows.coverage import run, sample_path
from geo_app.workflows.profile_compare import profiles_table, profiles_text, walker_names


@pytest.fixture(scope="module")
def table(helsinki_inputs):
    return profiles_table(helsinki_inputs, minutes=10, join="node")


def test_one_column_pair_per_walker(table, helsinki_inputs):
    assert walker_names()[:4] == ["adult", "elderly", "child", "wheelchair"]
    for w in walker_names():
        assert {f"pop_{w}", f"share_{w}"} <= set(table.columns)
    adult = run(helsinki_inputs, profile="adult", minutes=10, join="node", isochrones="none")
    area = adult.summary[adult.summary["zone_type"] == "study_area"].iloc[0]
    for r in table.itertuples(index=False):
        assert r.pop_adult == pytest.approx(area[f"pop_{r.category}"])
    assert table["category"].iloc[-1] == "basket"


def test_slower_walkers_never_reach_more(table):
    for w in ("elderly", "wheelchair"):
        assert (table[f"share_{w}"].to_numpy() <= table["share_adult"].to_numpy() + 1e-12).all()
    assert (table["share_elderly"] < table["share_adult"]).any()  # and some reach less


def test_text_has_a_column_per_walker(table):
    text = profiles_text(table)
    assert text.splitlines()[0].split()[2:] == walker_names()
    assert "%" in text.splitlines()[1]


def test_cli_writes_the_profiles_layer(cli, tmp_path):
    out = tmp_path / "r.gpkg"
    r = cli("coverage", "--network", sample_path(), "--facilities", sample_path(), "--demand",
            "buildings", "--minutes", 10, "--isochrones", "none", "--compare-profiles",
            "--out", out)
    assert "share covered by walker:" in r.stdout and "wheelchair" in r.stdout
    import pyogrio

    layer = pd.DataFrame(pyogrio.read_dataframe(out, layer="profiles", read_geometry=False))
    assert list(layer["category"])[-1] == "basket"
    assert np.isfinite(layer["share_elderly"]).all()
    bad = cli.run("coverage", "--network", sample_path(), "--facilities", sample_path(),
                  "--demand", "buildings", "--compare-profiles", "--shard-km", 1,
                  "--out", tmp_path / "x.gpkg")
    assert bad.returncode == 2 and "--compare-profiles runs in one process" in bad.stderr
