#!/usr/bin/python3
"""Benchmark: paper 001's pixel-wise reconstruction, `smr pixelwisereconstruction` against the
scikit-learn loop a user would write.

    /usr/bin/python3 bench/pixelwise_reconstruction.py        # 100 × 50 cells × 1000 days
    /usr/bin/python3 bench/pixelwise_reconstruction.py --width 20 --height 10 --days 300 \\
        --sklearn-cells 10                                    # a quick check

The time-series sample scene (`smr samplescene`, PRODUCTS timeseries: daily stacks of AMSR2-like
brightness temperatures at five frequencies, GLDAS-like soil moisture, land-surface and soil
temperature, MODIS-like LAI — the 9 predictors — the SMAP-like target and the precipitation between
the overpasses) is generated once per size in the work folder. Then, in the same run:

  smr       `smr pixelwisereconstruction` with paper 001's settings (12 hidden neurons, 80/10/10,
            inputs and target scaled to [0, 1], MIN_PAIRS 50, pairs with precipitation ≥ 8.75 mm
            left out, the first 730 days train, every day is reconstructed; OUTPUT, METRICS and
            COUNTS),
            all cores, under GNU time (/usr/bin/time -v): wall time, peak RSS, CPU use;
            with --one-thread also THREADS 1
  sklearn   the loop a user would write: the stacks read with GDAL into numpy, then for each cell
            the training-period days where all predictors and the target are valid and the
            precipitation is below the threshold, train_test_split (10 % test), MinMaxScaler on
            inputs and target, MLPRegressor((12,), tanh), and the prediction of every day; run on a
            random subset of the cells smr trained, once with solver lbfgs and once with adam (early
            stopping on 1/9 of the non-test pairs, i.e. 10 % of all); the mean time per cell times
            the number of cells smr trained, plus the reading, is the job's extrapolated time

The ratio is the extrapolated time of the faster scikit-learn solver over smr's wall time. The test
RMSE medians of both on the subset show the networks are comparable. With --memory-check smr also
runs on grids of 50 × 50, 100 × 100 and 200 × 200 cells (--memory-grids) of --memory-days days, to
show its peak memory does not grow with the raster: it stops growing once the grid no longer fits in
one window of its memory budget.

The table goes to stdout and to bench/results/pixelwise_reconstruction-<date>.txt and .json
(bench/results/ is not committed). Benchmarks are not tests: compare the ratios measured in the same
run.
"""

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from osgeo import gdal

import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from mlp_training import run_smr, sklearn_regressor
from wcm_inversion import RESULTS_DIR, machine_description, smr_executable, timed

gdal.UseExceptions()

# Paper 001 (Wang & Xu 2021): 9 inputs, 12 hidden neurons, [0, 1] scaling, 80/10/10, cells with at
# least 50 pairs, pairs with ≥ 8.75 mm of rain between the overpasses left out of training.
HIDDEN = 12
RATIOS = (0.8, 0.1, 0.1)
MIN_PAIRS = 50
PRECIPITATION_THRESHOLD = 8.75
TRAINING_DAYS = 730            # of the 1000-day scene: two years train, every day is reconstructed
PREDICTOR_FILES = ["tb_06_9ghz", "tb_07_3ghz", "tb_10_7ghz", "tb_18_7ghz", "tb_23_8ghz",
                   "gldas_sm", "gldas_lst", "gldas_st", "modis_lai"]
TARGET_FILE, PRECIPITATION_FILE = "smap_sm", "precipitation"
SOLVERS = ["lbfgs", "adam"]
# adam's early stopping on the same share of the non-test pairs as smr's validation subset.
VALIDATION_FRACTION = RATIOS[1] / (RATIOS[0] + RATIOS[1])
MEMORY_GRIDS = [(50, 50), (100, 100), (200, 200)]
AIM_SECONDS, AIM_RATIO = 600.0, 50.0
ISSUE_SCALE = (5000, 1000)     # cells, days: the scale the aims are stated for


# ---------------------------------------------------------------------------------------------
# Scene and smr.

