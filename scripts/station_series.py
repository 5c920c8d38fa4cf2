"""Write a station's series for insitu_validation.model3 from the time-series sample scene.

    /usr/bin/python3 scripts/station_series.py SCENE_DIR OUTPUT_DIR [--column C --row R]

Two CSV tables, as the two sides of a real validation arrive (ISMN probe files, a satellite
product's time series at a site):
  station_insitu.csv     hourly probe readings, `date_time,soil_moisture` (m³/m³): the cell's true
                         soil moisture of the day (the scene's truth is daily) plus N(0, 0.01)
                         measurement noise, seeded
  station_satellite.csv  one overpass a day at 21:30 UTC, `time,ssm` (% saturation): the cell's
                         value of the scene's satellite-like product tc_satellite_ssm, days without
                         a value left as an empty field
Halfway between two readings, the overpasses show smr:timematching's rule for ties (the earlier).
"""

import argparse
import csv
import datetime
from pathlib import Path

import numpy as np
from osgeo import gdal

PROBE_NOISE = 0.01  # m³/m³
OVERPASS = datetime.time(21, 30)


def cell_series(path, column, row):
    dataset = gdal.Open(str(path))
    values = dataset.ReadAsArray(column, row, 1, 1).reshape(-1).astype(np.float64)
    dates = [datetime.date.fromisoformat(dataset.GetRasterBand(b + 1).GetDescription())
             for b in range(dataset.RasterCount)]
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    values[values == nodata] = np.nan
    return dates, values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scene_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--column", type=int, default=30, help="cell column (default 30)")
    parser.add_argument("--row", type=int, default=20, help="cell row (default 20)")
    parser.add_argument("--seed", type=int, default=5)
    arguments = parser.parse_args()

    dates, truth = cell_series(arguments.scene_dir / "truth_sm.tif", arguments.column, arguments.row)
    satellite_dates, satellite = cell_series(arguments.scene_dir / "tc_satellite_ssm.tif",
                                             arguments.column, arguments.row)
    assert dates == satellite_dates, "the scene's stacks must share their dates"
    rng = np.random.default_rng(arguments.seed)
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    with open(arguments.output_dir / "station_insitu.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date_time", "soil_moisture"])
        for day, value in zip(dates, truth):
            for hour in range(24):
                reading = value + PROBE_NOISE * rng.standard_normal()
                writer.writerow([f"{day.isoformat()} {hour:02d}:00:00", f"{reading:.4f}"])
    with open(arguments.output_dir / "station_satellite.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "ssm"])
        for day, value in zip(dates, satellite):
            moment = datetime.datetime.combine(day, OVERPASS)
            writer.writerow([moment.isoformat(sep=" "), "" if np.isnan(value) else f"{value:.2f}"])
    print(f"station at cell column {arguments.column}, row {arguments.row}: "
          f"{len(dates) * 24} hourly readings, {int(np.isfinite(satellite).sum())} overpasses with a "
          f"value, in {arguments.output_dir}")


if __name__ == "__main__":
    main()
