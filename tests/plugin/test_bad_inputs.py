"""Wrong inputs raise QgsProcessingException whose message names the parameter."""

import pytest
from qgis.core import QgsProcessingException

from raster_helpers import error_of, write_raster


@pytest.fixture
def red(tmp_path):
    return write_raster(tmp_path / "red.tif", [[0.1, 0.2]])


@pytest.fixture
def four_bands(tmp_path):
    return write_raster(tmp_path / "four.tif", [[[0.1, 0.2]]] * 4)


# QGIS itself refuses a layer it cannot load before the algorithm runs ("Could not load source
# layer for NIR: …"); the plugin's own message covers layers that reach it anyway. Either way the
# message must name the parameter.
UNLOADABLE = ("does not exist", "not a raster", "Could not load source layer for")


def test_band_number_out_of_range(run_without_core, red, four_bands, tmp_path):
    message = error_of(run_without_core, "spectralindex", {
        "INDEX": 0, "RED": red, "NIR": four_bands, "NIR_BAND": 5,
        "OUTPUT": str(tmp_path / "out.tif")})
    assert "Invalid band number for NIR_BAND (5): valid values for the input raster are 1 to 4" \
        in message


def test_missing_file(run_without_core, red, tmp_path):
    missing = str(tmp_path / "no-such-nir.tif")
    message = error_of(run_without_core, "spectralindex", {
        "INDEX": 0, "RED": red, "NIR": missing, "OUTPUT": str(tmp_path / "out.tif")})
    assert "NIR" in message and any(reason in message for reason in UNLOADABLE)


def test_csv_file_is_not_a_raster(run_without_core, red, tmp_path):
    table = tmp_path / "probes.csv"
    table.write_text("station,soil_moisture\nA,0.21\nB,0.33\n")
    message = error_of(run_without_core, "spectralindex", {
        "INDEX": 0, "RED": red, "NIR": str(table), "OUTPUT": str(tmp_path / "out.tif")})
    assert "NIR" in message and any(reason in message for reason in UNLOADABLE)


