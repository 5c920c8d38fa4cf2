"""Cancelling stops smr and leaves no file under the requested output name."""

import numpy as np

from raster_helpers import CANCELLABLE_SIZE, run_cancelled_at_first_progress, write_raster


def test_cancel_after_first_progress_leaves_no_output(run_algorithm, tmp_path):
    shape = (CANCELLABLE_SIZE, CANCELLABLE_SIZE)
    rng = np.random.default_rng(1)
    nir = write_raster(tmp_path / "nir.tif", rng.uniform(0.2, 0.6, shape))
    red = write_raster(tmp_path / "red.tif", rng.uniform(0.02, 0.2, shape))
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    output = output_directory / "ndvi.tif"

    run_cancelled_at_first_progress(run_algorithm, "spectralindex", {
        "INDEX": 0, "NIR": nir, "RED": red, "OUTPUT": str(output)})
    assert not output.exists()
    assert list(output_directory.iterdir()) == []  # no temporary file left beside it either
