"""Cancelling stops smr and leaves no file under the requested output name."""

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from raster_helpers import RecordingFeedback, write_raster

SIZE = 3000  # big enough that one thread is still busy when the first progress arrives


def test_cancel_after_first_progress_leaves_no_output(run_algorithm, tmp_path):
    rng = np.random.default_rng(1)
    nir = write_raster(tmp_path / "nir.tif", rng.uniform(0.2, 0.6, (SIZE, SIZE)))
    red = write_raster(tmp_path / "red.tif", rng.uniform(0.02, 0.2, (SIZE, SIZE)))
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    output = output_directory / "ndvi.tif"
    feedback = RecordingFeedback()
    feedback.progressChanged.connect(lambda _: feedback.cancel())

    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_algorithm("spectralindex", {
            "INDEX": 0, "NIR": nir, "RED": red, "THREADS": 1, "OUTPUT": str(output)}, feedback)
    assert feedback.progress, "smr reported no progress before finishing"
    assert not output.exists()
    assert list(output_directory.iterdir()) == []  # no temporary file left beside it either
