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
