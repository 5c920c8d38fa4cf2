"""Tiny rasters for the plugin tests, written and read back with GDAL; the registered algorithms; a
recording feedback; runs that must fail or be cancelled."""

import json
import shlex

import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback

gdal.UseExceptions()

OUTPUT_NODATA = -9999.0
# The nodata the tests give their input stacks: not OUTPUT_NODATA, so an input's nodata that reaches
# an output unchanged does not pass for the output's.
INPUT_NODATA = -32768.0
UTM_32N = 32632
# A 30 m grid in UTM zone 32N (northern Italy), north-up.
DEFAULT_ORIGIN = (600000.0, 5000000.0)
DEFAULT_PIXEL_SIZE = 30.0
# Rasters of CANCELLABLE_SIZE² pixels keep one smr thread busy past its first progress report, so
# a cancel at that report arrives while work is left.
CANCELLABLE_SIZE = 3000


def write_raster(path, bands, nodata=None, epsg=UTM_32N, origin=DEFAULT_ORIGIN,
                 pixel_size=DEFAULT_PIXEL_SIZE, data_type=gdal.GDT_Float32):
    """Write one 2-D array or a list of them (one per band) as a GeoTIFF; return the path."""
    arrays = [np.asarray(bands, dtype=float)] if np.ndim(bands) == 2 else [
        np.asarray(band, dtype=float) for band in bands]
    rows, columns = arrays[0].shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), columns, rows, len(arrays), data_type)
    dataset.SetGeoTransform((origin[0], pixel_size, 0.0, origin[1], 0.0, -pixel_size))
    reference = osr.SpatialReference()
    reference.ImportFromEPSG(epsg)
    dataset.SetProjection(reference.ExportToWkt())
    for number, array in enumerate(arrays, start=1):
        band = dataset.GetRasterBand(number)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(array)
    dataset.FlushCache()
    dataset = None
    return str(path)


def write_stack(path, bands, nodata=None, descriptions=None, **grid):
    """A time stack: bands[b] (2-D) is band b + 1; descriptions (e.g. ISO dates), one per band,
    when given; grid options as write_raster. Returns the path."""
    write_raster(path, [np.asarray(band, dtype=float) for band in bands], nodata, **grid)
    if descriptions is not None:
        dataset = gdal.Open(str(path), gdal.GA_Update)
        for number, description in enumerate(descriptions, start=1):
            dataset.GetRasterBand(number).SetDescription(description)
        dataset = None
    return str(path)


def read_stack(path):
    """(values as float64 [band, row, column], nodata of band 1, the band descriptions)."""
    dataset = gdal.Open(str(path))
    values = dataset.ReadAsArray().astype(np.float64)
    if values.ndim == 2:
        values = values[np.newaxis]
    descriptions = [dataset.GetRasterBand(number).GetDescription()
                    for number in range(1, dataset.RasterCount + 1)]
    return values, dataset.GetRasterBand(1).GetNoDataValue(), descriptions


def read_raster(path, band=1):
    """(values as float64, nodata, data type name, geotransform, CRS WKT) of one band."""
    dataset = gdal.Open(str(path))
    raster_band = dataset.GetRasterBand(band)
    values = raster_band.ReadAsArray().astype(np.float64)
    return (values, raster_band.GetNoDataValue(), gdal.GetDataTypeName(raster_band.DataType),
            dataset.GetGeoTransform(), dataset.GetProjection())


def read_values(path, band=1):
    return read_raster(path, band)[0]


def assert_pixels(path, expected, rel=1e-6, abs_tolerance=1e-6):
    """Compare a Float32 output with expected values; None in `expected` means nodata −9999."""
    values, nodata, data_type, _, _ = read_raster(path)
    assert data_type == "Float32"
    assert nodata == OUTPUT_NODATA
    expected = np.array([[OUTPUT_NODATA if value is None else value for value in row]
                         for row in np.atleast_2d(np.array(expected, dtype=object))], dtype=float)
    assert values.shape == expected.shape
    np.testing.assert_allclose(values, expected, rtol=rel, atol=abs_tolerance)


def algorithm(algorithm_id):
    """The registered algorithm ALGORITHM_ID ("smr:…"), a new instance."""
    created = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
    assert created is not None, f"{algorithm_id} is not registered"
    return created


class RecordingFeedback(QgsProcessingFeedback):
    """A feedback that remembers what it was told, to check the log and progress."""

    def __init__(self):
        super().__init__()
        self.infos = []
        self.warnings = []
        self.errors = []
        self.commands = []
        self.progress = []
        # progressChanged fires for every setProgress, from Python or C++.
        self.progressChanged.connect(self.progress.append)

    def pushInfo(self, info):  # noqa: N802 (QGIS API name)
        self.infos.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802 (QGIS API name)
        self.warnings.append(warning)
        super().pushWarning(warning)

    def reportError(self, error, fatalError=False):  # noqa: N802,N803 (QGIS API names)
        self.errors.append(error)
        super().reportError(error, fatalError)

    def pushCommandInfo(self, info):  # noqa: N802 (QGIS API name)
        self.commands.append(info)
        super().pushCommandInfo(info)

    def log_text(self):
        return "\n".join(self.infos + self.warnings + self.errors)

    def request_sent(self):
        """The JSON parameters of the last smr call, from the file of the bridge's command line
        `smr <command> <file>` (conftest sets SMR_DEBUG_REQUESTS, so that long lists are saved in
        full) or from the request of `smr <command> <<< '<json>'`."""
        words = shlex.split(self.commands[-1])
        if len(words) == 3:
            with open(words[2], encoding="utf-8") as stream:
                return json.load(stream)
        executable, command, here_string, request = words
        assert here_string == "<<<"
        return json.loads(request)


def write_points(path, columns, epsg=UTM_32N):
    """A GeoPackage point layer "points" with one feature per row; return its QGIS source.

    columns: {field name: list of values}, all of one length. A field's type follows its first
    non-None value (float: Real, int: Integer, str: String); None is written as NULL. The points
    lie on a line, 30 m apart: the learning algorithms read attributes only.
    """
    from osgeo import ogr

    ogr.UseExceptions()
    field_types = {float: ogr.OFTReal, int: ogr.OFTInteger, str: ogr.OFTString}
    reference = osr.SpatialReference()
    reference.ImportFromEPSG(epsg)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("points", reference, ogr.wkbPoint)
    for name, values in columns.items():
        first = next(value for value in values if value is not None)
        layer.CreateField(ogr.FieldDefn(name, field_types[type(first)]))
    rows = len(next(iter(columns.values())))
    for row in range(rows):
        feature = ogr.Feature(layer.GetLayerDefn())
        for name, values in columns.items():
            if values[row] is None:
                feature.SetFieldNull(name)
            else:
                feature.SetField(name, values[row])
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(DEFAULT_ORIGIN[0] + DEFAULT_PIXEL_SIZE * row, DEFAULT_ORIGIN[1])
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    source = None
    return f"{path}|layername=points"


def error_of(run, name, parameters):
    """The message of the QgsProcessingException that running smr:<name> must raise."""
    with pytest.raises(QgsProcessingException) as raised:
        run(name, parameters)
    return str(raised.value)


def run_cancelled_at_first_progress(run, name, parameters):
    """Run smr:<name> with one thread and cancel it at its first progress report: it must fail
    with "Cancelled" after reporting progress. Returns the feedback."""
    feedback = RecordingFeedback()
    feedback.progressChanged.connect(lambda _: feedback.cancel())
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run(name, dict(parameters, THREADS=1), feedback)
    assert feedback.progress, "smr reported no progress before finishing"
    return feedback
