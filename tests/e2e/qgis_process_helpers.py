"""Running a sample model through qgis_process and reading its rasters (tests/e2e)."""

import json
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
# Float32 outputs against a float64 recomputation from the (Float32) inputs.
RTOL = 1e-4


def arguments_list(arguments):
    """{KEY: value} -> ["KEY=value", …], leaving out keys whose value is None."""
    return [f"{key}={value}" for key, value in arguments.items() if value is not None]


def model_arguments(scene_dir, inputs, outputs, output_dir, **values):
    """qgis_process arguments: each input KEY=scene_dir/file, each output KEY=output_dir/name,
    then `values` (a value None leaves that key out)."""
    arguments = {key: scene_dir / name for key, name in inputs.items()}
    arguments.update({key: output_dir / name for key, name in outputs.items()})
    arguments.update(values)
    return arguments_list(arguments)


def generate_scene(executable, folder, **request):
    """`smr samplescene` into FOLDER with REQUEST (WIDTH, HEIGHT, SEED, POINTS…): (FOLDER, the
    parsed scene.json)."""
    request = json.dumps({"OUTPUT_DIR": str(folder), **request})
    result = subprocess.run([executable, "samplescene"], input=request, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert result.returncode == 0, f"smr samplescene failed:\n{result.stdout}\n{result.stderr}"
    return folder, json.loads((folder / "scene.json").read_text())


def assert_model_file_is_portable(model, algorithms):
    """The committed model uses the given algorithms and holds no path of this checkout."""
    text = model.read_text(encoding="utf-8")
    for algorithm in algorithms:
        assert algorithm in text
    assert str(REPO_ROOT) not in text, "the model must not hold absolute paths of this checkout"


def assert_matches(actual, expected, name, rtol=RTOL):
    """Same nodata as the recomputation, values within rtol where valid."""
    valid = np.isfinite(expected)
    assert valid.mean() > 0.99, f"{name}: the inputs are mostly nodata"
    assert np.array_equal(np.isfinite(actual), valid), f"{name}: nodata differs from the inputs'"
    np.testing.assert_allclose(actual[valid], expected[valid], rtol=rtol, err_msg=name)


def run_model(env, model, arguments, *options):
    """qgis_process.bin run [OPTIONS] MODEL -- ARGUMENTS (a list of KEY=value strings)."""
    command = [QGIS_PROCESS, "run", *options, str(model), "--", *arguments]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                          cwd=REPO_ROOT)


def assert_succeeded(result):
    assert result.returncode == 0, (
        f"qgis_process exited {result.returncode}\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}")


def run_model_ok(env, model, arguments):
    result = run_model(env, model, arguments)
    assert_succeeded(result)
    assert "ERROR" not in result.stdout, result.stdout
    return result


def run_model_results(env, model, arguments):
    """qgis_process run --json: the model's results, its numbers as numbers (the text report of
    run_model_ok prints them as text)."""
    result = run_model(env, model, arguments, "--json")
    assert_succeeded(result)
    return json.loads(result.stdout)["results"]


def assert_run_fails_naming(result, parameter):
    """qgis_process refused or failed the run, and what it printed names PARAMETER."""
    printed = result.stdout + result.stderr
    assert result.returncode != 0 or "ERROR" in printed
    assert parameter in printed


def read(path):
    """Band 1 as float64, nodata (which must be −9999) as NaN."""
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    assert nodata == -9999, f"{Path(path).name}: nodata {nodata}, expected -9999"
    values[values == nodata] = np.nan
    return values


def read_stack(path):
    """(every band as float64 [band, row, column], nodata (which must be −9999) as NaN; the band
    descriptions)."""
    dataset = gdal.Open(str(path))
    values = dataset.ReadAsArray().astype(np.float64)
    for band in range(dataset.RasterCount):
        nodata = dataset.GetRasterBand(band + 1).GetNoDataValue()
        assert nodata == -9999, f"{path}: nodata {nodata}"
        values[band][values[band] == nodata] = np.nan
    descriptions = [dataset.GetRasterBand(b + 1).GetDescription() for b in range(dataset.RasterCount)]
    return values, descriptions


def grid(path):
    """(width, height, geotransform, EPSG code) of a raster."""
    dataset = gdal.Open(str(path))
    return (dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform(),
            dataset.GetSpatialRef().GetAuthorityCode(None))


def warp_onto_grid(source, like, destination="", **options):
    """SOURCE warped onto the extent and size of the raster LIKE (same CRS) with gdal.Warp and its
    OPTIONS (resampleAlg, format, outputType…); the destination dataset."""
    width, height, transform, _ = grid(like)
    bounds = (transform[0], transform[3] + height * transform[5],
              transform[0] + width * transform[1], transform[3])
    return gdal.Warp(str(destination), str(source), outputBounds=bounds, width=width,
                     height=height, **options)


def assert_float32_geotiff(path):
    assert Path(path).is_file(), f"{Path(path).name} was not written"
    dataset = gdal.Open(str(path))
    assert dataset.GetDriver().ShortName == "GTiff"
    assert dataset.GetRasterBand(1).DataType == gdal.GDT_Float32
