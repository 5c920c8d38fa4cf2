"""Running a sample model through qgis_process and reading its rasters (tests/e2e)."""

import subprocess
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PROJECTS = REPO_ROOT / "sample_projects"
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
SIZE = 200  # radar pixels per side: a 4 km scene, 134 × 134 optical and 7 × 7 passive pixels
TIMEOUT = 300


def arguments_list(arguments):
    """{KEY: value} -> ["KEY=value", …], leaving out keys whose value is None."""
    return [f"{key}={value}" for key, value in arguments.items() if value is not None]


def model_arguments(inputs, outputs, output_dir=None, **values):
    """qgis_process arguments: the inputs, each output KEY=output_dir/name, then `values`."""
    arguments = dict(inputs)
    if output_dir is not None:
        arguments.update({key: output_dir / name for key, name in outputs.items()})
    arguments.update(values)
    return arguments_list(arguments)


def assert_model_file_is_portable(model, algorithms):
    """The committed model uses the given algorithms and holds no path of this checkout."""
    text = model.read_text(encoding="utf-8")
    for algorithm in algorithms:
        assert algorithm in text
    assert str(REPO_ROOT) not in text, "the model must not hold absolute paths of this checkout"


def assert_matches(actual, expected, name, rtol):
    """Same nodata as the recomputation, values within rtol where valid."""
    valid = np.isfinite(expected)
    assert valid.mean() > 0.99, f"{name}: the inputs are mostly nodata"
    assert np.array_equal(np.isfinite(actual), valid), f"{name}: nodata differs from the inputs'"
    np.testing.assert_allclose(actual[valid], expected[valid], rtol=rtol, err_msg=name)


def run_model(env, model, arguments):
    """qgis_process.bin run MODEL -- ARGUMENTS (a list of KEY=value strings)."""
    command = [QGIS_PROCESS, "run", str(model), "--", *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=REPO_ROOT)


def run_model_ok(env, model, arguments):
    result = run_model(env, model, arguments)
    assert result.returncode == 0, (
        f"qgis_process exited {result.returncode}\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}")
    assert "ERROR" not in result.stdout, result.stdout
    return result


def read(path):
    """Band 1 as float64, nodata (which must be −9999) as NaN."""
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    assert nodata == -9999, f"{Path(path).name}: nodata {nodata}, expected -9999"
    values[values == nodata] = np.nan
    return values


def grid(path):
    """(width, height, geotransform, EPSG code) of a raster."""
    dataset = gdal.Open(str(path))
    return (dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform(),
            dataset.GetSpatialRef().GetAuthorityCode(None))


def assert_float32_geotiff(path):
    assert Path(path).is_file(), f"{Path(path).name} was not written"
    dataset = gdal.Open(str(path))
    assert dataset.GetDriver().ShortName == "GTiff"
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
