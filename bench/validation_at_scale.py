#!/usr/bin/python3
"""Benchmark: per-pixel temporal metrics and triple collocation over large stacks, `smr
temporalmetrics` / `smr triplecollocation` against the same computation in numpy.

    /usr/bin/python3 bench/validation_at_scale.py                  # 1000 × 1000 pixels × 365 days
    /usr/bin/python3 bench/validation_at_scale.py --size 200 --days 100   # a quick check

Three stacks X, Y, Z (Float32, band = day, uncompressed, band-interleaved strips of 16 rows, so
that any block of rows is read without decoding more) are generated once in the work folder: a seasonal truth per
pixel plus day-to-day noise, X = truth + N(0, 0.02) with 10 % of the days missing, Y = 0.05 + 0.7·truth
+ N(0, 0.03), Z = 200·truth + N(0, 6) (% saturation). Then, in the same run, each under GNU time
(/usr/bin/time -v: wall time and peak resident memory):

  smr temporalmetrics     X against Y: per-pixel r, p-value, RMSE, ubRMSE, bias, MAE, N (7 bands)
                          and the spatial correlation of every day (CSV), all cores
  numpy temporalmetrics   the same with numpy (float64, nan-aware, p-values from scipy.stats.t),
                          reading blocks of rows with GDAL and accumulating the per-day sums across
                          the blocks, writing the same 7-band GeoTIFF
  smr triplecollocation   X, Y, Z: error variance, error std (own units and scaled to X), SNR,
                          correlation with the truth and scaling factors (19 bands)
  numpy triplecollocation the same formulas (covariances over the days where all three are valid)

Both sides write the same uncompressed tiled GeoTIFFs (TILED=YES): this bench measures the
computation, not the compression (smr's default DEFLATE + PREDICTOR=3 adds about 3.5 s to the 19-band
collocation output at 1000 × 1000 on 2 cores, numpy's single-threaded writer more). The ratio is numpy's
wall time over smr's. The outputs are compared (largest difference of r, RMSE, error variance), so the two did
the same computation. With --memory-sizes smr also runs on smaller grids to show that its peak
memory does not grow with the raster.

The numpy peer works block by block (--numpy-rows rows at a time) so it fits in memory at 1000 ×
1000 × 365; reading whole stacks would take 4.4 GB for the three inputs before any float64 copy.

Needs python3-numpy, python3-gdal, python3-scipy and GNU time. The table goes to stdout and to
bench/results/validation_at_scale-<date>.txt and .json (bench/results/ is not committed). Benchmarks
are not tests: compare the ratios measured in the same run.
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

from wcm_inversion import NODATA, RESULTS_DIR, machine_description, smr_executable, timed

gdal.UseExceptions()

OUTPUT_OPTIONS = ["TILED=YES", "BIGTIFF=IF_SAFER"]  # the same for both tools
INPUT_STRIP_ROWS = 16
AGREEMENT = 1e-5  # largest |smr − numpy| allowed on r, RMSE, error variances (Float32 outputs)
TEMPORAL_BANDS = ("r", "p_value", "rmse", "ubrmse", "bias", "mae", "n")
MIN_OBSERVATIONS_TEMPORAL = 10
MIN_OBSERVATIONS_TC = 30
MIN_CORRELATION = 0.2
SIGNIFICANCE = 0.05
X_MISSING = 0.1
ERROR_STD = (0.02, 0.03, 6.0)  # X, Y, Z in their own units
CALIBRATION = ((0.0, 1.0), (0.05, 0.7), (0.0, 200.0))  # offset, gain of X, Y, Z


# --- the stacks ---------------------------------------------------------------------------------

def generate_stacks(folder, size, days, seed=7, rows_per_block=50):
    """X, Y, Z stacks of size × size pixels and `days` bands; returns their paths."""
    paths = [folder / f"{name}.tif" for name in ("x", "y", "z")]
    if all(path.exists() for path in paths) and (folder / "done").exists():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    driver = gdal.GetDriverByName("GTiff")
    datasets = []
    for path in paths:
        dataset = driver.Create(str(path), size, size, days, gdal.GDT_Float32,
                                ["INTERLEAVE=BAND", "BIGTIFF=YES", f"BLOCKYSIZE={INPUT_STRIP_ROWS}"])
        dataset.SetGeoTransform((500000.0, 100.0, 0.0, 4650000.0, 0.0, -100.0))
        for band in range(1, days + 1):
            dataset.GetRasterBand(band).SetNoDataValue(NODATA)
            dataset.GetRasterBand(band).SetDescription(
                (datetime.date(2019, 1, 1) + datetime.timedelta(days=band - 1)).isoformat())
        datasets.append(dataset)
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * np.arange(days) / 365.25
    for row in range(0, size, rows_per_block):
        rows = min(rows_per_block, size - row)
        base = rng.uniform(0.1, 0.35, (rows, size))
        amplitude = rng.uniform(0.02, 0.1, (rows, size))
        truth = (base[None] + amplitude[None] * np.sin(phase[:, None, None] + base[None] * 20)
                 + rng.normal(0.0, 0.03, (days, rows, size)))
        for index, dataset in enumerate(datasets):
            offset, gain = CALIBRATION[index]
            values = (offset + gain * truth + rng.normal(0.0, ERROR_STD[index], truth.shape)).astype(np.float32)
            if index == 0:
                values[rng.random(values.shape) < X_MISSING] = NODATA
            dataset.WriteRaster(0, row, size, rows, values.tobytes(), buf_type=gdal.GDT_Float32)
    for dataset in datasets:
        dataset.FlushCache()
    del datasets
    (folder / "done").write_text("ok\n")
    return paths


# --- the numpy peer -----------------------------------------------------------------------------

def read_rows(dataset, row, rows):
    values = dataset.ReadAsArray(0, row, dataset.RasterXSize, rows).astype(np.float64)
    if values.ndim == 2:
        values = values[None]
    values[values == NODATA] = np.nan
    return values  # days × rows × columns


def create_output(path, template, band_names):
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(path), template.RasterXSize, template.RasterYSize, len(band_names), gdal.GDT_Float32,
        OUTPUT_OPTIONS)
    dataset.SetGeoTransform(template.GetGeoTransform())
    for index, name in enumerate(band_names, start=1):
        dataset.GetRasterBand(index).SetNoDataValue(NODATA)
        dataset.GetRasterBand(index).SetDescription(name)
    return dataset


def write_bands(dataset, row, bands):
    for index, values in enumerate(bands, start=1):
        out = np.where(np.isfinite(values), values, NODATA).astype(np.float32)
        dataset.GetRasterBand(index).WriteArray(out, 0, row)


def two_sided_p(r, n):
    from scipy import stats
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(r) * np.sqrt((n - 2) / np.maximum(1 - r * r, 0.0))
    return np.where(np.abs(r) >= 1.0, 0.0, 2 * stats.t.sf(t, n - 2))


def numpy_temporal_metrics(estimate_path, reference_path, output_path, csv_path, rows_per_block):
    estimate_ds, reference_ds = gdal.Open(str(estimate_path)), gdal.Open(str(reference_path))
    days, height = estimate_ds.RasterCount, estimate_ds.RasterYSize
    output = create_output(output_path, estimate_ds, TEMPORAL_BANDS)
    # The spatial correlation of each day needs every pixel: sums carried across the blocks.
    totals = {name: np.zeros(days) for name in ("n", "e", "r", "ee", "rr", "er", "dd", "ad")}
    for row in range(0, height, rows_per_block):
        rows = min(rows_per_block, height - row)
        e, r = read_rows(estimate_ds, row, rows), read_rows(reference_ds, row, rows)
        valid = np.isfinite(e) & np.isfinite(r)
        e, r = np.where(valid, e, 0.0), np.where(valid, r, 0.0)
        d = e - r
        totals["n"] += valid.sum(axis=(1, 2))
        totals["e"] += e.sum(axis=(1, 2))
        totals["r"] += r.sum(axis=(1, 2))
        totals["ee"] += (e * e).sum(axis=(1, 2))
        totals["rr"] += (r * r).sum(axis=(1, 2))
        totals["er"] += (e * r).sum(axis=(1, 2))
        totals["dd"] += (d * d).sum(axis=(1, 2))
        totals["ad"] += np.abs(d).sum(axis=(1, 2))
        n = valid.sum(axis=0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_e, mean_r = e.sum(axis=0) / n, r.sum(axis=0) / n
            de, dr = np.where(valid, e - mean_e, 0.0), np.where(valid, r - mean_r, 0.0)
            see, srr, ser = (de * de).sum(axis=0), (dr * dr).sum(axis=0), (de * dr).sum(axis=0)
            correlation = np.clip(ser / np.sqrt(see * srr), -1.0, 1.0)
            bias = d.sum(axis=0) / n
            rmse = np.sqrt((d * d).sum(axis=0) / n)
            ubrmse = np.sqrt(np.maximum(rmse ** 2 - bias ** 2, 0.0))
            mae = np.abs(d).sum(axis=0) / n
            p_value = two_sided_p(correlation, n)
        masked = n < MIN_OBSERVATIONS_TEMPORAL
        bands = [correlation, p_value, rmse, ubrmse, bias, mae]
        bands = [np.where(masked, np.nan, band) for band in bands] + [n]
        write_bands(output, row, bands)
    output.FlushCache()
    del output
    n = totals["n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = totals["er"] - totals["e"] * totals["r"] / n
        var_e = totals["ee"] - totals["e"] ** 2 / n
        var_r = totals["rr"] - totals["r"] ** 2 / n
        spatial_r = cov / np.sqrt(var_e * var_r)
        p_value = two_sided_p(spatial_r, n)
    significant = p_value < SIGNIFICANCE
    with open(csv_path, "w", encoding="utf-8") as csv:
        csv.write("band,n,r,p_value\n")
        for day in range(days):
            csv.write(f"{day + 1},{int(n[day])},{spatial_r[day]:.9g},{p_value[day]:.9g}\n")
    return float(spatial_r[significant].mean()) if significant.any() else None


def numpy_triple_collocation(paths, output_path, rows_per_block):
    datasets = [gdal.Open(str(path)) for path in paths]
    height = datasets[0].RasterYSize
    names = ("x", "y", "z")
    band_names = ([f"error_variance {d}" for d in names] + [f"error_std {d}" for d in names]
                  + [f"error_std_scaled {d}" for d in names] + [f"snr_db {d}" for d in names]
                  + [f"r_truth {d}" for d in names] + [f"scaling {d}" for d in names] + ["n"])
    output = create_output(output_path, datasets[0], band_names)
    for row in range(0, height, rows_per_block):
        rows = min(rows_per_block, height - row)
        x, y, z = (read_rows(dataset, row, rows) for dataset in datasets)
        valid = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
        n = valid.sum(axis=0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            anomalies = []
            for series in (x, y, z):
                series = np.where(valid, series, 0.0)
                anomalies.append(np.where(valid, series - series.sum(axis=0) / n, 0.0))
            ax, ay, az = anomalies
            sxx, syy, szz = ((a * a).sum(axis=0) / (n - 1) for a in anomalies)
            sxy, sxz, syz = ((ax * ay).sum(axis=0) / (n - 1), (ax * az).sum(axis=0) / (n - 1),
                             (ay * az).sum(axis=0) / (n - 1))
            signal = (sxy * sxz / syz, sxy * syz / sxz, sxz * syz / sxy)
            error_variance = (sxx - signal[0], syy - signal[1], szz - signal[2])
            variances = (sxx, syy, szz)
            r_truth = [np.sqrt(s / v) for s, v in zip(signal, variances)]
            error_std = [np.sqrt(e) for e in error_variance]
            scaling = (np.ones_like(n), sxz / syz, sxy / syz)
            error_std_scaled = [s * e for s, e in zip(scaling, error_std)]
            snr = [10 * np.log10(s / e) for s, e in zip(signal, error_variance)]
            pairwise = (sxy / np.sqrt(sxx * syy), sxz / np.sqrt(sxx * szz), syz / np.sqrt(syy * szz))
        masked = n < MIN_OBSERVATIONS_TC
        for correlation in pairwise:
            masked |= ~(correlation >= MIN_CORRELATION)
        for variance in error_variance:
            masked |= variance < 0
        bands = [*error_variance, *error_std, *error_std_scaled, *snr, *r_truth, *scaling]
        write_bands(output, row, [np.where(masked, np.nan, band) for band in bands] + [n])
    output.FlushCache()


def run_numpy_peer(arguments):
    started = time.perf_counter()
    if arguments.peer == "temporalmetrics":
        mean_r = numpy_temporal_metrics(arguments.inputs[0], arguments.inputs[1], arguments.output,
                                        arguments.output.with_suffix(".csv"), arguments.numpy_rows)
        print(json.dumps({"mean_spatial_r": mean_r, "seconds": time.perf_counter() - started}))
    else:
        numpy_triple_collocation(arguments.inputs, arguments.output, arguments.numpy_rows)
        print(json.dumps({"seconds": time.perf_counter() - started}))


# --- smr and the comparison ---------------------------------------------------------------------

def smr_request(command, paths, output, threads):
    if command == "temporalmetrics":
        return {"ESTIMATE": str(paths[0]), "REFERENCE_STACK": str(paths[1]), "OUTPUT": str(output),
                "SPATIAL_OUTPUT": str(output.with_suffix(".csv")),
                "MIN_OBSERVATIONS": MIN_OBSERVATIONS_TEMPORAL, "SIGNIFICANCE": SIGNIFICANCE,
                "THREADS": threads, "CREATE_OPTIONS": OUTPUT_OPTIONS}
    return {"X": str(paths[0]), "Y": str(paths[1]), "Z": str(paths[2]), "OUTPUT": str(output),
            "MIN_OBSERVATIONS": MIN_OBSERVATIONS_TC, "MIN_CORRELATION": MIN_CORRELATION,
            "THREADS": threads, "CREATE_OPTIONS": OUTPUT_OPTIONS}


def largest_difference(first_path, second_path, bands, rows_per_block=100):
    """Per band: max |a − b| where both are valid, and the pixels valid in only one."""
    first, second = gdal.Open(str(first_path)), gdal.Open(str(second_path))
    result = {}
    for band_index, name in bands:
        a_band, b_band = first.GetRasterBand(band_index), second.GetRasterBand(band_index)
        largest, mismatch = 0.0, 0
        for row in range(0, first.RasterYSize, rows_per_block):
            rows = min(rows_per_block, first.RasterYSize - row)
            a = a_band.ReadAsArray(0, row, first.RasterXSize, rows).astype(np.float64)
            b = b_band.ReadAsArray(0, row, first.RasterXSize, rows).astype(np.float64)
            valid_a, valid_b = a != NODATA, b != NODATA
            mismatch += int((valid_a != valid_b).sum())
            both = valid_a & valid_b
            if both.any():
                largest = max(largest, float(np.abs(a[both] - b[both]).max()))
        result[name] = {"max_abs_difference": largest, "mask_mismatch_pixels": mismatch}
    return result


def run_case(command, paths, work, smr, threads_list, numpy_rows):
    folder = work / f"run-{command}"
    folder.mkdir(parents=True, exist_ok=True)
    case = {"command": command}
    for threads in threads_list:
        output = folder / f"smr_threads{threads}.tif"
        request = json.dumps(smr_request(command, paths, output, threads))
        label = f"smr ({threads or 'all'} thr)"
        case[f"smr_threads_{threads}"] = timed(label, [smr, command], folder / f"smr{threads}.log",
                                                stdin_text=request)
    numpy_output = folder / "numpy.tif"
    peer = [sys.executable, str(Path(__file__).resolve()), "--peer", command, "--output",
            str(numpy_output), "--numpy-rows", str(numpy_rows), "--inputs", *map(str, paths)]
    case["numpy"] = timed("numpy", peer, folder / "numpy.log")
    smr_output = folder / f"smr_threads{threads_list[0]}.tif"
    if command == "temporalmetrics":
        compared = [(1, "r"), (3, "rmse"), (5, "bias"), (7, "n")]
    else:
        compared = [(1, "error_variance x"), (2, "error_variance y"), (3, "error_variance z"),
                    (13, "r_truth x"), (19, "n")]
    case["agreement"] = largest_difference(smr_output, numpy_output, compared)
    case["ratio_numpy_over_smr"] = case["numpy"]["wall_s"] / case[f"smr_threads_{threads_list[0]}"]["wall_s"]
    return case


def memory_runs(smr, work, sizes, days):
    rows = []
    for size in sizes:
        folder = work / f"stacks-{size}x{size}-{days}d"
        paths = generate_stacks(folder, size, days)
        output = folder / "tc.tif"
        measured = timed(f"smr tc {size}²", [smr, "triplecollocation"], folder / "tc.log",
                         stdin_text=json.dumps(smr_request("triplecollocation", paths, output, 0)))
        rows.append({"size": size, "days": days, "input_mb": 3 * size * size * days * 4 / 2**20,
                     **measured})
    return rows


def format_table(machine, size, days, cases, memory):
    lines = [f"# validation at scale — {machine['date']}",
             f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GB; "
             f"GDAL {machine['gdal']}; {machine['smr']}",
             f"stacks: {size} × {size} pixels × {days} days, Float32, 3 stacks of "
             f"{size * size * days * 4 / 2**20:.0f} MB", "",
             f"{'computation':<20} {'tool':<14} {'wall s':>8} {'peak MB':>9} {'CPU %':>6}"]
    for case in cases:
        for key, value in case.items():
            if key.startswith("smr_threads_") or key == "numpy":
                tool = "numpy" if key == "numpy" else f"smr {key.rsplit('_', 1)[1]} thr".replace(" 0 thr", " all")
                lines.append(f"{case['command']:<20} {tool:<14} {value['wall_s']:>8.2f} "
                             f"{value['peak_rss_mb']:>9.0f} {value['cpu_percent'] or 0:>6}")
        lines.append(f"{'':<20} ratio numpy / smr (all cores): {case['ratio_numpy_over_smr']:.1f}×")
        agreement = ", ".join(f"{name} {values['max_abs_difference']:.1e}"
                              + (f" ({values['mask_mismatch_pixels']} mask)" if values["mask_mismatch_pixels"] else "")
                              for name, values in case["agreement"].items())
        lines.append(f"{'':<20} largest |smr − numpy|: {agreement}")
    if memory:
        lines += ["", "smr triplecollocation peak memory by raster size:",
                  f"{'pixels':>12} {'days':>5} {'input MB':>9} {'wall s':>7} {'peak MB':>8}"]
        for row in memory:
            lines.append(f"{row['size']:>5} × {row['size']:<5} {row['days']:>5} {row['input_mb']:>9.0f} "
                         f"{row['wall_s']:>7.2f} {row['peak_rss_mb']:>8.0f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="pixels per side (default 1000)")
    parser.add_argument("--days", type=int, default=365, help="bands per stack (default 365)")
    parser.add_argument("--work", type=Path, default=RESULTS_DIR / "work",
                        help="scratch folder (default bench/results/work)")
    parser.add_argument("--numpy-rows", type=int, default=25,
                        help="rows the numpy peer reads at a time (default 25)")
    parser.add_argument("--one-thread", action="store_true", help="also run smr with THREADS 1")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[250, 500],
                        help="smaller grids for the memory check (default 250 500; none to skip)")
    parser.add_argument("--peer", choices=["temporalmetrics", "triplecollocation"], help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.peer:
        run_numpy_peer(arguments)
        return

    smr = smr_executable()
    machine = machine_description(smr)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work = arguments.work / "validation"
    folder = work / f"stacks-{arguments.size}x{arguments.size}-{arguments.days}d"
    print(f"generating the stacks in {folder}", flush=True)
    started = time.perf_counter()
    paths = generate_stacks(folder, arguments.size, arguments.days)
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    threads_list = [0, 1] if arguments.one_thread else [0]
    cases = [run_case(command, paths, folder, smr, threads_list, arguments.numpy_rows)
             for command in ("temporalmetrics", "triplecollocation")]
    memory = memory_runs(smr, work, arguments.memory_sizes, arguments.days)
    if memory:
        memory.append({"size": arguments.size, "days": arguments.days,
                       "input_mb": 3 * arguments.size ** 2 * arguments.days * 4 / 2**20,
                       **cases[1]["smr_threads_0"]})
    table = format_table(machine, arguments.size, arguments.days, cases, memory)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text_path = RESULTS_DIR / f"validation_at_scale-{stamp}.txt"
    text_path.write_text(table + "\n", encoding="utf-8")
    (RESULTS_DIR / f"validation_at_scale-{stamp}.json").write_text(
        json.dumps({"machine": machine, "size": arguments.size, "days": arguments.days,
                    "cases": cases, "memory": memory}, indent=2) + "\n", encoding="utf-8")
    print("\n" + table + f"\n\nwritten to {text_path} (and .json)")
    failures = [f"{case['command']} {name}: {values}" for case in cases
                for name, values in case["agreement"].items()
                if values["max_abs_difference"] > AGREEMENT or values["mask_mismatch_pixels"]]
    if failures:
        raise SystemExit("AGREEMENT CHECK FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
