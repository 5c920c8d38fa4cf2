"""smr:samplestacks: time stacks sampled at points into a long table (one row per point and date),
against the pixels read by hand; reprojected points, the default id, NULLs, the inputs users get
wrong, and cancel."""

import math

import pytest
from osgeo import ogr, osr
from qgis.core import NULL, QgsVectorLayer
from qgis.PyQt.QtCore import QDate

from raster_helpers import (
    DEFAULT_ORIGIN,
    DEFAULT_PIXEL_SIZE,
    INPUT_NODATA,
    UTM_32N,
    RecordingFeedback,
    algorithm,
    error_of,
    run_cancelled_at_first_progress,
    write_stack,
)

WGS84 = 4326
DATES = ["2016-01-01", "2016-01-07", "2016-01-13"]
# 4 columns × 3 rows of 30 m from DEFAULT_ORIGIN.
COLUMNS, ROWS = 4, 3


def centre(column, row):
    return (DEFAULT_ORIGIN[0] + DEFAULT_PIXEL_SIZE * (column + 0.5),
            DEFAULT_ORIGIN[1] - DEFAULT_PIXEL_SIZE * (row + 0.5))


def numbered(scale, offset=0.0):
    """Three bands; band b at (column c, row r) is scale·(100·b + 4·r + c) + offset."""
    return [[[scale * (100 * b + 4 * r + c) + offset for c in range(COLUMNS)] for r in range(ROWS)]
            for b in range(3)]


def write_points(path, points, epsg=UTM_32N, ids=None, geometry=ogr.wkbPoint):
    """A GeoPackage layer "points": one feature per (x, y) in EPSG:epsg, with a text field
    "station" when ids are given; None is a feature without a geometry."""
    ogr.UseExceptions()
    reference = osr.SpatialReference()
    reference.ImportFromEPSG(epsg)
    reference.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("points", reference, geometry)
    if ids is not None:
        layer.CreateField(ogr.FieldDefn("station", ogr.OFTString))
    for number, point in enumerate(points):
        feature = ogr.Feature(layer.GetLayerDefn())
        if ids is not None:
            feature.SetField("station", ids[number])
        if point is not None:
            if geometry == ogr.wkbPolygon:
                x, y = point
                feature.SetGeometry(ogr.CreateGeometryFromWkt(
                    f"POLYGON(({x} {y},{x + 1} {y},{x + 1} {y + 1},{x} {y}))"))
            else:
                shape = ogr.Geometry(ogr.wkbPoint)
                shape.AddPoint_2D(*point)
                feature.SetGeometry(shape)
        layer.CreateFeature(feature)
    source = None
    return f"{path}|layername=points"


def stacks(tmp_path):
    sigma = write_stack(tmp_path / "sigma0 vv.tif", numbered(1.0, 0.25), nodata=INPUT_NODATA,
                        descriptions=DATES)
    vwc = write_stack(tmp_path / "vwc.tif", numbered(0.001, 0.5), descriptions=DATES)
    return sigma, vwc


def table(path):
    layer = QgsVectorLayer(str(path), "table", "ogr")
    assert layer.isValid(), path
    return layer, list(layer.getFeatures())


def test_group_and_parameters(qgis_app):
    created = algorithm("smr:samplestacks")
    assert (created.groupId(), created.group()) == ("validation", "Validation")
    assert {definition.name() for definition in created.parameterDefinitions()} >= {
        "INPUT", "ID_FIELD", "STACKS", "STACK_NAMES", "THREADS", "OUTPUT"}
    assert {output.name() for output in created.outputDefinitions()} >= {
        "OUTPUT", "ROWS", "POINTS", "POINTS_OUTSIDE", "NULL_VALUES", "SKIPPED_FEATURES"}