def scene(smr, work, width, height, days, seed):
    """The time-series sample scene in WORK, generated unless one of these parameters is there."""
    folder = work / f"scene-{width}x{height}-{days}d-seed{seed}"
    description = folder / "scene.json"
    files = {name: folder / f"{name}.tif"
             for name in PREDICTOR_FILES + [TARGET_FILE, PRECIPITATION_FILE]}
    if description.is_file() and all(path.is_file() for path in files.values()):
        known = json.loads(description.read_text(encoding="utf-8"))
        if (known.get("product"), known.get("width"), known.get("height"), known.get("days"),
                known.get("seed")) == ("timeseries", width, height, days, seed):
            print(f"  scene {width} × {height} × {days} days: already in {folder}", flush=True)
            return {"folder": str(folder), "files": {k: str(v) for k, v in files.items()},
                    "generated_s": None, "input_mb": stack_megabytes(files.values())}
    # Worst case, incompressible Float32: the 12 stacks of the scene and the output stack.
    needed = 13 * width * height * days * 4
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise SystemExit(f"{free / 1e9:.1f} GB free in {folder}, up to {needed / 1e9:.1f} GB "
                         f"needed; use --work elsewhere")
    print(f"  generating the scene {width} × {height} × {days} days in {folder}", flush=True)
    _, seconds = run_smr(smr, "samplescene", {
        "PRODUCTS": "timeseries", "OUTPUT_DIR": str(folder), "WIDTH": width, "HEIGHT": height,
        "DAYS": days, "SEED": seed})
    return {"folder": str(folder), "files": {k: str(v) for k, v in files.items()},
            "generated_s": seconds, "input_mb": stack_megabytes(files.values())}


def grid_size(text):
    """'WxH' → (W, H), for --memory-grids."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': give a grid as WIDTHxHEIGHT, e.g. 100x100")
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"'{text}': width and height must be at least 1")
    return width, height


def stack_megabytes(paths):
    return sum(Path(path).stat().st_size for path in paths) / 1e6


def training_days(days, configured):
    """The training period: --training-days, else the first 730 days (73 % of shorter scenes)."""
    if configured is not None:
        if not 1 <= configured <= days:
            raise SystemExit(f"--training-days {configured}: give 1 to {days}")
        return configured
    return TRAINING_DAYS if days > TRAINING_DAYS else max(1, round(0.73 * days))


def smr_request(files, training, output_folder, threads, seed):
    return {
        "PREDICTORS": [files[name] for name in PREDICTOR_FILES],
        "TARGET": files[TARGET_FILE],
        "PRECIPITATION": files[PRECIPITATION_FILE],
        "PRECIPITATION_THRESHOLD": PRECIPITATION_THRESHOLD,
        "TRAINING_PERIOD": f"1:{training}", "PREDICTION_PERIOD": "all",
        "MIN_PAIRS": MIN_PAIRS, "HIDDEN": [HIDDEN],
        "TRAIN_RATIO": RATIOS[0], "VALIDATION_RATIO": RATIOS[1], "TEST_RATIO": RATIOS[2],
        "NORMALISATION": "zero_one", "SEED": seed, "THREADS": threads,
        "OUTPUT": str(output_folder / "reconstructed_sm.tif"),
        "METRICS": str(output_folder / "metrics.tif"),
        "COUNTS": str(output_folder / "counts.tif"),
    }


def result_in_log(log_path):
    """The outputs of the result line (JSON lines on stdout) in the log `timed` wrote."""
    log = log_path.read_text(encoding="utf-8")
    stdout = log.split("\n--- stdout\n", 1)[1].rsplit("\n--- stderr\n", 1)[0]
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            message = json.loads(line)
            if message.get("type") == "result":
                return message["outputs"]
    raise SystemExit(f"smr pixelwisereconstruction printed no result line; see {log_path}")


def run_reconstruction(smr, label, files, training, folder, threads, seed):
    """`smr pixelwisereconstruction` under GNU time; its measurements and result outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    request = smr_request(files, training, folder, threads, seed)
    log_path = folder / "smr.log"
    measured = timed(label, [smr, "pixelwisereconstruction"], log_path,
                     stdin_text=json.dumps(request))
    measured["threads"] = threads
    measured["result"] = result_in_log(log_path)
    trained = measured["result"]["TRAINED_CELLS"]
    measured["ms_per_trained_cell"] = 1000 * measured["wall_s"] / trained if trained else None
    print(f"  {label}: {measured['wall_s']:.2f} s, peak RSS {measured['peak_rss_mb']:.1f} MB, "
          f"{trained} cells trained", flush=True)
    return measured


def read_raster(path):
    """Every band of PATH as float32 (bands, rows, columns), nodata as NaN."""
    dataset = gdal.Open(str(path))
    values = dataset.ReadAsArray()
    if values.ndim == 2:
        values = values[np.newaxis]
    values = values.astype(np.float32, copy=False)
    nodata = dataset.GetRasterBand(1).GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def band_index(path, description):
    dataset = gdal.Open(str(path))
    for band in range(1, dataset.RasterCount + 1):
        if dataset.GetRasterBand(band).GetDescription() == description:
            return band - 1
    raise SystemExit(f"{path} has no band described '{description}'")


