"""smr:mpdi on a tiny raster."""

from raster_helpers import assert_pixels, write_raster

NODATA = -9999.0


def test_mpdi(run_algorithm, tmp_path):
    tbv = write_raster(tmp_path / "tbv.tif", [[280.0, 250.0, 0.0, NODATA]], nodata=NODATA)
    tbh = write_raster(tmp_path / "tbh.tif", [[260.0, 250.0, 0.0, 200.0]], nodata=NODATA)
    result = run_algorithm("mpdi", {"TBV": tbv, "TBH": tbh, "OUTPUT": str(tmp_path / "mpdi.tif")})
    # MPDI = (Tbv − Tbh)/(Tbv + Tbh) (paper 003); 0/0 → nodata.
    assert_pixels(result["OUTPUT"], [[20.0 / 540.0, 0.0, None, None]])
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (1, 1, 2)