def test_values_at_points_one_row_per_point_and_date(run_algorithm, tmp_path):
    sigma, vwc = stacks(tmp_path)
    # A nodata pixel in band 2 of sigma at (2, 1).
    from osgeo import gdal
    dataset = gdal.Open(sigma, gdal.GA_Update)
    band = dataset.GetRasterBand(2)
    values = band.ReadAsArray()
    values[1, 2] = INPUT_NODATA
    band.WriteArray(values)
    dataset = None
    west_of_the_stacks = (DEFAULT_ORIGIN[0] - 10.0, DEFAULT_ORIGIN[1])
    points = write_points(tmp_path / "points.gpkg",
                          [centre(2, 1), centre(0, 2), west_of_the_stacks, None],
                          ids=["S1", "S2", "far", "nowhere"])
    feedback = RecordingFeedback()
    result = run_algorithm("samplestacks", {
        "INPUT": points, "ID_FIELD": "station", "STACKS": [sigma, vwc],
        "OUTPUT": str(tmp_path / "table.gpkg")}, feedback)
    assert (result["ROWS"], result["POINTS"], result["POINTS_OUTSIDE"]) == (9, 3, 1)
    assert result["SKIPPED_FEATURES"] == 1
    assert result["NULL_VALUES"] == 1 + 3 * 2  # the nodata pixel, and "far" in both stacks
    layer, features = table(result["OUTPUT"])
    names = [field.name() for field in layer.fields()]
    assert names[-5:] == ["station", "band", "date", "sigma0_vv", "vwc"]
    rows = [(f["station"], f["band"], f["date"], f["sigma0_vv"], f["vwc"]) for f in features]
    assert [row[:3] for row in rows] == [
        (station, band, QDate.fromString(date, "yyyy-MM-dd"))
        for station in ("S1", "S2", "far") for band, date in enumerate(DATES, start=1)]
    # S1 on (2, 1): 4·1 + 2 = 6; S2 on (0, 2): 8.
    assert rows[0][3:] == (6.25, pytest.approx(0.506, abs=1e-7))
    assert rows[1][3] == NULL and rows[1][4] == pytest.approx(0.606, abs=1e-7)
    assert rows[2][3:] == (206.25, pytest.approx(0.706, abs=1e-7))
    assert [row[3] for row in rows[3:6]] == [8.25, 108.25, 208.25]
    assert all(row[3] == NULL and row[4] == NULL for row in rows[6:])
    # Float32 values come back as their shortest decimal.
    assert rows[3][4] == 0.508
    # Every row keeps its point's geometry.
    x, y = centre(2, 1)
    assert features[0].geometry().asPoint().x() == pytest.approx(x)
    assert features[0].geometry().asPoint().y() == pytest.approx(y)
    assert "far" in feedback.log_text()


def test_reprojected_points_and_feature_ids(run_algorithm, tmp_path):
    sigma, vwc = stacks(tmp_path)
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(UTM_32N)
    wgs84.ImportFromEPSG(WGS84)
    for reference in (utm, wgs84):
        reference.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs84 = osr.CoordinateTransformation(utm, wgs84)
    lon_lat = [to_wgs84.TransformPoint(*centre(column, row))[:2]
               for column, row in ((3, 0), (1, 2))]
    points = write_points(tmp_path / "points.gpkg", lon_lat, epsg=WGS84)
    feedback = RecordingFeedback()
    result = run_algorithm("samplestacks", {
        "INPUT": points, "STACKS": [vwc, sigma], "STACK_NAMES": "VWC, σ0 VV",
        "OUTPUT": str(tmp_path / "table.gpkg")}, feedback)
    assert "reprojected from EPSG:4326 to EPSG:32632" in feedback.log_text()
    layer, features = table(result["OUTPUT"])
    assert [field.name() for field in layer.fields()][-5:] == [
        "feature_id", "band", "date", "VWC", "s_0_VV"]
    assert layer.crs().authid() == "EPSG:4326"
    assert [f["feature_id"] for f in features] == [1, 1, 1, 2, 2, 2]
    assert [f["s_0_VV"] for f in features] == [3.25, 103.25, 203.25, 9.25, 109.25, 209.25]
    assert result["POINTS_OUTSIDE"] == 0 and result["NULL_VALUES"] == 0
    sent = feedback.request_sent()
    assert sent["NAMES"] == ["VWC", "σ0 VV"] and sent["ID_NAME"] == "feature_id"