# ---------------------------------------------------------------------------------------------
# The scikit-learn loop.

def read_stacks(files):
    """What the user's script starts with: every stack in memory. Returns the arrays and seconds."""
    started = time.perf_counter()
    # 9 × days × rows × columns
    predictors = np.stack([read_raster(files[name]) for name in PREDICTOR_FILES])
    target = read_raster(files[TARGET_FILE])
    precipitation = read_raster(files[PRECIPITATION_FILE])
    return predictors, target, precipitation, time.perf_counter() - started


def reconstruct_cell(predictors, target, precipitation, row, column, training, solver, seed):
    """One cell as a user's loop does it: its pairs, the split, fit, and the whole series predicted.

    Returns (seconds of the whole cell, seconds of the fit, test RMSE, epochs, valid pairs,
    pairs excluded by precipitation, test samples).
    """
    started = time.perf_counter()
    x_all = predictors[:, :, row, column].T.astype(np.float64)          # days × 9
    y = target[:training, row, column].astype(np.float64)
    rain = precipitation[:training, row, column]
    valid = np.isfinite(x_all[:training]).all(axis=1) & np.isfinite(y)
    kept = valid & (rain < PRECIPITATION_THRESHOLD)                   # NaN rain: left out
    x_fit, x_test, y_fit, y_test = train_test_split(x_all[:training][kept], y[kept],
                                                    test_size=RATIOS[2], random_state=seed)
    model = sklearn_regressor(solver, [HIDDEN], seed, MinMaxScaler, VALIDATION_FRACTION)
    with warnings.catch_warnings():
        # lbfgs stopping at max_iter warns; the iteration count is reported instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_started = time.perf_counter()
        model.fit(x_fit, y_fit)
        fit_seconds = time.perf_counter() - fit_started
    predictable = np.isfinite(x_all).all(axis=1)
    reconstructed = np.full(x_all.shape[0], np.nan)
    reconstructed[predictable] = model.predict(x_all[predictable])
    seconds = time.perf_counter() - started
    rmse = float(np.sqrt(np.mean((model.predict(x_test) - y_test) ** 2)))
    return (seconds, fit_seconds, rmse, int(model.regressor_[-1].n_iter_), int(valid.sum()),
            int(valid.sum() - kept.sum()), int(y_test.size))