def test_vector_geopackage_is_not_a_raster(run_without_core, red, tmp_path):
    from osgeo import ogr

    path = str(tmp_path / "points.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    source.CreateLayer("points", geom_type=ogr.wkbPoint)
    source = None
    message = error_of(run_without_core, "mpdi", {
        "TBV": red, "TBH": path, "OUTPUT": str(tmp_path / "out.tif")})
    assert "TBH" in message and any(reason in message for reason in UNLOADABLE)


def test_unknown_index(run_without_core, red, tmp_path):
    message = error_of(run_without_core, "spectralindex", {
        "INDEX": 7, "RED": red, "NIR": red, "OUTPUT": str(tmp_path / "out.tif")})
    assert "INDEX" in message


@pytest.mark.parametrize("index, given, missing", [
    (0, "NIR", "RED"),
    (3, "NIR", "RED and BLUE"),
    (4, "SWIR2", "SWIR1"),
])
def test_index_needs_a_band_that_is_not_given(run_without_core, red, tmp_path, index, given,
                                              missing):
    message = error_of(run_without_core, "spectralindex", {
        "INDEX": index, given: red, "OUTPUT": str(tmp_path / "out.tif")})
    index_name = ["NDVI", "NDMI", "NDWI", "EVI", "NSDSI1"][index]
    assert index_name in message and f"set {missing}" in message


def test_polynomial_without_coefficients(run_without_core, red, tmp_path):
    message = error_of(run_without_core, "vegetationwatercontent", {
        "INPUT": red, "MODEL": 3, "OUTPUT": str(tmp_path / "out.tif")})
    assert "COEFFICIENTS" in message


def test_polynomial_with_a_coefficient_that_is_not_a_number(run_without_core, red, tmp_path):
    message = error_of(run_without_core, "vegetationwatercontent", {
        "INPUT": red, "MODEL": 3, "COEFFICIENTS": "0.3, a", "OUTPUT": str(tmp_path / "out.tif")})
    assert "COEFFICIENTS" in message and "'a'" in message


def test_creation_option_without_a_value(run_without_core, red, tmp_path):
    message = error_of(run_without_core, "mpdi", {
        "TBV": red, "TBH": red, "CREATE_OPTIONS": "COMPRESS=LZW TILED",
        "OUTPUT": str(tmp_path / "out.tif")})
    assert "CREATE_OPTIONS" in message and "TILED" in message


def test_resampling_out_of_range(run_without_core, red, tmp_path):
    message = error_of(run_without_core, "mpdi", {
        "TBV": red, "TBH": red, "RESAMPLING": 9, "OUTPUT": str(tmp_path / "out.tif")})
    assert "RESAMPLING" in message


def test_wrong_input_found_by_the_core_keeps_its_message(run_algorithm, red, tmp_path):
    # Only smr knows SCALE must not be 0; exit code 2 and its message reach the user unchanged.
    message = error_of(run_algorithm, "spectralindex", {
        "INDEX": 0, "RED": red, "NIR": red, "SCALE": 0, "OUTPUT": str(tmp_path / "out.tif")})
    assert "SCALE" in message
    assert not (tmp_path / "out.tif").exists()


@pytest.mark.parametrize("make_source, reason", [
    (lambda tmp_path: str(tmp_path / "no-such-nir.tif"), "does not exist"),
    (lambda tmp_path: (tmp_path / "probes.csv").write_text("a,b\n1,2\n") and
     str(tmp_path / "probes.csv"), "not a raster"),
])
def test_plugin_names_the_parameter_of_an_unreadable_raster(qgis_app, red, tmp_path, make_source,
                                                            reason):
    # Straight to the plugin's own check, past QGIS's pre-check (e.g. a layer that vanished
    # between the dialog's check and the run).
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    algorithm = QgsApplication.processingRegistry().createAlgorithmById("smr:spectralindex")
    with pytest.raises(QgsProcessingException) as raised:
        algorithm.build_request({"INDEX": 0, "RED": red, "NIR": make_source(tmp_path),
                                 "OUTPUT": str(tmp_path / "out.tif")},
                                QgsProcessingContext(), QgsProcessingFeedback())
    assert str(raised.value).startswith("NIR: ") and reason in str(raised.value)


# --- the output guard: the audit's "also through QGIS" cases -------------------------------------

def test_model_file_over_the_target_raster_is_refused_and_the_raster_kept(run_algorithm, tmp_path):
    sigma0 = write_raster(tmp_path / "sigma0.tif", [[-12.0, -11.5, -11.0], [-10.5, -10.0, -9.5]])
    target = write_raster(tmp_path / "target.tif", [[0.10, 0.14, 0.18], [0.22, 0.26, 0.30]])
    before = (tmp_path / "target.tif").read_bytes()
    message = error_of(run_algorithm, "trainmlp", {
        "INPUT_RASTERS": [sigma0], "TARGET_RASTER": target, "EPOCHS": 2, "OUTPUT_MODEL": target,
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert "OUTPUT_MODEL" in message and "is the input TARGET_RASTER" in message
    assert (tmp_path / "target.tif").read_bytes() == before
    assert not [p.name for p in tmp_path.iterdir() if "smr-partial" in p.name]


def test_output_over_an_input_raster_is_refused(run_algorithm, tmp_path):
    tbv = write_raster(tmp_path / "tbv.tif", [[250.0, 260.0]])
    tbh = write_raster(tmp_path / "tbh.tif", [[240.0, 230.0]])
    before = (tmp_path / "tbh.tif").read_bytes()
    message = error_of(run_algorithm, "mpdi", {"TBV": tbv, "TBH": tbh, "OUTPUT": tbh})
    assert "OUTPUT" in message and "is the input TBH" in message
    assert (tmp_path / "tbh.tif").read_bytes() == before
