"""Numeric fields that arrive as text: a CSV loaded without field types (OGR's CSV driver, or
delimited text with detectTypes=no). The algorithms that read numbers from a layer go through one
reader (algorithms/samples.py, NumberReader): values that parse are used and counted, those that
do not are skipped as missing and counted, and a field without a single number is an error that
says how to load the file with types."""

import csv
import math

import pytest
from qgis.core import QgsVectorLayer

from raster_helpers import RecordingFeedback, error_of

# estimate, reference: three good pairs, one empty estimate (NULL), one that is not a number.
ROWS = [("1", "0.21", "0.20"), ("2", "0.25", "0.27"), ("3", "0.30", "0.31"), ("4", "", "0.12"),
        ("5", "n/a", "0.15")]
GOOD = [(0.21, 0.20), (0.25, 0.27), (0.30, 0.31)]


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def untyped_layers(path):
    """The CSV as OGR reads it (every field a String) and as delimited text without type
    detection; both must give text fields, or the test tests nothing."""
    layers = [QgsVectorLayer(str(path), "pairs", "ogr"),
              QgsVectorLayer(f"file://{path}?delimiter=,&detectTypes=no&geomType=none",
                             "pairs", "delimitedtext")]
    for layer in layers:
        assert layer.isValid()
        assert all(field.typeName().lower() in ("string", "text") for field in layer.fields())
    return layers


@pytest.mark.parametrize("provider", [0, 1], ids=["ogr", "delimitedtext"])
def test_validation_reads_text_fields_as_numbers_and_counts_them(run_algorithm, tmp_path,
                                                                 provider):
    path = write_csv(tmp_path / "pairs.csv", ["id", "estimate", "reference"], ROWS)
    layer = untyped_layers(path)[provider]
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "estimate", "REFERENCE_FIELD": "reference",
        "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback)
    # d = estimate − reference over the three good pairs: 0.01, −0.02, −0.01.
    assert (result["N"], result["SKIPPED"]) == (3, 2)
    assert result["BIAS"] == pytest.approx(-0.02 / 3, abs=1e-12)
    assert result["RMSE"] == pytest.approx(math.sqrt(0.0006 / 3), abs=1e-12)
    assert result["MAE"] == pytest.approx(0.04 / 3, abs=1e-12)
    assert feedback.request_sent()["PAIRS"] == {
        "estimate": [0.21, 0.25, 0.30, None, None], "reference": [0.20, 0.27, 0.31, 0.12, 0.15]}
    infos = "\n".join(feedback.infos)
    assert "ESTIMATE_FIELD ('estimate') is a text field of INPUT_LAYER: 3 values read as " \
           "numbers, 1 not numbers." in infos
    assert "REFERENCE_FIELD ('reference') is a text field of INPUT_LAYER: 5 values read as " \
           "numbers, 0 not numbers." in infos
    # The value that is not a number is a warning, with what to do about it.
    (warning,) = feedback.warnings
    assert warning.startswith("ESTIMATE_FIELD ('estimate'): 1 of 4 text values are not numbers "
                              "(e.g. 'n/a')")
    assert "detectTypes=yes" in warning and feedback.errors == []


def test_a_text_field_without_numbers_says_how_to_load_the_csv_with_types(run_without_core,
                                                                           tmp_path):
    path = write_csv(tmp_path / "pairs.csv", ["estimate", "reference"],
                     [("0,21", "0.20"), ("0,25", "0.27"), ("", "0.31")])
    layer = untyped_layers(path)[0]
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "estimate", "REFERENCE_FIELD": "reference",
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert message.startswith(
        "Invalid value for ESTIMATE_FIELD ('estimate'): the field of INPUT_LAYER is text, not "
        "numeric, and none of its 2 values is a number (e.g. '0,21', '0,25'); the numeric "
        "fields of INPUT_LAYER are none.")
    for how_to in ("Detect field types", "detectTypes=yes", ".csvt", "decimalPoint=,"):
        assert how_to in message, how_to
    assert not (tmp_path / "report.html").exists()


