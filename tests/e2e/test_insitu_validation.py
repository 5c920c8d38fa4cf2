"""End-to-end on real data: sample_projects/insitu_validation.model3 by qgis_process on the ISMN
in-situ series and the ASCAT series of the same site (../shared/data/ismn_ascat_pair, read where it
lies, never copied: its licence allows use as a test fixture, not redistribution).

The model pairs every ASCAT overpass with the nearest probe reading within one hour
(smr:timematching), compares the pairs (smr:validationmetrics), rescales ASCAT (% saturation) onto
the probe's distribution by CDF matching (smr:cdfmatching) and compares again. Each step is checked
against the same computation written here independently with the csv module and numpy: which
overpasses pair with which readings, the Pearson r, the percentile mapping and every rescaled value.

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
"""

import csv
import datetime
import json
import os
from pathlib import Path

import numpy as np
import pytest
from osgeo import ogr

import qgis_process_helpers as helpers
from qgis_process_helpers import REPO_ROOT, SAMPLE_PROJECTS

MODEL = SAMPLE_PROJECTS / "insitu_validation.model3"
WINDOW_HOURS = 1.0
PERCENTILES = np.linspace(0.0, 100.0, 21)  # cdfmatching's default: every 5 %


def shared_pair_folder():
    configured = os.environ.get("SMR_SHARED_DATA")
    base = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    folder = base / "ismn_ascat_pair"
    if not (folder / "ISMN.csv").is_file():
        message = (f"the real ISMN/ASCAT pair is not at {folder} (set SMR_SHARED_DATA to the "
                   f"folder holding ismn_ascat_pair/)")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return folder


def seconds(text):
    moment = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def read_series(path, time_column, value_column):
    """(times in seconds, values) of the rows with both a time and a finite value."""
    times, values = [], []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = row[value_column].strip()
            if not row[time_column].strip() or not text:
                continue
            value = float(text)
            if np.isfinite(value):
                times.append(seconds(row[time_column]))
                values.append(value)
    return np.array(times), np.array(values)


def nearest_pairs(reference_times, reference_values, other_times, other_values, window_s):
    """Each reference row with the nearest other row within the window (ties: the earlier)."""
    order = np.argsort(other_times, kind="stable")
    sorted_times, sorted_values = other_times[order], other_values[order]
    pairs = []
    for time, value in zip(reference_times, reference_values):
        position = np.searchsorted(sorted_times, time)
        candidates = [j for j in (position - 1, position) if 0 <= j < len(sorted_times)]
        best = min(candidates, key=lambda j: (abs(sorted_times[j] - time), sorted_times[j]))
        if abs(sorted_times[best] - time) <= window_s:
            pairs.append((time, value, sorted_values[best]))
    return np.array(pairs)


def percentile_mapping(source, reference):
    """The documented mapping: numpy-linear percentiles of both, equal source nodes merged into
    one with the mean of their reference nodes."""
    source_nodes = np.percentile(source, PERCENTILES)
    reference_nodes = np.percentile(reference, PERCENTILES)
    merged_source, merged_reference = [], []
    start = 0
    for end in range(1, len(source_nodes) + 1):
        if end == len(source_nodes) or source_nodes[end] != source_nodes[start]:
            merged_source.append(source_nodes[start])
            merged_reference.append(reference_nodes[start:end].mean())
            start = end
    return np.array(merged_source), np.array(merged_reference)


def table_rows(path):
    dataset = ogr.Open(str(path))
    layer = dataset.GetLayer(0)
    return [feature.items() for feature in layer]


