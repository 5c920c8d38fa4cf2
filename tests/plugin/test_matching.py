"""smr:cdfmatching and smr:timematching: rescaling a table field and stacks onto a reference and
pairing two series by time, against hand-computed values; saved mappings, the inputs users get
wrong, and cancel."""

import csv
import json

import numpy as np
import pytest
from osgeo import ogr, osr
from qgis.core import NULL, QgsVectorLayer
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from raster_helpers import (
    CANCELLABLE_SIZE,
    DEFAULT_ORIGIN,
    DEFAULT_PIXEL_SIZE,
    INPUT_NODATA,
    OUTPUT_NODATA,
    UTM_32N,
    RecordingFeedback,
    algorithm,
    error_of,
    read_stack,
    run_cancelled_at_first_progress,
    write_points,
    write_stack,
)

ND = OUTPUT_NODATA


def features_of(path):
    layer = QgsVectorLayer(str(path), "output", "ogr")
    assert layer.isValid(), path
    return layer, list(layer.getFeatures())


def table_layer(path, header, rows):
    """A CSV written and loaded as a geometryless delimited-text table; an empty cell is NULL."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    layer = QgsVectorLayer(f"file://{path}?delimiter=,&detectTypes=yes&geomType=none",
                           path.stem, "delimitedtext")
    assert layer.isValid(), path
    return layer


def test_groups_help_and_parameters(qgis_app):
    for algorithm_id in ("smr:cdfmatching", "smr:timematching"):
        created = algorithm(algorithm_id)
        assert (created.groupId(), created.group()) == ("validation", "Validation")
        assert not created.icon().isNull()
    cdf = algorithm("smr:cdfmatching")
    assert [option.split()[0] for option in cdf.parameterDefinition("METHOD").options()] == [
        "percentile", "mean", "minimum"]
    assert [option.split()[0] for option in cdf.parameterDefinition("EDGES").options()] == [
        "linear", "clamp"]
    assert (cdf.parameterDefinition("PERCENTILES").defaultValue(),
            cdf.parameterDefinition("MIN_OBSERVATIONS").defaultValue()) == (21, 20)
    help_text = cdf.shortHelpString()
    for expected in ("y = μ_ref + (x − μ_src)·σ_ref/σ_src", "Wang and Xu", "_matched", "numpy",
                     "CONSTANT_PIXELS", "−9999"):
        assert expected in help_text, expected
    outputs = {output.name(): output.type() for output in cdf.outputDefinitions()}
    for key in ("MATCHED_PIXELS", "EMPTY_PIXELS", "FEW_OBSERVATIONS_PIXELS", "CONSTANT_PIXELS",
                "N", "SKIPPED"):
        assert outputs[key] == "outputNumber", key
    assert outputs["OUTPUT_TABLE"] == "outputVector" and outputs["OUTPUT"] == "outputRaster"

    matching = algorithm("smr:timematching")
    help_text = matching.shortHelpString()
    for expected in ("WINDOW_HOURS", "UNIQUE", "ISO-8601", "UTC", "offset_hours",
                     "smr:validationmetrics"):
        assert expected in help_text, expected
    assert matching.parameterDefinition("WINDOW_HOURS").defaultValue() == 1.0
    assert matching.parameterDefinition("UNIQUE").defaultValue() is False
    outputs = {output.name(): output.type() for output in matching.outputDefinitions()}
    for key in ("MATCHED", "UNMATCHED", "SKIPPED", "DUPLICATES_DROPPED"):
        assert outputs[key] == "outputNumber", key


# --- smr:cdfmatching on a table -------------------------------------------------------------------

# Source 1 … 100 and reference = source / 2: every method maps x to x / 2 (the percentiles of an
# evenly spaced source are evenly spaced, so even between nodes the mapping is exact). Feature 5
# has no reference (not fitted, still rescaled), feature 7 no source (NULL out).
SOURCE = [float(value) for value in range(1, 101)]


def half_table(tmp_path, name="pairs.gpkg"):
    source = list(SOURCE)
    reference = [value / 2 for value in SOURCE]
    reference[5] = None
    source[7] = None
    return write_points(tmp_path / name, {"s": source, "r": reference,
                                          "station": [f"st{i % 3}" for i in range(100)]})


@pytest.mark.parametrize("method", [0, 1, 2])
def test_cdf_matching_of_a_field_onto_its_half(run_algorithm, tmp_path, method):
    feedback = RecordingFeedback()
    result = run_algorithm("cdfmatching", {
        "INPUT_LAYER": half_table(tmp_path), "SOURCE_FIELD": "s", "REFERENCE_FIELD": "r",
        "METHOD": method, "OUTPUT_TABLE": str(tmp_path / "matched.gpkg")}, feedback)
    request = feedback.request_sent()
    assert sorted(request["SERIES"]) == ["reference", "source"]
    assert request["SERIES"]["source"][7] is None and request["SERIES"]["reference"][5] is None
    for key in ("RESAMPLING", "THREADS", "FIT_PERIOD", "OUTPUT"):
        assert key not in request, key
    assert (result["N"], result["SKIPPED"]) == (98, 2)
    assert result["OUTPUT"] is None and result["MATCHED_PIXELS"] is None

    layer, features = features_of(result["OUTPUT_TABLE"])
    assert layer.fields().names()[-4:] == ["s", "r", "station", "s_matched"]
    assert len(features) == 100
    for index, feature in enumerate(features):
        if index == 7:
            assert feature["s_matched"] == NULL
        else:
            assert feature["s_matched"] == pytest.approx(feature["s"] / 2, abs=1e-9), index
        point = feature.geometry().asPoint()
        assert (point.x(), point.y()) == (DEFAULT_ORIGIN[0] + DEFAULT_PIXEL_SIZE * index,
                                          DEFAULT_ORIGIN[1])


def test_cdf_mapping_saved_then_applied_with_edges(run_algorithm, tmp_path):
    beyond = write_points(tmp_path / "beyond.gpkg", {"sm": [0.0, 50.0, 150.0, None]})
    for edges, expected in ((0, [0.0, 25.0, 75.0]), (1, [0.5, 25.0, 50.0])):
        mapping = tmp_path / f"mapping{edges}.json"
        result = run_algorithm("cdfmatching", {
            "INPUT_LAYER": half_table(tmp_path, f"pairs{edges}.gpkg"), "SOURCE_FIELD": "s",
            "REFERENCE_FIELD": "r", "EDGES": edges, "MAPPING_OUTPUT": str(mapping),
            "OUTPUT_TABLE": str(tmp_path / f"fitted{edges}.gpkg")})
        assert result["MAPPING_OUTPUT"] == str(mapping)
        saved = json.loads(mapping.read_text(encoding="utf-8"))
        assert saved["format"] == "smr-cdf-mapping" and saved["method"] == "percentile"
        assert saved["edges"] == ("linear", "clamp")[edges] and len(saved["source"]) == 21
        # Applied to another table: below 1 and above 100 the edges decide (linear extends the
        # slope 1/2, clamp holds 0.5 and 50).
        feedback = RecordingFeedback()
        result = run_algorithm("cdfmatching", {
            "INPUT_LAYER": beyond, "SOURCE_FIELD": "sm", "MAPPING": str(mapping),
            "MATCHED_FIELD": "sm_cdf", "OUTPUT_TABLE": str(tmp_path / f"applied{edges}.gpkg")},
            feedback)
        request = feedback.request_sent()
        assert request["SERIES"] == {"source": [0.0, 50.0, 150.0, None]}
        assert "METHOD" not in request and "EDGES" not in request
        assert (result["N"], result["SKIPPED"]) == (3, 1)
        _, features = features_of(result["OUTPUT_TABLE"])
        assert [feature["sm_cdf"] for feature in features][:3] == pytest.approx(expected,
                                                                                abs=1e-9)
        assert features[3]["sm_cdf"] == NULL


def test_cdf_matching_table_inputs_users_get_wrong(run_without_core, run_algorithm, tmp_path):
    layer = half_table(tmp_path)
    table = {"INPUT_LAYER": layer, "SOURCE_FIELD": "s", "REFERENCE_FIELD": "r",
             "OUTPUT_TABLE": str(tmp_path / "out.gpkg")}
    stack = write_stack(tmp_path / "sm.tif", [[[0.1]], [[0.2]]])
    message = error_of(run_without_core, "cdfmatching", {**table, "SOURCE": stack})
    assert "given twice" in message and "INPUT_LAYER" in message and "SOURCE" in message
    message = error_of(run_without_core, "cdfmatching", {"OUTPUT_TABLE": table["OUTPUT_TABLE"]})
    assert "No source given" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "MATCHED_FIELD": "station"})
    assert "Invalid value for MATCHED_FIELD ('station')" in message and "already" in message
    with_matched = write_points(tmp_path / "matched.gpkg", {"s": [1.0], "r": [2.0],
                                                            "s_matched": [0.5]})
    message = error_of(run_without_core, "cdfmatching", {**table, "INPUT_LAYER": with_matched})
    assert "MATCHED_FIELD ('s_matched')" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "REFERENCE_FIELD": "station"})
    assert "Invalid value for REFERENCE_FIELD ('station')" in message and "numeric" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "REFERENCE_FIELD": "s"})
    assert "it is also SOURCE_FIELD" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "REFERENCE_FIELD": None})
    assert "REFERENCE_FIELD is empty" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "MAPPING": stack})
    assert "Invalid value for MAPPING" in message and ".json" in message
    message = error_of(run_without_core, "cdfmatching", {
        **table, "MAPPING_OUTPUT": str(tmp_path / "mapping.tif")})
    assert "Invalid value for MAPPING_OUTPUT" in message and ".json" in message
    message = error_of(run_without_core, "cdfmatching", {**table, "REFERENCE_STACK": stack})
    assert "REFERENCE_STACK" in message and "REFERENCE_FIELD" in message
    # The core's checks: too few pairs for MIN_OBSERVATIONS.
    message = error_of(run_algorithm, "cdfmatching", {**table, "MIN_OBSERVATIONS": 500})
    assert "MIN_OBSERVATIONS" in message and "98" in message
    assert not (tmp_path / "out.gpkg").exists()


def test_cdf_matching_cancel_while_reading(run_algorithm, tmp_path):
    feedback = run_cancelled_at_first_progress(run_algorithm, "cdfmatching", {
        "INPUT_LAYER": half_table(tmp_path), "SOURCE_FIELD": "s", "REFERENCE_FIELD": "r",
        "OUTPUT_TABLE": str(tmp_path / "out.gpkg")})
    assert not feedback.commands  # stopped before smr was started
    assert not (tmp_path / "out.gpkg").exists()


# --- smr:cdfmatching on stacks --------------------------------------------------------------------

BANDS = 40


def cdf_stacks(folder):
    """Source s = 1 … 40 plus a per-pixel offset, reference = s / 2, on 2×2 pixels:
      (0,0), (0,1) matched; (1,0) constant source; (1,1) reference valid at 3 dates only."""
    steps = np.arange(1.0, BANDS + 1)[:, None, None]
    source = steps + np.array([[0.0, 10.0], [0.0, 5.0]])
    source[:, 1, 0] = 7.0
    reference = source / 2
    reference[3:, 1, 1] = INPUT_NODATA
    dates = [f"2019-01-{day:02d}" if day <= 31 else f"2019-02-{day - 31:02d}"
             for day in range(1, BANDS + 1)]
    return (write_stack(folder / "source.tif", source, descriptions=dates),
            write_stack(folder / "reference.tif", reference, nodata=INPUT_NODATA,
                        descriptions=dates), source, dates)


def test_cdf_matching_of_stacks_fitted_then_applied(run_algorithm, tmp_path):
    source_path, reference_path, source, dates = cdf_stacks(tmp_path)
    feedback = RecordingFeedback()
    # Fitted on the first 20 dates only; the later (larger) values are mapped by the linear edge.
    result = run_algorithm("cdfmatching", {
        "SOURCE": source_path, "REFERENCE_STACK": reference_path, "FIT_PERIOD": "1:20",
        "OUTPUT": str(tmp_path / "matched.tif"), "MAPPING_OUTPUT": str(tmp_path / "mapping.tif")},
        feedback)
    request = feedback.request_sent()
    assert request["FIT_PERIOD"] == "1:20" and request["METHOD"] == "percentile"
    assert request["EDGES"] == "linear" and "SERIES" not in request
    assert (result["MATCHED_PIXELS"], result["CONSTANT_PIXELS"],
            result["FEW_OBSERVATIONS_PIXELS"], result["EMPTY_PIXELS"]) == (2, 1, 1, 0)
    assert result["N"] is None and result["OUTPUT_TABLE"] is None
    values, nodata, descriptions = read_stack(tmp_path / "matched.tif")
    assert nodata == ND and descriptions == dates
    np.testing.assert_allclose(values[:, 0, :], source[:, 0, :] / 2, atol=1e-5)
    assert (values[:, 1, :] == ND).all()
    mapping, _, mapping_bands = read_stack(tmp_path / "mapping.tif")
    assert mapping.shape[0] == 42 and mapping_bands[1] == "source p5" \
        and mapping_bands[22] == "reference p5"
    np.testing.assert_allclose(mapping[21:, 0, 0], mapping[:21, 0, 0] / 2, atol=1e-5)

    # The saved mapping applied again gives the same stack; nothing is fitted, so the fitting
    # settings and the resampling (a mapping raster is aligned with nearest) are not sent.
    feedback = RecordingFeedback()
    result = run_algorithm("cdfmatching", {
        "SOURCE": source_path, "MAPPING": str(tmp_path / "mapping.tif"), "THREADS": 2,
        "OUTPUT": str(tmp_path / "applied.tif")}, feedback)
    request = feedback.request_sent()
    for key in ("METHOD", "PERCENTILES", "MIN_OBSERVATIONS", "EDGES", "RESAMPLING",
                "REFERENCE_STACK"):
        assert key not in request, key
    assert result["MATCHED_PIXELS"] == 2 and result["UNMAPPED_PIXELS"] == 2
    np.testing.assert_array_equal(read_stack(tmp_path / "applied.tif")[0], values)


def test_cdf_matching_stack_inputs_users_get_wrong(run_without_core, tmp_path):
    source_path, reference_path, _, _ = cdf_stacks(tmp_path)
    output = {"OUTPUT": str(tmp_path / "matched.tif")}
    message = error_of(run_without_core, "cdfmatching", {"SOURCE": source_path, **output})
    assert "REFERENCE_STACK" in message and "MAPPING" in message and "give one" in message
    message = error_of(run_without_core, "cdfmatching", {
        "SOURCE": source_path, "REFERENCE_STACK": reference_path,
        "MAPPING": str(tmp_path / "mapping.tif"), **output})
    assert "both are set" in message
    message = error_of(run_without_core, "cdfmatching", {
        "SOURCE": source_path, "REFERENCE_STACK": reference_path,
        "MAPPING_OUTPUT": str(tmp_path / "mapping.json"), **output})
    assert "Invalid value for MAPPING_OUTPUT" in message and ".tif" in message
    message = error_of(run_without_core, "cdfmatching", {
        "SOURCE": source_path, "REFERENCE_STACK": reference_path, "SOURCE_FIELD": "s", **output})
    assert "SOURCE_FIELD is a field of INPUT_LAYER" in message


def test_cdf_matching_of_stacks_cancel_leaves_no_output(run_algorithm, tmp_path):
    shape = (CANCELLABLE_SIZE, CANCELLABLE_SIZE)
    generator = np.random.default_rng(8)
    stack = write_stack(tmp_path / "large.tif", [generator.uniform(0.0, 0.5, shape)
                                                 for _ in range(2)])
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "cdfmatching", {
        "SOURCE": stack, "REFERENCE_STACK": stack, "MIN_OBSERVATIONS": 2,
        "OUTPUT": str(output_directory / "matched.tif")})
    assert list(output_directory.iterdir()) == []


# --- smr:timematching -----------------------------------------------------------------------------

def write_overpasses(path, rows, station_type=ogr.OFTInteger):
    """A GeoPackage point layer "overpasses" with a date/time field (UTC), a value and a station;
    rows: (time as (y, m, d, h, min) or None, value or None, station)."""
    ogr.UseExceptions()
    reference = osr.SpatialReference()
    reference.ImportFromEPSG(UTM_32N)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("overpasses", reference, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("time", ogr.OFTDateTime))
    layer.CreateField(ogr.FieldDefn("sm", ogr.OFTReal))
    layer.CreateField(ogr.FieldDefn("station", station_type))
    for index, (time, value, station) in enumerate(rows):
        feature = ogr.Feature(layer.GetLayerDefn())
        if time is None:
            feature.SetFieldNull("time")
        else:
            feature.SetField("time", *time, 0, 100)  # seconds 0, time zone flag 100: UTC
        if value is None:
            feature.SetFieldNull("sm")
        else:
            feature.SetField("sm", value)
        feature.SetField("station", station)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(DEFAULT_ORIGIN[0] + 100.0 * index, DEFAULT_ORIGIN[1])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return f"{path}|layername=overpasses"


# Overpasses (the reference, kept), not sorted; row 2 has no value, row 3 nothing within 1 h.
OVERPASSES = [
    ((2020, 1, 1, 6, 0), 0.20, 7),
    ((2020, 1, 1, 18, 0), 0.30, 7),
    ((2020, 1, 2, 6, 0), None, 7),
    ((2020, 1, 3, 6, 0), 0.25, 7),
    ((2020, 1, 1, 6, 20), 0.22, 7),
    ((2020, 1, 1, 5, 40), 0.18, 7),
]
# In-situ readings as ISO text: 05:30 and 06:30 are equally near 06:00 (the earlier wins),
# 19:00Z is exactly 1 h after 18:00 (inclusive), 08:10+02:00 is 06:10Z but has no value, and one
# row has no time.
PROBES = [
    ("2020-01-01 05:30:00", 0.21, "7"),
    ("2020-01-01T08:30:00+02:00", 0.23, "7"),
    ("2020-01-01T19:00:00Z", 0.31, "7"),
    ("2020-01-02T08:10:00+02:00", None, "7"),
    (None, 0.4, "7"),
]


def matching_parameters(tmp_path, **overrides):
    parameters = {
        "REFERENCE_LAYER": write_overpasses(tmp_path / "overpasses.gpkg", OVERPASSES),
        "REFERENCE_TIME_FIELD": "time", "REFERENCE_VALUE_FIELD": "sm",
        "OTHER_LAYER": table_layer(tmp_path / "probes.csv", ["date_time", "soil_moisture",
                                                               "station"], PROBES),
        "OTHER_TIME_FIELD": "date_time", "OTHER_VALUE_FIELD": "soil_moisture",
        "OUTPUT": str(tmp_path / "pairs.gpkg")}
    parameters.update(overrides)
    return parameters


def pairs_of(result):
    _, features = features_of(result["OUTPUT"])
    return [(feature["reference_time"].toString("yyyy-MM-dd HH:mm"), feature["reference_value"],
             feature["other_time"].toString("yyyy-MM-dd HH:mm"), feature["other_value"],
             round(feature["offset_hours"], 6)) for feature in features], features


def test_time_matching_of_hand_made_rows(run_algorithm, tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("timematching", matching_parameters(tmp_path), feedback)
    request = feedback.request_sent()
    # Seconds since 1970 UTC; the rows without a value or a time are not sent.
    day = 1577836800.0  # 2020-01-01T00:00Z
    assert request["REFERENCE_TIMES"] == [day + 6 * 3600, day + 18 * 3600, day + 2 * 86400 + 6 *
                                          3600, day + 6 * 3600 + 1200, day + 5 * 3600 + 2400]
    assert request["OTHER_TIMES"] == [day + 5.5 * 3600, day + 6.5 * 3600, day + 19 * 3600]
    assert request["WINDOW_HOURS"] == 1.0 and request["UNIQUE"] is False
    assert "REFERENCE_GROUPS" not in request
    assert (result["MATCHED"], result["UNMATCHED"], result["SKIPPED"],
            result["DUPLICATES_DROPPED"]) == (4, 1, 3, 0)
    pairs, features = pairs_of(result)
    assert pairs == [
        ("2020-01-01 06:00", 0.20, "2020-01-01 05:30", 0.21, -0.5),
        ("2020-01-01 18:00", 0.30, "2020-01-01 19:00", 0.31, 1.0),
        ("2020-01-01 06:20", 0.22, "2020-01-01 06:30", 0.23, round(10 / 60, 6)),
        ("2020-01-01 05:40", 0.18, "2020-01-01 05:30", 0.21, round(-10 / 60, 6)),
    ]
    layer, _ = features_of(result["OUTPUT"])
    assert layer.fields().names()[-5:] == ["reference_time", "reference_value", "other_time",
                                           "other_value", "offset_hours"]
    # Each pair keeps the geometry of its overpass (rows 0, 1, 4 and 5).
    assert [feature.geometry().asPoint().x() - DEFAULT_ORIGIN[0] for feature in features] == [
        0.0, 100.0, 400.0, 500.0]

    # UNIQUE: 05:30 goes to 05:40 (10 min) rather than 06:00 (30 min), which stays unmatched.
    result = run_algorithm("timematching", matching_parameters(
        tmp_path, UNIQUE=True, OUTPUT=str(tmp_path / "unique.gpkg")))
    assert (result["MATCHED"], result["UNMATCHED"], result["DUPLICATES_DROPPED"]) == (3, 1, 1)
    assert [pair[0] for pair in pairs_of(result)[0]] == [
        "2020-01-01 18:00", "2020-01-01 06:20", "2020-01-01 05:40"]

    # A 2-minute window keeps none of them.
    result = run_algorithm("timematching", matching_parameters(
        tmp_path, WINDOW_HOURS=2 / 60 - 1e-9, OUTPUT=str(tmp_path / "none.gpkg")))
    assert (result["MATCHED"], result["UNMATCHED"]) == (0, 5)


def test_time_matching_within_stations(run_algorithm, tmp_path):
    # Station 7 of an integer field is station "7" of the text field; station 8 has no probe.
    overpasses = [((2020, 1, 1, 6, 0), 0.20, 7), ((2020, 1, 1, 6, 0), 0.26, 8),
                  ((2020, 1, 1, 6, 5), 0.27, 9)]
    probes = [("2020-01-01 06:20", 0.21, "7"), ("2020-01-01 06:01", 0.5, "9"),
              ("2020-01-01 06:02", 0.6, "x")]
    feedback = RecordingFeedback()
    result = run_algorithm("timematching", {
        **matching_parameters(tmp_path),
        "REFERENCE_LAYER": write_overpasses(tmp_path / "stations.gpkg", overpasses),
        "OTHER_LAYER": table_layer(tmp_path / "station_probes.csv",
                                   ["date_time", "soil_moisture", "station"], probes),
        "REFERENCE_GROUP_FIELD": "station", "OTHER_GROUP_FIELD": "station"}, feedback)
    request = feedback.request_sent()
    assert request["REFERENCE_GROUPS"] == ["7", "8", "9"]
    assert request["OTHER_GROUPS"] == ["7", "9", "x"]
    assert (result["MATCHED"], result["UNMATCHED"]) == (2, 1)
    pairs, features = pairs_of(result)
    assert [feature["group"] for feature in features] == ["7", "9"]
    assert [pair[3] for pair in pairs] == [0.21, 0.5]
    assert features_of(result["OUTPUT"])[0].fields().names()[-6] == "group"


def test_time_matching_of_geometryless_tables_feeds_validation(run_algorithm, tmp_path):
    satellite = table_layer(tmp_path / "ascat.csv", ["", "sm"], [
        ("2007-01-02 07:06:24.336000", 35.0), ("2007-01-02 19:35:03.782400", 38.0)])
    result = run_algorithm("timematching", {
        "REFERENCE_LAYER": satellite, "REFERENCE_TIME_FIELD": satellite.fields().names()[0],
        "REFERENCE_VALUE_FIELD": "sm",
        "OTHER_LAYER": table_layer(tmp_path / "ismn.csv", ["date_time", "soil_moisture"], [
            ("2007-01-02 07:00:00", 0.30), ("2007-01-02 20:00:00", 0.33)]),
        "OTHER_TIME_FIELD": "date_time", "OTHER_VALUE_FIELD": "soil_moisture",
        "OUTPUT": str(tmp_path / "pairs.gpkg")})
    pairs, features = pairs_of(result)
    assert [pair[4] for pair in pairs] == [round(-384.336 / 3600, 6), round(1496.2176 / 3600, 6)]
    assert not features[0].hasGeometry()
    # The pairs are what smr:validationmetrics reads.
    validation = run_algorithm("validationmetrics", {
        "INPUT_LAYER": result["OUTPUT"], "ESTIMATE_FIELD": "reference_value",
        "REFERENCE_FIELD": "other_value", "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert validation["N"] == 2


def test_times_and_groups_as_the_core_gets_them(qgis_app):
    from smr.algorithms.timematching import UnreadableTime, group_key, seconds_since_epoch

    day = 1577836800.0  # 2020-01-01T00:00Z
    # Without a time zone: UTC, whatever the machine's zone.
    assert seconds_since_epoch(QDateTime(QDate(2020, 1, 1), QTime(6, 0), Qt.LocalTime)) \
        == day + 6 * 3600
    assert seconds_since_epoch(QDateTime(QDate(2020, 1, 1), QTime(6, 0), Qt.OffsetFromUTC,
                                         7200)) == day + 4 * 3600
    assert seconds_since_epoch(QDate(2020, 1, 2)) == day + 86400
    assert seconds_since_epoch("2020-01-01") == day
    assert seconds_since_epoch("2020-01-01T06:00:00.250+02:00") == day + 4 * 3600 + 0.25
    assert seconds_since_epoch(" ") is None and seconds_since_epoch(NULL) is None
    assert seconds_since_epoch(QDateTime()) is None
    with pytest.raises(UnreadableTime):
        seconds_since_epoch("01/02/2020 06:00")
    assert [group_key(value) for value in (7, 7.0, "7", 7.5, NULL)] == ["7", "7", "7", "7.5",
                                                                       None]


def test_time_matching_inputs_users_get_wrong(run_without_core, tmp_path):
    bad_time = table_layer(tmp_path / "bad.csv", ["date_time", "soil_moisture", "station"], [
        ("2020-01-01 05:30:00", 0.21, "7"), ("2020-13-45 05:30", 0.22, "7")])
    message = error_of(run_without_core, "timematching", matching_parameters(
        tmp_path, OTHER_LAYER=bad_time))
    assert "Invalid value in OTHER_TIME_FIELD ('date_time')" in message
    assert "row 2" in message and "'2020-13-45 05:30'" in message and "ISO-8601" in message
    message = error_of(run_without_core, "timematching", matching_parameters(
        tmp_path, OTHER_TIME_FIELD="soil_moisture"))
    assert "Invalid value for OTHER_TIME_FIELD ('soil_moisture')" in message \
        and "date_time" in message
    message = error_of(run_without_core, "timematching", matching_parameters(
        tmp_path, REFERENCE_VALUE_FIELD="time"))
    assert "Invalid value for REFERENCE_VALUE_FIELD ('time')" in message and "numeric" in message
    message = error_of(run_without_core, "timematching", matching_parameters(
        tmp_path, REFERENCE_GROUP_FIELD="station"))
    assert "REFERENCE_GROUP_FIELD is set but OTHER_GROUP_FIELD is empty" in message
    message = error_of(run_without_core, "timematching", matching_parameters(
        tmp_path, OTHER_VALUE_FIELD="moisture"))
    assert "Invalid value for OTHER_VALUE_FIELD ('moisture')" in message and "OTHER_LAYER" \
        in message
    assert not (tmp_path / "pairs.gpkg").exists()


def test_time_matching_cancel_while_reading(run_algorithm, tmp_path):
    feedback = run_cancelled_at_first_progress(run_algorithm, "timematching",
                                               matching_parameters(tmp_path))
    assert not feedback.commands
    assert not (tmp_path / "pairs.gpkg").exists()