def test_undated_stacks_leave_the_date_null(run_algorithm, tmp_path):
    undated = write_stack(tmp_path / "undated.tif", numbered(1.0))
    points = write_points(tmp_path / "points.gpkg", [centre(1, 1)])
    result = run_algorithm("samplestacks", {"INPUT": points, "STACKS": [undated],
                                            "OUTPUT": str(tmp_path / "table.gpkg")})
    _, features = table(result["OUTPUT"])
    assert [(f["band"], f["date"], f["undated"]) for f in features] == [
        (1, NULL, 5.0), (2, NULL, 105.0), (3, NULL, 205.0)]


def test_bad_inputs(run_algorithm, tmp_path):
    sigma, vwc = stacks(tmp_path)
    points = write_points(tmp_path / "points.gpkg", [centre(0, 0)])
    output = tmp_path / "table.gpkg"
    base = {"INPUT": points, "STACKS": [sigma], "OUTPUT": str(output)}
    # No stacks.
    assert "STACKS" in error_of(run_algorithm, "samplestacks", dict(base, STACKS=[]))
    # Stacks of different dates: the core names both layers, the band and both dates.
    shifted = write_stack(tmp_path / "shifted.tif", numbered(1.0),
                          descriptions=["2016-01-01", "2016-01-08", "2016-01-13"])
    message = error_of(run_algorithm, "samplestacks", dict(base, STACKS=[sigma, shifted]))
    assert "'shifted'" in message and "band 2 is dated 2016-01-08" in message
    assert "'sigma0 vv'" in message and "2016-01-07" in message
    # Stacks of different lengths.
    short = write_stack(tmp_path / "short.tif", numbered(1.0)[:2], descriptions=DATES[:2])
    assert "has 2 bands" in error_of(run_algorithm, "samplestacks",
                                     dict(base, STACKS=[sigma, short]))
    # Names that do not match the stacks.
    message = error_of(run_algorithm, "samplestacks",
                       dict(base, STACKS=[sigma, vwc], STACK_NAMES="one"))
    assert "Invalid value for STACK_NAMES" in message and "1 names for 2 stacks" in message
    # An empty layer.
    empty = write_points(tmp_path / "empty.gpkg", [])
    message = error_of(run_algorithm, "samplestacks", dict(base, INPUT=empty))
    assert "INPUT has no point to sample" in message
    # A layer of polygons.
    polygons = write_points(tmp_path / "polygons.gpkg", [centre(0, 0)], geometry=ogr.wkbPolygon)
    assert "INPUT" in error_of(run_algorithm, "samplestacks", dict(base, INPUT=polygons))
    # A missing id field.
    message = error_of(run_algorithm, "samplestacks", dict(base, ID_FIELD="station"))
    assert "ID_FIELD" in message
    assert not output.exists()


def test_cancel_while_reading_points(run_algorithm, tmp_path):
    sigma, _ = stacks(tmp_path)
    points = write_points(tmp_path / "points.gpkg", [centre(0, 0)] * 10)
    feedback = run_cancelled_at_first_progress(run_algorithm, "samplestacks", {
        "INPUT": points, "STACKS": [sigma], "OUTPUT": str(tmp_path / "table.gpkg")})
    assert not feedback.commands  # stopped before smr was started
    assert not (tmp_path / "table.gpkg").exists()


def test_same_table_for_one_and_two_threads(run_algorithm, tmp_path):
    sigma, vwc = stacks(tmp_path)
    points = write_points(tmp_path / "points.gpkg",
                          [centre(c, r) for c in range(COLUMNS) for r in range(ROWS)])
    tables = []
    for threads in (1, 2):
        result = run_algorithm("samplestacks", {
            "INPUT": points, "STACKS": [sigma, vwc], "THREADS": threads,
            "OUTPUT": str(tmp_path / f"table{threads}.gpkg")})
        _, features = table(result["OUTPUT"])
        tables.append([f.attributes()[1:] for f in features])
    assert tables[0] == tables[1]
    assert not any(isinstance(v, float) and math.isnan(v) for row in tables[0] for v in row)