@pytest.fixture(scope="module")
def run(qgis_env, tmp_path_factory):
    folder = shared_pair_folder()
    output = tmp_path_factory.mktemp("insitu_validation")

    def text_layer(name):
        # The delimited-text provider detects the numeric and date/time columns, as QGIS Desktop
        # does when the CSV is added with "Detect field types".
        return f"delimitedtext://file://{folder / name}?delimiter=,&detectTypes=yes"

    arguments = [
        f"SATELLITE={text_layer('ASCAT.csv')}", "SATELLITE_TIME_FIELD=field_1",
        "SATELLITE_VALUE_FIELD=sm", f"INSITU={text_layer('ISMN.csv')}",
        "INSITU_TIME_FIELD=date_time", "INSITU_VALUE_FIELD=soil_moisture",
        f"WINDOW_HOURS={WINDOW_HOURS}",
        f"match:PAIRS={output / 'pairs.gpkg'}", f"raw:RAW_REPORT={output / 'raw.html'}",
        f"rescale:RESCALED_PAIRS={output / 'rescaled.gpkg'}",
        f"rescale:MAPPING={output / 'mapping.json'}",
        f"rescaled:RESCALED_REPORT={output / 'rescaled.html'}",
    ]
    results = helpers.run_model_results(qgis_env, MODEL, arguments)
    satellite = read_series(folder / "ASCAT.csv", "", "sm")
    insitu = read_series(folder / "ISMN.csv", "date_time", "soil_moisture")
    expected_pairs = nearest_pairs(*satellite, *insitu, WINDOW_HOURS * 3600.0)
    return {"results": results, "output": output, "pairs": expected_pairs,
            "satellite_rows": len(satellite[0])}


def test_model_is_portable():
    helpers.assert_model_file_is_portable(
        MODEL, ["smr:timematching", "smr:validationmetrics", "smr:cdfmatching"])


def test_time_matching_pairs_the_same_rows_as_a_nearest_search(run):
    results, expected = run["results"], run["pairs"]
    # Only 2017 has probe readings: about 600 of ASCAT's 4,750 overpasses since 2007 can pair.
    assert 500 < len(expected) < 700
    assert results["match:MATCHED"] == len(expected)
    assert results["match:MATCHED"] + results["match:UNMATCHED"] == run["satellite_rows"]
    rows = sorted(table_rows(results["match:PAIRS"]),
                  key=lambda row: (row["reference_time"], row["other_time"]))
    assert len(rows) == len(expected)
    np.testing.assert_array_equal([row["reference_value"] for row in rows], expected[:, 1])
    np.testing.assert_array_equal([row["other_value"] for row in rows], expected[:, 2])
    assert max(abs(row["offset_hours"]) for row in rows) <= WINDOW_HOURS


def test_metrics_of_the_pairs_match_numpy(run):
    results, pairs = run["results"], run["pairs"]
    assert results["raw:N"] == len(pairs)
    np.testing.assert_allclose(results["raw:R"], np.corrcoef(pairs[:, 1], pairs[:, 2])[0, 1],
                               rtol=1e-9)
    np.testing.assert_allclose(results["raw:BIAS"], (pairs[:, 1] - pairs[:, 2]).mean(), rtol=1e-9)


def test_cdf_matching_follows_the_percentile_mapping(run):
    results, pairs = run["results"], run["pairs"]
    source_nodes, reference_nodes = percentile_mapping(pairs[:, 1], pairs[:, 2])
    mapping = json.loads(Path(results["rescale:MAPPING"]).read_text(encoding="utf-8"))
    assert mapping["format"] == "smr-cdf-mapping" and mapping["method"] == "percentile"
    np.testing.assert_allclose(mapping["source"], source_nodes, rtol=1e-12)
    np.testing.assert_allclose(mapping["reference"], reference_nodes, rtol=1e-12)

    rows = table_rows(results["rescale:RESCALED_PAIRS"])
    source = np.array([row["reference_value"] for row in rows])
    matched = np.array([row["reference_value_matched"] for row in rows])
    # Every fitted value lies between the outer nodes, where the mapping is the interpolation.
    np.testing.assert_allclose(matched, np.interp(source, source_nodes, reference_nodes), rtol=1e-9)
    # Rescaled into the probe's unit and range: the bias all but vanishes (% saturation → m³/m³).
    assert abs(results["raw:BIAS"]) > 10
    assert abs(results["rescaled:BIAS"]) < 0.01
    assert results["rescaled:N"] == len(pairs)
    rescaled = np.array([row["reference_value_matched"] for row in rows])
    insitu = np.array([row["other_value"] for row in rows])
    np.testing.assert_allclose(results["rescaled:RMSE"], np.sqrt(((rescaled - insitu) ** 2).mean()),
                               rtol=1e-9)
    for report in ("raw:RAW_REPORT", "rescaled:RESCALED_REPORT"):
        assert Path(results[report]).is_file()