def test_a_date_field_is_still_no_number(run_without_core, tmp_path):
    path = write_csv(tmp_path / "pairs.csv", ["day", "reference"],
                     [("2020-01-01", "0.2"), ("2020-01-02", "0.3")])
    layer = QgsVectorLayer(f"file://{path}?delimiter=,&detectTypes=yes&geomType=none", "pairs",
                           "delimitedtext")
    assert layer.fields().field("day").typeName().lower() == "date"
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "day", "REFERENCE_FIELD": "reference",
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert "Invalid value for ESTIMATE_FIELD ('day'): the field is of type date" in message
    assert "the numeric fields of INPUT_LAYER are reference" in message


def test_text_and_typed_loading_give_the_same_cdf_matching(run_algorithm, tmp_path):
    rows = [(str(i), f"{10.0 + 0.7 * i:.3f}", f"{0.1 + 0.002 * i:.4f}") for i in range(60)]
    path = write_csv(tmp_path / "series.csv", ["id", "ssm", "sm"], rows)
    typed = QgsVectorLayer(f"file://{path}?delimiter=,&detectTypes=yes&geomType=none", "typed",
                           "delimitedtext")
    assert typed.fields().field("ssm").typeName().lower() == "double"
    results = []
    for number, layer in enumerate([typed, untyped_layers(path)[0]]):
        feedback = RecordingFeedback()
        result = run_algorithm("cdfmatching", {
            "INPUT_LAYER": layer, "SOURCE_FIELD": "ssm", "REFERENCE_FIELD": "sm",
            "OUTPUT_TABLE": str(tmp_path / f"matched{number}.gpkg")}, feedback)
        results.append((result["N"], feedback.request_sent()["SERIES"]))
    assert results[0] == results[1] and results[0][0] == 60


def test_time_matching_reads_a_text_value_field(run_algorithm, tmp_path):
    overpasses = write_csv(tmp_path / "overpasses.csv", ["time", "ssm"],
                           [("2020-01-01 06:00", "35.5"), ("2020-01-02 06:00", "x"),
                            ("2020-01-03 06:00", "41.0")])
    probes = write_csv(tmp_path / "probes.csv", ["time", "sm"],
                       [("2020-01-01 06:10", "0.21"), ("2020-01-02 06:00", "0.22"),
                        ("2020-01-03 05:50", "0.25")])
    feedback = RecordingFeedback()
    result = run_algorithm("timematching", {
        "REFERENCE_LAYER": untyped_layers(overpasses)[0], "REFERENCE_TIME_FIELD": "time",
        "REFERENCE_VALUE_FIELD": "ssm", "OTHER_LAYER": untyped_layers(probes)[1],
        "OTHER_TIME_FIELD": "time", "OTHER_VALUE_FIELD": "sm",
        "OUTPUT": str(tmp_path / "pairs.gpkg")}, feedback)
    # The overpass whose value is not a number is skipped like a NULL and counted.
    assert (result["MATCHED"], result["SKIPPED"]) == (2, 1)
    assert any("REFERENCE_VALUE_FIELD ('ssm')" in warning and "'x'" in warning
               for warning in feedback.warnings)


# Fields whose values the shared reader turns into numbers: the dialog and the Modeler list a
# field only if its type matches the parameter's, so a Numeric parameter would hide the text
# fields of an untyped CSV from dialog users although the algorithms accept them.
NUMBER_FIELDS = {
    "validationmetrics": ("ESTIMATE_FIELD", "REFERENCE_FIELD"),
    "cdfmatching": ("SOURCE_FIELD", "REFERENCE_FIELD"),
    "triplecollocation": ("X_FIELD", "Y_FIELD", "Z_FIELD"),
    "trainmlp": ("FEATURE_FIELDS", "TARGET_FIELD"),
    "sensitivityanalysis": ("FEATURE_FIELDS", "TARGET_FIELD", "PRECIPITATION_FIELD"),
    "timematching": ("REFERENCE_VALUE_FIELD", "OTHER_VALUE_FIELD"),
}


@pytest.mark.parametrize("name", sorted(NUMBER_FIELDS))
def test_number_fields_offer_text_fields_in_the_dialog(qgis_app, name):
    from qgis.core import QgsProcessingParameterField

    from raster_helpers import algorithm

    created = algorithm(f"smr:{name}")
    for key in NUMBER_FIELDS[name]:
        definition = created.parameterDefinition(key)
        assert definition is not None, f"smr:{name} has no parameter {key}"
        assert definition.dataType() == QgsProcessingParameterField.Any, f"smr:{name} {key}"
