"""The campaign analysis computed once per brand run and read back by the next notebook
(:func:`kpitools.roi.analysis.analyse_campaigns_shared`), on the demo database."""

from __future__ import annotations

import json

import pytest
from helpers import write_params

from kpitools.data.sources import connect
from kpitools.params import load_params
from kpitools.roi import analyse_campaigns, analyse_campaigns_shared
from kpitools.roi.analysis import SHARED_DIR, campaign_analysis_key


@pytest.fixture(scope="module")
def demo_params(demo_database, tmp_path_factory):
    return load_params(
        write_params(tmp_path_factory.mktemp("shared") / "demo.yaml", demo_database, brand="aurora")
    )


def _doc(report) -> str:
    return json.dumps(report.to_dict(), sort_keys=True, default=str)


def test_second_notebook_reads_the_first_ones_analysis(demo_params, tmp_path):
    kpis_path = str(tmp_path / "kpis.json")
    with connect(demo_params) as db:
        direct = analyse_campaigns(db, demo_params, "2025-12")
        first = analyse_campaigns_shared(db, demo_params, "2025-12", kpis_path=kpis_path)
        shared = list((tmp_path / SHARED_DIR).iterdir())
        assert [p.name for p in shared] == [
            f"campaigns-{campaign_analysis_key(db, demo_params, first.period)}.pkl"
        ]
        assert len(first.campaigns) > 0
        second = analyse_campaigns_shared(
            db, demo_params, "2025-12", kpis_path=kpis_path, last=True
        )
    assert _doc(first) == _doc(direct) == _doc(second)
    assert not (tmp_path / SHARED_DIR).exists()  # removed by the last reader: nothing published


def test_shared_file_is_read_not_recomputed(demo_params, tmp_path):
    kpis_path = str(tmp_path / "kpis.json")
    with connect(demo_params) as db:
        first = analyse_campaigns_shared(db, demo_params, "2025-12", kpis_path=kpis_path)
        (path,) = (tmp_path / SHARED_DIR).iterdir()
        other = analyse_campaigns(db, demo_params, "2025-09")
        import pickle

        path.write_bytes(pickle.dumps(other))  # what a previous notebook would have left
        read = analyse_campaigns_shared(db, demo_params, "2025-12", kpis_path=kpis_path)
    assert _doc(read) == _doc(other) != _doc(first)


def test_key_follows_period_campaign_and_params(demo_params):
    with connect(demo_params) as db:
        dec = analyse_campaigns(db, demo_params, "2025-12").period
        sep = analyse_campaigns(db, demo_params, "2025-09").period
        base = campaign_analysis_key(db, demo_params, dec)
        assert base == campaign_analysis_key(db, demo_params, dec)
        assert base != campaign_analysis_key(db, demo_params, sep)
        assert base != campaign_analysis_key(db, demo_params, dec, campaign="C001")
        alpha = demo_params.model_copy(
            update={"roi": demo_params.roi.model_copy(update={"alpha": 0.1})}
        )
        assert base != campaign_analysis_key(db, alpha, dec)


def test_without_kpis_path_it_is_computed_and_nothing_written(demo_params, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with connect(demo_params) as db:
        report = analyse_campaigns_shared(db, demo_params, "2025-12")
        assert _doc(report) == _doc(analyse_campaigns(db, demo_params, "2025-12"))
    assert list(tmp_path.iterdir()) == []