def run_sklearn(files, counts_path, metrics_path, training, subset_size, trained_cells, seed):
    """Both solvers on a random subset of the cells smr trained; smr's numbers on the same cells."""
    counts = read_raster(counts_path)
    valid_band, excluded_band, training_band = (
        band_index(counts_path, name)
        for name in ("valid pairs", "excluded by precipitation", "training samples"))
    rows, columns = np.nonzero(counts[training_band] > 0)
    if rows.size == 0:
        raise SystemExit("smr trained no cell: nothing to compare with")
    chosen = np.random.default_rng(seed).choice(rows.size, size=min(subset_size, rows.size),
                                                replace=False)
    cells = [(int(rows[i]), int(columns[i])) for i in sorted(chosen)]
    metrics = read_raster(metrics_path)
    smr_test_rmse = metrics[band_index(metrics_path, "RMSE test")]
    smr_subset_rmse = [float(smr_test_rmse[r, c]) for r, c in cells]
    all_rmse = smr_test_rmse[np.isfinite(smr_test_rmse)]

    print("  sklearn: reading the stacks", flush=True)
    predictors, target, precipitation, read_seconds = read_stacks(files)
    print(f"  sklearn: read in {read_seconds:.2f} s; {len(cells)} cells per solver", flush=True)
    # One untimed fit each, so imports and first-call costs are not charged to a solver.
    warm_x = np.random.default_rng(0).random((60, len(PREDICTOR_FILES)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in SOLVERS:
            sklearn_regressor(solver, [2], 0, MinMaxScaler, VALIDATION_FRACTION).fit(
                warm_x, warm_x.sum(axis=1))

    mismatches = []
    solvers = {}
    for solver in SOLVERS:
        runs = []
        for row, column in cells:
            cell_seed = seed + row * counts.shape[2] + column
            (seconds, fit_seconds, rmse, epochs, valid, excluded, tested) = reconstruct_cell(
                predictors, target, precipitation, row, column, training, solver, cell_seed)
            runs.append({"row": row, "column": column, "seconds": seconds,
                         "fit_seconds": fit_seconds, "test_rmse": rmse, "epochs": epochs,
                         "test_samples": tested})
            expected = (int(counts[valid_band, row, column]),
                        int(counts[excluded_band, row, column]))
            if (valid, excluded) != expected and solver == SOLVERS[0]:
                mismatches.append({"row": row, "column": column, "python": [valid, excluded],
                                   "smr": list(expected)})
        per_cell = statistics.mean(run["seconds"] for run in runs)
        solvers[solver] = {
            "cells": len(runs), "loop_s": sum(run["seconds"] for run in runs),
            "mean_cell_s": per_cell,
            "median_cell_s": statistics.median(run["seconds"] for run in runs),
            "mean_fit_s": statistics.mean(run["fit_seconds"] for run in runs),
            "extrapolated_s": read_seconds + per_cell * trained_cells,
            "median_test_rmse": statistics.median(run["test_rmse"] for run in runs),
            "median_epochs": statistics.median(run["epochs"] for run in runs),
            "runs": runs,
        }
        print(f"  sklearn {solver}: {1000 * per_cell:.1f} ms per cell over {len(runs)} cells, "
              f"job extrapolated to {solvers[solver]['extrapolated_s']:.1f} s", flush=True)
    return {
        "read_s": read_seconds, "cells": [list(cell) for cell in cells], "solvers": solvers,
        "smr_subset_test_rmse": smr_subset_rmse,
        "smr_subset_median_test_rmse": statistics.median(smr_subset_rmse),
        "smr_all_median_test_rmse": float(np.median(all_rmse)) if all_rmse.size else None,
        "pair_mismatches": mismatches,
        "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def same_metrics(first, second):
    """Whether two METRICS rasters are identical, nodata included."""
    a, b = read_raster(first), read_raster(second)
    return bool(np.array_equal(a, b, equal_nan=True))


# ---------------------------------------------------------------------------------------------
# Report.

def format_report(machine, setup, smr_runs, peer, memory):
    cells, days = setup["width"] * setup["height"], setup["days"]
    smr = smr_runs["smr"]
    result = smr["result"]
    trained = result["TRAINED_CELLS"]
    lines = [
        f"Pixel-wise reconstruction (paper 001), smr against scikit-learn {machine['sklearn']} "
        f"(numpy {machine['numpy']}), {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram_gb']} GiB RAM, GDAL {machine['gdal']}, {machine['smr']}, "
        f"{machine['date']}; load average (1, 5, 15 min) before "
        f"{machine['load_average_before']}, after {machine['load_average_after']}",
        f"Scene: {setup['width']} × {setup['height']} = {cells} cells × {days} days, "
        f"{len(PREDICTOR_FILES)} inputs, seed {setup['seed']}, {setup['input_mb']:.0f} MB of "
        f"stacks; {HIDDEN} hidden, 80/10/10, [0, 1], MIN_PAIRS {MIN_PAIRS}, precipitation < "
        f"{PRECIPITATION_THRESHOLD} mm, training days 1-{setup['training_days']}, prediction "
        f"1-{days}",
        f"smr: {trained} cells trained, {result['SKIPPED_CELLS']} skipped (< {MIN_PAIRS} pairs), "
        f"{result['FAILED_CELLS']} failed; {result['EXCLUDED_BY_PRECIPITATION']} pairs excluded by "
        f"precipitation",
        "",
        f"{'tool':<24} {'cells':>6} {'wall s':>9} {'ms/cell':>9} {'job s':>9} {'peak RSS MB':>12} "
        f"{'CPU %':>6} {'median test RMSE':>17} {'job / smr':>10}",
    ]
    subset = len(peer["cells"])
    for label, run in smr_runs.items():
        lines.append(
            f"{label:<24} {trained:>6} {run['wall_s']:>9.2f} {run['ms_per_trained_cell']:>9.2f} "
            f"{run['wall_s']:>9.2f} {run['peak_rss_mb']:>12.1f} "
            f"{run['cpu_percent'] if run['cpu_percent'] is not None else '':>6} "
            f"{peer['smr_subset_median_test_rmse']:>17.4f} "
            f"{run['wall_s'] / smr['wall_s']:>10.2f}")
    for solver, run in peer["solvers"].items():
        lines.append(
            f"{'sklearn ' + solver:<24} {subset:>6} {run['loop_s']:>9.2f} "
            f"{1000 * run['mean_cell_s']:>9.2f} {run['extrapolated_s']:>9.1f} {'':>12} {'':>6} "
            f"{run['median_test_rmse']:>17.4f} {run['extrapolated_s'] / smr['wall_s']:>10.1f}")
    faster = min(peer["solvers"], key=lambda solver: peer["solvers"][solver]["extrapolated_s"])
    best = peer["solvers"][faster]
    ratio = best["extrapolated_s"] / smr["wall_s"]
    lines += [
        f"sklearn: stacks read in {peer['read_s']:.2f} s (counted once in the job); per cell: "
        f"pairs, split, fit and prediction of all {days} days, mean over {subset} random cells smr "
        f"trained; job s = read + mean per cell × {trained} cells; peak RSS of the Python process "
        f"{peer['process_peak_rss_mb']:.0f} MB; median epochs " + ", ".join(
            f"{solver} {run['median_epochs']:.0f}" for solver, run in peer["solvers"].items()),
        f"median test RMSE on those {subset} cells: smr {peer['smr_subset_median_test_rmse']:.4f} "
        f"(its own random 10 %), " + ", ".join(
            f"{solver} {run['median_test_rmse']:.4f}" for solver, run in peer["solvers"].items()) +
        f" (train_test_split's 10 %); smr over all {trained} cells "
        f"{peer['smr_all_median_test_rmse']:.4f}",
        ("pairs selected by the Python loop (valid, excluded by precipitation) match smr's COUNTS "
         f"on all {subset} cells" if not peer["pair_mismatches"] else
         f"PAIRS DIFFER from smr's COUNTS on {len(peer['pair_mismatches'])} of {subset} cells"),
    ]
    if "smr 1 thread" in smr_runs:
        one = smr_runs["smr 1 thread"]
        lines.append(f"smr 1 thread: ×{best['extrapolated_s'] / one['wall_s']:.1f} faster than "
                     f"sklearn {faster} (per core); METRICS identical to all threads: "
                     f"{'yes' if setup['threads_identical'] else 'NO'}")
    at_scale = cells >= ISSUE_SCALE[0] and days >= ISSUE_SCALE[1]
    scale_note = "" if at_scale else (f" (this run is smaller than the issue's {ISSUE_SCALE[0]} "
                                      f"cells × {ISSUE_SCALE[1]} days: the aims do not apply)")
    lines.append(
        f"aims{scale_note}: smr wall {smr['wall_s']:.1f} s < {AIM_SECONDS:.0f} s: "
        f"{'met' if smr['wall_s'] < AIM_SECONDS else 'NOT met'}; ×{ratio:.1f} faster than the "
        f"faster scikit-learn solver ({faster}) ≥ ×{AIM_RATIO:.0f}: "
        f"{'met' if ratio >= AIM_RATIO else 'NOT met'}")
    if memory:
        lines += ["", f"Peak memory against raster size (smr, all cores, {memory[0]['days']} days, "
                      f"training days 1-{memory[0]['training_days']}):",
                  f"{'grid':>10} {'cells':>7} {'stacks MB':>10} {'wall s':>8} {'peak RSS MB':>12} "
                  f"{'CPU %':>6}"]
        for run in memory:
            lines.append(f"{run['width']:>4} × {run['height']:<3} "
                         f"{run['width'] * run['height']:>7} {run['input_mb']:>10.1f} "
                         f"{run['wall_s']:>8.2f} {run['peak_rss_mb']:>12.1f} "
                         f"{run['cpu_percent'] if run['cpu_percent'] is not None else '':>6}")
    return "\n".join(lines), {"faster_solver": faster, "ratio": ratio,
                              "aim_seconds_met": smr["wall_s"] < AIM_SECONDS,
                              "aim_ratio_met": ratio >= AIM_RATIO, "at_issue_scale": at_scale}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smr", help="smr executable (default: SMR_EXECUTABLE, then "
                                      "build/plugins/smr/bin/smr)")
    parser.add_argument("--width", type=int, default=100, help="grid columns (default 100)")
    parser.add_argument("--height", type=int, default=50, help="grid rows (default 50)")
    parser.add_argument("--days", type=int, default=1000, help="time steps (default 1000)")
    parser.add_argument("--training-days", type=int,
                        help="training period 1-N (default 730; 73%% of --days below 731)")
    parser.add_argument("--sklearn-cells", type=int, default=100,
                        help="cells the scikit-learn loop runs, per solver (default 100)")
    parser.add_argument("--one-thread", action="store_true",
                        help="also run smr with THREADS 1 (about doubles smr's time)")
    parser.add_argument("--memory-check", action="store_true",
                        help="also run smr on larger grids (--memory-grids): peak RSS against "
                             "raster size")
    parser.add_argument("--memory-grids", type=grid_size, nargs="+", default=MEMORY_GRIDS,
                        metavar="WxH",
                        help="grids of --memory-check (default 50x50 100x100 200x200)")
    parser.add_argument("--memory-days", type=int, default=300,
                        help="days of the --memory-check scenes (default 300)")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of smr's networks and of the subset (default 1)")
    parser.add_argument("--scene-seed", type=int, default=42, help="samplescene SEED (default 42)")
    parser.add_argument("--work", type=Path, default=RESULTS_DIR / "work",
                        help="folder for the scenes and outputs (default bench/results/work)")
    arguments = parser.parse_args()
    for name in ("width", "height", "sklearn_cells"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("days", "memory_days"):
        if not 2 <= getattr(arguments, name) <= 5000:
            parser.error(f"--{name.replace('_', '-')} must be 2 to 5000 (samplescene's DAYS)")

    if arguments.smr:
        os.environ["SMR_EXECUTABLE"] = arguments.smr
    smr = smr_executable()
    machine = machine_description(smr)
    machine["sklearn"], machine["numpy"] = sklearn.__version__, np.__version__
    # Other work on the machine skews the seconds: the load before and after says whether it ran.
    machine["load_average_before"] = [round(value, 2) for value in os.getloadavg()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work = arguments.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(f"smr: {smr}\nwork folder: {work}", flush=True)

    width, height, days = arguments.width, arguments.height, arguments.days
    training = training_days(days, arguments.training_days)
    data = scene(smr, work, width, height, days, arguments.scene_seed)
    files = data["files"]
    setup = {"width": width, "height": height, "days": days, "seed": arguments.scene_seed,
             "training_days": training, "input_mb": data["input_mb"],
             "scene_generation_s": data["generated_s"], "scene_folder": data["folder"],
             "network_seed": arguments.seed, "sklearn_cells": arguments.sklearn_cells}
    run_folder = work / f"run-{width}x{height}-{days}d"
    smr_runs = {"smr": run_reconstruction(smr, "smr", files, training, run_folder / "threads_all",
                                          0, arguments.seed)}
    if arguments.one_thread:
        smr_runs["smr 1 thread"] = run_reconstruction(smr, "smr 1 thread", files, training,
                                                      run_folder / "threads_1", 1, arguments.seed)
        setup["threads_identical"] = same_metrics(smr_runs["smr"]["result"]["METRICS"],
                                                  smr_runs["smr 1 thread"]["result"]["METRICS"])
    smr_result = smr_runs["smr"]["result"]
    peer = run_sklearn(files, smr_result["COUNTS"], smr_result["METRICS"], training,
                       arguments.sklearn_cells, smr_result["TRAINED_CELLS"], arguments.seed)

    memory = []
    if arguments.memory_check:
        print("Memory check", flush=True)
        memory_training = training_days(arguments.memory_days, None)
        for grid_width, grid_height in arguments.memory_grids:
            grid = scene(smr, work, grid_width, grid_height, arguments.memory_days,
                         arguments.scene_seed)
            label = f"smr {grid_width}×{grid_height}"
            measured = run_reconstruction(
                smr, label, grid["files"], memory_training,
                work / f"run-{grid_width}x{grid_height}-{arguments.memory_days}d" / "threads_all",
                0, arguments.seed)
            memory.append({"width": grid_width, "height": grid_height,
                           "days": arguments.memory_days, "training_days": memory_training,
                           "input_mb": grid["input_mb"], **measured})

    machine["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    report, summary = format_report(machine, setup, smr_runs, peer, memory)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text_path = RESULTS_DIR / f"pixelwise_reconstruction-{stamp}.txt"
    text_path.write_text(report + "\n", encoding="utf-8")
    (RESULTS_DIR / f"pixelwise_reconstruction-{stamp}.json").write_text(
        json.dumps({"machine": machine, "setup": setup, "smr": smr_runs, "sklearn": peer,
                    "memory_check": memory, "summary": summary}, indent=1) + "\n",
        encoding="utf-8")
    print("\n" + report)
    print(f"\nwritten to {text_path} (and .json)")
    if peer["pair_mismatches"] or setup.get("threads_identical") is False:
        print("CHECK FAILED: the Python loop's pairs differ from smr's, or smr's METRICS differ "
              "between 1 and all threads", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
