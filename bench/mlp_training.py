#!/usr/bin/python3
"""Benchmark: training a BP network with smr against scikit-learn's MLPRegressor.

    /usr/bin/python3 bench/mlp_training.py               # everything (a few minutes on 2 cores)
    /usr/bin/python3 bench/mlp_training.py --quick       # 100 samples, 2 repeats, 100 networks

Part 1, one network (paper 000): σ⁰ VV, σ⁰ VH and the two soil σ⁰ → soil moisture. The data come
from the sample scene (`smr samplescene`), run through paper 000's physical chain with smr (NDMI →
VWC → water cloud inversion for VV and VH); N random valid pixels (N = 100, paper 000's sample
count, and 5000) with the scene's true soil moisture as the target. Every repeat holds out the same
15 % test samples for every tool, chosen by the repeat's seed, and trains

  smr lm            `smr trainmlp` as a subprocess (JSON on stdin, model file out: what the QGIS
                    bridge runs), Levenberg–Marquardt with fitnet's defaults, all cores, RESTARTS 1;
                    the remaining samples are split 85/15 into training and validation (early
                    stopping); the test samples are passed last with DIVISION block, so smr's
                    TEST_RMSE is computed on exactly the held-out samples
  smr lm, 5 restarts  the same with RESTARTS 5 (paper 000 repeats training)
  sklearn lbfgs     MLPRegressor(solver="lbfgs", max_iter=1000) on all non-test samples
  sklearn adam      MLPRegressor(solver="adam", early_stopping=True, validation_fraction=0.15,
                    max_iter=1000) on all non-test samples

with the same hidden layer (7, paper 000, and 20), tanh (tansig) hidden and linear output; the
scikit-learn models standardise inputs and target (StandardScaler in a Pipeline and a
TransformedTargetRegressor), smr uses mapminmax to [−1, 1]. Time: wall time of the whole `fit` in
this process for scikit-learn, of the `smr trainmlp` process for smr. Median over 9 repeats.

Part 2, many small networks (paper 001: one network per grid cell over its time series): 1000
synthetic cells, each 50-300 matched days of 9 inputs (AMSR2-like brightness temperatures at five
frequencies, a model soil moisture, land-surface and soil temperature, LAI) → a satellite soil
moisture, 12 hidden neurons, min–max scaling to [0, 1], 80/10/10 division. The datasets are written
to one JSON file; `smr_bench_train_many` (bench/train_many_networks.cpp, built by CMake with
SMR_BUILD_BENCH) trains them with smr's core, OpenMP across networks; scikit-learn trains the same
datasets in a loop (lbfgs on all of them, adam on the first --many-adam networks). Both are scored
on the same held-out 10 % of every cell.

Part 3, every epoch (issue 11): a 4-7-1 network on 300 samples for 1000 epochs without early
stopping, 5 restarts, one thread, timed as shipped and with glibc's trimming off
(MALLOC_TRIM_THRESHOLD_): wall, user and system seconds. A trainer that allocates per epoch is
several times slower as shipped; smr's must take the same time both ways.

The table goes to stdout and to bench/results/mlp_training-<date>.txt and .json (bench/results/ is
not committed). Benchmarks are not tests: compare the ratios measured in the same run.
"""

import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from osgeo import gdal

import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from wcm_inversion import RESULTS_DIR, REPO_ROOT, machine_description, smr_executable

gdal.UseExceptions()

TEST_SHARE = 0.15          # part 1: held out for every tool
VALIDATION_SHARE = 0.15    # part 1: of the rest, for early stopping (smr; sklearn adam)
MAX_ITERATIONS = 1000      # fitnet's epochs; MLPRegressor's max_iter
INPUT_NAMES = ["sigma0_vv_db", "sigma0_vh_db", "soil_vv_db", "soil_vh_db"]

# Part 2, paper 001 (Wang & Xu 2021): 9 inputs, 12 hidden neurons, [0, 1] scaling, 80/10/10,
# cells with at least 50 matched days; four years of days to draw them from.
MANY_HIDDEN = 12
MANY_RATIOS = (0.8, 0.1, 0.1)
MANY_MIN_SAMPLES, MANY_MAX_SAMPLES = 50, 300
MANY_DAYS = 4 * 365
MANY_INPUTS = ["tb_6.9", "tb_7.3", "tb_10.7", "tb_18.7", "tb_23.8",
               "model_sm", "lst", "soil_t", "lai"]
MANY_FREQUENCIES_GHZ = np.array([6.9, 7.3, 10.7, 18.7, 23.8])


def train_many_executable(configured):
    candidates = [Path(configured)] if configured else []
    build_dir = os.environ.get("SMR_BUILD_DIR")  # scripts/env.sh's build folder, if not build/
    if build_dir:
        candidates.append(Path(build_dir) / "smr_bench_train_many")
    candidates.append(REPO_ROOT / "build" / "smr_bench_train_many")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("smr_bench_train_many not found in " + ", ".join(map(str, candidates)) +
                     ": build it (scripts/build.sh, or cmake --build build --target "
                     "smr_bench_train_many with SMR_BUILD_BENCH=ON) or pass --train-many PATH")


def run_smr(smr, command, request):
    """Run `smr COMMAND` with REQUEST on stdin; return its result outputs and the wall seconds."""
    text = json.dumps(request, allow_nan=False)
    started = time.perf_counter()
    completed = subprocess.run([smr, command], input=text, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"smr {command} failed (exit {completed.returncode}):\n"
                         f"{completed.stderr[-2000:]}")
    for line in reversed(completed.stdout.splitlines()):
        message = json.loads(line)
        if message.get("type") == "result":
            return message["outputs"], seconds
    raise SystemExit(f"smr {command} printed no result line:\n{completed.stdout[-2000:]}")


def timed_process(arguments, request, environment=None):
    """Run a process with REQUEST (JSON) on stdin; return its wall seconds and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment)
    stdout, stderr = process.communicate(json.dumps(request, allow_nan=False))
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{arguments} failed (exit {process.returncode}):\n{stderr[-2000:]}")
    return wall, stdout


def process_start_seconds(smr):
    """Wall time of `smr --version`: what every smr call pays before it reads its input."""
    started = time.perf_counter()
    subprocess.run([smr, "--version"], capture_output=True, check=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Part 3: every epoch of a small network, where allocation per epoch shows (issue 11's audit).

EVERY_EPOCH = {"HIDDEN": [7], "EPOCHS": 1000, "MAX_FAIL": 0, "RESTARTS": 5, "THREADS": 1}
EVERY_EPOCH_SAMPLES = 300
# glibc returns freed memory above its trim threshold (128 KB by default) to the kernel at once; a
# trainer that allocates and frees large buffers every epoch then pays brk system calls each time.
# With this threshold glibc keeps the memory: the difference between the two runs is that cost.
NO_TRIM = {"MALLOC_TRIM_THRESHOLD_": "1000000000"}


def run_every_epoch(smr, features, target, repeats, seed, work):
    """`smr trainmlp` on a 4-7-1 network, 300 samples, 1000 epochs without early stopping, 5
    restarts, one thread: wall, user and system seconds (medians), as shipped and with glibc's
    trimming off."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(target.size, EVERY_EPOCH_SAMPLES, replace=False)
    request = dict(EVERY_EPOCH, SEED=seed, OUTPUT_MODEL=str(work / "every_epoch.json"), SAMPLES={
        "names": INPUT_NAMES, "features": [[float(v) for v in row] for row in features[:, chosen]],
        "target": [float(v) for v in target[chosen]]})
    result = {"samples": EVERY_EPOCH_SAMPLES, **{key.lower(): value for key, value in EVERY_EPOCH.items()},
              "runs": {}}
    for label, environment in (("smr", None), ("smr, glibc trim off", {**os.environ, **NO_TRIM})):
        walls, users, systems = [], [], []
        for _ in range(repeats):
            # One child at a time: the change of the children's CPU times is this run's.
            before = os.times()
            wall, stdout = timed_process([smr, "trainmlp"], request, environment)
            after = os.times()
            walls.append(wall)
            users.append(after.children_user - before.children_user)
            systems.append(after.children_system - before.children_system)
            outputs = next(json.loads(line)["outputs"] for line in reversed(stdout.splitlines())
                           if json.loads(line).get("type") == "result")
            if outputs["EPOCHS_RUN"] != EVERY_EPOCH["EPOCHS"]:
                raise SystemExit(f"part 3: smr ran {outputs['EPOCHS_RUN']} epochs, not "
                                 f"{EVERY_EPOCH['EPOCHS']} ({outputs['STOP_REASON']})")
        result["runs"][label] = {"wall": statistics.median(walls), "user": statistics.median(users),
                                 "system": statistics.median(systems), "walls": walls}
        print(f"  {label}: wall {result['runs'][label]['wall']:.2f} s, system "
              f"{result['runs'][label]['system']:.2f} s (medians of {repeats})", flush=True)
    return result


def format_every_epoch(result):
    shipped = result["runs"]["smr"]
    lines = [f"4-{result['hidden'][0]}-1 network, {result['samples']} samples (sample scene), EPOCHS "
             f"{result['epochs']} with MAX_FAIL {result['max_fail']} (every epoch runs), RESTARTS "
             f"{result['restarts']}, THREADS {result['threads']}; medians of {len(shipped['walls'])} runs",
             f"{'run':<22} {'wall s':>8} {'user s':>8} {'system s':>9} {'wall / trim off':>16}"]
    trim_off = result["runs"]["smr, glibc trim off"]["wall"]
    for label, run in result["runs"].items():
        lines.append(f"{label:<22} {run['wall']:>8.2f} {run['user']:>8.2f} {run['system']:>9.2f} "
                     f"{run['wall'] / trim_off:>16.2f}")
    return lines


# ---------------------------------------------------------------------------------------------
# Part 1 data: the sample scene through paper 000's physical chain.

def read_band(path):
    dataset = gdal.Open(str(path))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def scene_samples(smr, folder):
    """Every valid pixel of the sample scene: features (4 × pixels) and true soil moisture."""
    run_smr(smr, "samplescene",
            {"OUTPUT_DIR": str(folder), "WIDTH": 600, "HEIGHT": 600, "SEED": 42})
    scene = json.loads((folder / "scene.json").read_text(encoding="utf-8"))
    files = scene["files"]
    ndmi, vwc = folder / "ndmi.tif", folder / "vwc_ndmi.tif"
    run_smr(smr, "spectralindex", {"INDEX": "ndmi", "NIR": {"path": files["NIR"]},
                                   "SWIR1": {"path": files["SWIR1"]}, "OUTPUT": str(ndmi)})
    run_smr(smr, "vegetationwatercontent", {"INPUT": {"path": str(ndmi)}, "MODEL": "ndmi",
                                            "OUTPUT": str(vwc)})
    soil = {}
    for polarisation in ("VV", "VH"):
        soil[polarisation] = folder / f"soil_{polarisation.lower()}_db.tif"
        run_smr(smr, "watercloudinversion", {
            "SIGMA0": {"path": files[f"SIGMA0_{polarisation}"]}, "SIGMA0_UNIT": "db",
            "VWC": {"path": str(vwc)}, "ANGLE": {"path": files["ANGLE"]},
            "A": scene[polarisation]["A"], "B": scene[polarisation]["B"], "V1": "vwc",
            "OUTPUT_UNIT": "db", "OUTPUT": str(soil[polarisation])})
    layers = [read_band(files["SIGMA0_VV"]), read_band(files["SIGMA0_VH"]),
              read_band(soil["VV"]), read_band(soil["VH"])]
    target = read_band(files["SOIL_MOISTURE_TRUE"])
    valid = np.isfinite(target)
    for layer in layers:
        valid &= np.isfinite(layer)
    features = np.stack([layer[valid] for layer in layers])
    return features, target[valid]


# ---------------------------------------------------------------------------------------------
# Part 1: one network, smr trainmlp against MLPRegressor.

def sklearn_regressor(solver, hidden, seed, scaler, validation_fraction):
    """MLPRegressor as a user would set it up: scaled inputs (Pipeline) and target."""
    extra = {}
    if solver == "adam":
        extra = {"early_stopping": True, "validation_fraction": validation_fraction}
    network = MLPRegressor(hidden_layer_sizes=tuple(hidden), activation="tanh", solver=solver,
                           max_iter=MAX_ITERATIONS, random_state=seed, **extra)
    return TransformedTargetRegressor(regressor=make_pipeline(scaler(), network),
                                      transformer=scaler())


def fit_sklearn(solver, hidden, seed, scaler, validation_fraction, x_fit, y_fit, x_test, y_test):
    model = sklearn_regressor(solver, hidden, seed, scaler, validation_fraction)
    with warnings.catch_warnings():
        # lbfgs stopping at max_iter warns; the iteration count is reported instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(x_fit, y_fit)
        seconds = time.perf_counter() - started
    estimate = model.predict(x_test)
    rmse = float(np.sqrt(np.mean((estimate - y_test) ** 2)))
    return {"seconds": seconds, "test_rmse": rmse, "epochs": int(model.regressor_[-1].n_iter_)}


def fit_smr(smr, hidden, seed, restarts, x_fit, y_fit, x_test, y_test, model_path):
    """smr trainmlp on the training + validation samples, then the test ones, DIVISION block."""
    validation = round(VALIDATION_SHARE * len(y_fit))
    features = np.concatenate([x_fit, x_test]).T
    target = np.concatenate([y_fit, y_test])
    request = {
        "SAMPLES": {"names": INPUT_NAMES, "features": features.tolist(), "target": target.tolist()},
        "TARGET_NAME": "soil_moisture", "HIDDEN": list(hidden),
        # Ratios as counts (divided by their sum): exactly these many samples, in this order.
        "DIVISION": "block", "TRAIN_RATIO": len(y_fit) - validation,
        "VALIDATION_RATIO": validation, "TEST_RATIO": len(y_test),
        "RESTARTS": restarts, "SEED": seed, "THREADS": 0, "OUTPUT_MODEL": str(model_path),
    }
    outputs, seconds = run_smr(smr, "trainmlp", request)
    predictions = outputs["PREDICTIONS"]
    test_reference = [r for r, s in zip(predictions["reference"], predictions["subset"])
                      if s == "test"]
    if not np.allclose(test_reference, y_test, rtol=0, atol=1e-12):
        raise SystemExit("smr trainmlp did not keep the held-out samples as its test subset")
    return {"seconds": seconds, "test_rmse": outputs["TEST_RMSE"],
            "epochs": outputs["EPOCHS_RUN"]}


TOOLS = ["smr lm", "smr lm, 5 restarts", "sklearn lbfgs", "sklearn adam"]


def run_single(smr, features, target, size, hidden, repeats, seed, work):
    """Median time and test RMSE of every tool for SIZE samples and HIDDEN neurons."""
    if size > target.size:
        raise SystemExit(f"--sizes {size}: the scene has only {target.size} valid pixels")
    chosen = np.random.default_rng(seed).choice(target.size, size=size, replace=False)
    x_all, y_all = features[:, chosen].T, target[chosen]
    test_count = round(TEST_SHARE * size)
    runs = {tool: [] for tool in TOOLS}
    start_seconds = []
    for repeat in range(repeats):
        order = np.random.default_rng(seed + 1000 + repeat).permutation(size)
        fit, test = order[:-test_count], order[-test_count:]
        data = (x_all[fit], y_all[fit], x_all[test], y_all[test])
        repeat_seed = seed + repeat
        model_path = work / f"smr_{size}_{'_'.join(map(str, hidden))}.json"
        start_seconds.append(process_start_seconds(smr))
        runs["smr lm"].append(fit_smr(smr, hidden, repeat_seed, 1, *data, model_path))
        runs["smr lm, 5 restarts"].append(fit_smr(smr, hidden, repeat_seed, 5, *data, model_path))
        runs["sklearn lbfgs"].append(fit_sklearn("lbfgs", hidden, repeat_seed, StandardScaler,
                                                 VALIDATION_SHARE, *data))
        runs["sklearn adam"].append(fit_sklearn("adam", hidden, repeat_seed, StandardScaler,
                                                VALIDATION_SHARE, *data))
        print(f"  N {size}, hidden {hidden}, repeat {repeat + 1}/{repeats}: " + ", ".join(
            f"{tool} {runs[tool][-1]['seconds']:.3f} s / {runs[tool][-1]['test_rmse']:.4f}"
            for tool in TOOLS), flush=True)
    summary = {}
    for tool, results in runs.items():
        summary[tool] = {
            "seconds": statistics.median(r["seconds"] for r in results),
            "seconds_min": min(r["seconds"] for r in results),
            "seconds_max": max(r["seconds"] for r in results),
            "test_rmse": statistics.median(r["test_rmse"] for r in results),
            "epochs": statistics.median(r["epochs"] for r in results),
            "runs": results,
        }
    return {"samples": size, "hidden": list(hidden), "test_samples": test_count,
            "repeats": repeats, "tools": summary,
            "smr_start_seconds": statistics.median(start_seconds)}


# ---------------------------------------------------------------------------------------------
# Part 2 data: paper 001-like cells (synthetic; the sample scene has no time series).

def topp_permittivity(soil_moisture):
    """Real relative permittivity of a mineral soil from its volumetric moisture (Topp 1980)."""
    m = soil_moisture
    return 3.03 + 9.3 * m + 146.0 * m ** 2 - 76.7 * m ** 3


def many_cells(count, seed):
    """COUNT cells of daily series over four years; returns (features days × 9, target) per cell.

    Soil moisture: a bucket that dries exponentially towards its residual moisture and is refilled
    by rain, most of it in summer. Brightness temperatures: a rough soil (Fresnel reflectivity of
    the Topp permittivity, roughness loss growing with frequency) under a τ-ω vegetation layer
    whose opacity grows with LAI and frequency, plus 1 K noise. The model soil moisture is a biased,
    noisy copy of the truth; the target is the truth plus 0.02 m³/m³ retrieval noise.
    """
    rng = np.random.default_rng(seed)
    days = np.arange(MANY_DAYS)
    season = np.sin(2 * np.pi * (days - 110) / 365.0)          # +1 in July, −1 in January
    residual = rng.uniform(0.03, 0.12, count)[:, None]
    capacity = residual + rng.uniform(0.15, 0.35, count)[:, None]
    decay = np.exp(-1.0 / rng.uniform(3.0, 12.0, count))[:, None]
    depth_mm = rng.uniform(40.0, 80.0, count)[:, None]
    rain_probability = 0.04 + 0.25 * np.clip(season, 0.0, None)
    rain_mm = rng.exponential(6.0, (count, MANY_DAYS)) * (rng.random((count, MANY_DAYS))
                                                          < rain_probability)
    moisture = np.empty((count, MANY_DAYS))
    level = residual[:, 0] + 0.05
    for day in range(MANY_DAYS):
        level = (residual[:, 0] + (level - residual[:, 0]) * decay[:, 0]
                 + rain_mm[:, day] / depth_mm[:, 0])
        level = np.minimum(level, capacity[:, 0])
        moisture[:, day] = level

    lai = np.clip(rng.uniform(0.3, 3.0, count)[:, None] * np.clip(season, 0.0, None) ** 1.5
                  + rng.normal(0.0, 0.1, (count, MANY_DAYS)), 0.0, None)
    mean_moisture = moisture.mean(axis=1, keepdims=True)
    surface_t = (rng.uniform(268.0, 282.0, count)[:, None] + 15.0 * season
                 - 20.0 * (moisture - mean_moisture) + rng.normal(0.0, 3.0, (count, MANY_DAYS)))
    soil_t = (rng.uniform(270.0, 280.0, count)[:, None]
              + 12.0 * np.sin(2 * np.pi * (days - 135) / 365.0)
              + rng.normal(0.0, 1.5, (count, MANY_DAYS)))
    model_moisture = (rng.uniform(-0.05, 0.08, count)[:, None]
                      + rng.uniform(0.6, 1.2, count)[:, None] * moisture
                      + rng.normal(0.0, 0.03, (count, MANY_DAYS)))

    root = np.sqrt(topp_permittivity(moisture))
    smooth_reflectivity = ((1.0 - root) / (1.0 + root)) ** 2
    roughness = rng.uniform(0.1, 0.5, count)[:, None]
    effective_t = 0.5 * (surface_t + soil_t)
    cos_incidence = math.cos(math.radians(55.0))
    temperatures = []
    for frequency in MANY_FREQUENCIES_GHZ:
        reflectivity = smooth_reflectivity * np.exp(-roughness * math.sqrt(frequency / 6.9))
        opacity = 0.08 * (frequency / 6.9) ** 0.6 * 0.5 * lai
        transmissivity = np.exp(-opacity / cos_incidence)
        albedo = 0.05
        tb = effective_t * ((1.0 - reflectivity) * transmissivity
                            + (1.0 - albedo) * (1.0 - transmissivity)
                            * (1.0 + reflectivity * transmissivity))
        temperatures.append(tb + rng.normal(0.0, 1.0, (count, MANY_DAYS)))
    satellite_moisture = moisture + rng.normal(0.0, 0.02, (count, MANY_DAYS))

    # Values as the products store them: 0.01 K, 1e-4 m³/m³, 1e-3 LAI. Both tools then read exactly
    # the same numbers, and the JSON file stays small.
    stacked = np.stack(temperatures + [model_moisture, surface_t, soil_t, lai], axis=2)
    decimals = np.array([2, 2, 2, 2, 2, 4, 2, 2, 3])
    for column, places in enumerate(decimals):
        stacked[:, :, column] = np.round(stacked[:, :, column], places)
    satellite_moisture = np.round(satellite_moisture, 4)

    cells = []
    for cell in range(count):
        samples = int(rng.integers(MANY_MIN_SAMPLES, MANY_MAX_SAMPLES + 1))
        matched = np.sort(rng.choice(MANY_DAYS, size=samples, replace=False))
        cells.append((stacked[cell, matched, :], satellite_moisture[cell, matched]))
    return cells


def split_cell(features, target, rng):
    """Shuffle, then the last 10 % are the test samples (the order the C++ program expects)."""
    order = rng.permutation(target.size)
    test_count = max(2, round(MANY_RATIOS[2] * target.size))  # an RMSE needs 2
    return features[order], target[order], test_count


def train_many_networks(train_many, request, path):
    """Run smr_bench_train_many on REQUEST; its JSON result and the wall seconds of the process."""
    path.write_text(json.dumps(request), encoding="utf-8")
    started = time.perf_counter()
    completed = subprocess.run([train_many, str(path)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{train_many} failed (exit {completed.returncode}):\n{completed.stderr}")
    result = json.loads(completed.stdout)
    result["process_seconds"] = seconds
    print(f"  smr, {result['threads']} threads: {seconds:.2f} s ({result['train_seconds']:.2f} s "
          f"training)", flush=True)
    return result


def run_many(train_many, networks, adam_networks, seed, work):
    cells = many_cells(networks, seed)
    rng = np.random.default_rng(seed + 1)
    datasets = [split_cell(features, target, rng) for features, target in cells]
    request = {
        "format": "smr-bench-many-networks", "hidden": [MANY_HIDDEN],
        "normalisation_range": [0, 1], "train_ratio": MANY_RATIOS[0],
        "validation_ratio": MANY_RATIOS[1], "seed": seed, "threads": 0,
        "datasets": [{"features": features.T.tolist(), "target": target.tolist(),
                      "test_count": test_count} for features, target, test_count in datasets],
    }
    sample_counts = [target.size for _, target, _ in datasets]
    print(f"  {networks} cells, {min(sample_counts)}-{max(sample_counts)} samples each "
          f"(mean {statistics.mean(sample_counts):.0f})", flush=True)
    request_path = work / "many_networks.json"
    smr_all = train_many_networks(train_many, request, request_path)
    request["threads"] = 1
    smr_one = train_many_networks(train_many, request, request_path)
    if smr_one["test_rmse"] != smr_all["test_rmse"]:
        raise SystemExit("smr_bench_train_many: 1 thread and all threads gave different networks")

    # The same validation share of the non-test samples for adam's early stopping as smr's.
    validation_fraction = MANY_RATIOS[1] / (MANY_RATIOS[0] + MANY_RATIOS[1])
    peers = {}
    for solver, limit in (("lbfgs", networks), ("adam", min(adam_networks, networks))):
        if limit == 0:
            continue
        rmse, epochs, seconds = [], [], 0.0
        for index, (features, target, test_count) in enumerate(datasets[:limit]):
            fitted = fit_sklearn(solver, [MANY_HIDDEN], seed + index, MinMaxScaler,
                                 validation_fraction, features[:-test_count], target[:-test_count],
                                 features[-test_count:], target[-test_count:])
            seconds += fitted["seconds"]
            rmse.append(fitted["test_rmse"])
            epochs.append(fitted["epochs"])
        peers[f"sklearn {solver}"] = {"networks": limit, "seconds": seconds, "test_rmse": rmse,
                                      "epochs": epochs}
        print(f"  sklearn {solver}: {seconds:.2f} s for {limit} networks", flush=True)

    return {
        "networks": networks, "hidden": MANY_HIDDEN, "inputs": len(MANY_INPUTS),
        "samples_min": min(sample_counts), "samples_max": max(sample_counts),
        "samples_mean": statistics.mean(sample_counts),
        "json_mb": request_path.stat().st_size / 1e6,
        "smr": {"networks": networks, "process_seconds": smr_all["process_seconds"],
                "read_seconds": smr_all["read_seconds"], "train_seconds": smr_all["train_seconds"],
                "threads": smr_all["threads"],
                "one_thread_process_seconds": smr_one["process_seconds"],
                "one_thread_train_seconds": smr_one["train_seconds"],
                "test_rmse": [value for value in smr_all["test_rmse"] if value is not None],
                "epochs": smr_all["epochs_run"], "stop_reasons": smr_all["stop_reasons"]},
        "peers": peers,
    }


# ---------------------------------------------------------------------------------------------
# Report.

def format_single(results):
    lines = [f"{'N':>5} {'hidden':>6}  {'tool':<19} {'time s':>8} {'(min-max)':>15} "
             f"{'test RMSE':>10} {'epochs':>7} {'speed-up':>9} {'RMSE / faster sklearn':>22}"]
    for result in results:
        tools = result["tools"]
        faster = min(("sklearn lbfgs", "sklearn adam"), key=lambda tool: tools[tool]["seconds"])
        for tool in TOOLS:
            m = tools[tool]
            lines.append(
                f"{result['samples']:>5} {'-'.join(map(str, result['hidden'])):>6}  {tool:<19} "
                f"{m['seconds']:>8.3f} {m['seconds_min']:>7.3f}-{m['seconds_max']:<7.3f} "
                f"{m['test_rmse']:>10.4f} {m['epochs']:>7.0f} "
                f"{tools[faster]['seconds'] / m['seconds']:>8.1f}× "
                f"{m['test_rmse'] / tools[faster]['test_rmse']:>22.3f}")
        smr = tools["smr lm"]
        lines.append(
            f"{'':>12} faster sklearn solver: {faster.split()[1]}; smr lm ×"
            f"{tools[faster]['seconds'] / smr['seconds']:.1f} faster at test RMSE "
            f"{smr['test_rmse']:.4f} vs {tools[faster]['test_rmse']:.4f}; smr 5 restarts ×"
            f"{tools[faster]['seconds'] / tools['smr lm, 5 restarts']['seconds']:.1f} at "
            f"{tools['smr lm, 5 restarts']['test_rmse']:.4f}; smr's process start alone "
            f"(`smr --version`) {result['smr_start_seconds']:.3f} s")
    return lines


def format_many(result):
    smr = result["smr"]
    lines = [
        f"{result['networks']} networks, {result['inputs']} inputs, {result['hidden']} hidden, "
        f"{result['samples_min']}-{result['samples_max']} samples each (mean "
        f"{result['samples_mean']:.0f}), 80/10/10, [0, 1] scaling; smr reads them from "
        f"{result['json_mb']:.1f} MB of JSON",
        f"{'tool':<34} {'networks':>8} {'wall s':>9} {'ms/network':>11} {'median test RMSE':>17} "
        f"{'median epochs':>14} {'speed-up':>9}",
    ]
    smr_per_network = smr["process_seconds"] / smr["networks"]
    rows = [(f"smr, {smr['threads']} threads (process)", smr["networks"], smr["process_seconds"],
             smr["test_rmse"], smr["epochs"]),
            (f"smr, {smr['threads']} threads (training only)", smr["networks"],
             smr["train_seconds"], smr["test_rmse"], smr["epochs"]),
            ("smr, 1 thread (process)", smr["networks"], smr["one_thread_process_seconds"],
             smr["test_rmse"], smr["epochs"])]
    for tool, peer in result["peers"].items():
        rows.append((f"{tool} (loop in 1 process)", peer["networks"], peer["seconds"],
                     peer["test_rmse"], peer["epochs"]))
    for label, count, seconds, rmse, epochs in rows:
        per_network = seconds / count
        speed_up = "" if label.startswith("smr") else f"{per_network / smr_per_network:8.1f}×"
        lines.append(f"{label:<34} {count:>8} {seconds:>9.2f} {1000 * per_network:>11.2f} "
                     f"{statistics.median(rmse):>17.4f} {statistics.median(epochs):>14.0f} "
                     f"{speed_up:>9}")
    lbfgs = result["peers"].get("sklearn lbfgs")
    if lbfgs:
        lbfgs_per_network = lbfgs["seconds"] / lbfgs["networks"]
        pairs = list(zip(smr["test_rmse"], lbfgs["test_rmse"]))
        lines.append(
            f"against sklearn lbfgs per network: smr ×{lbfgs_per_network / smr_per_network:.1f} "
            f"(process, {smr['threads']} threads), "
            f"×{lbfgs_per_network / (smr['train_seconds'] / smr['networks']):.1f} (training only), "
            f"×{lbfgs_per_network / (smr['one_thread_process_seconds'] / smr['networks']):.1f} "
            f"(process, 1 thread); median test RMSE "
            f"{statistics.median(smr['test_rmse']):.4f} (smr) "
            f"vs {statistics.median(lbfgs['test_rmse']):.4f} (lbfgs); smr's is lower or equal on "
            f"{sum(a <= b for a, b in pairs)} of {len(pairs)} networks")
    lines.append("smr stops: " + ", ".join(
        f"{reason} {count}" for reason, count in sorted(smr["stop_reasons"].items())) +
        "; 1 thread and all threads gave identical networks")
    return lines


def format_report(machine, single, many, every_epoch=None):
    lines = [
        f"MLP training, smr against scikit-learn {sklearn.__version__} (numpy {np.__version__}), "
        f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GiB RAM, "
        f"{machine['smr']}, {machine['date']}; load average (1, 5, 15 min) before "
        f"{machine['load_average_before']}, after {machine['load_average_after']}",
    ]
    if single:
        lines += ["", "Part 1: one network, sample scene (σ⁰ VV, σ⁰ VH, soil σ⁰ VV, VH → true soil "
                  "moisture), 15 % held-out test samples; time and test RMSE are medians of the "
                  "repeats; speed-up = faster sklearn solver's time / the tool's time; smr's "
                  "times include its process start, scikit-learn runs inside this process", ""]
        lines += format_single(single)
    if many:
        lines += ["", "Part 2: one network per cell (paper 001 scale, synthetic series); "
                  "speed-up = sklearn time per network / smr process time per network", ""]
        lines += format_many(many)
    if every_epoch:
        lines += ["", "Part 3: every epoch of a small network (allocation per epoch shows here: "
                  "glibc's trim threshold raised, MALLOC_TRIM_THRESHOLD_=1000000000, must not "
                  "change the time)", ""]
        lines += format_every_epoch(every_epoch)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smr", help="smr executable (default: SMR_EXECUTABLE, then "
                                      "build/plugins/smr/bin/smr)")
    parser.add_argument("--train-many",
                        help="smr_bench_train_many (default: build/smr_bench_train_many)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000],
                        help="part 1 sample counts, test samples included (default 100 5000)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[7, 20],
                        help="part 1 hidden-layer sizes, one network each (default 7 20)")
    parser.add_argument("--repeats", type=int, default=9, help="part 1 repeats (default 9)")
    parser.add_argument("--networks", type=int, default=1000, help="part 2 networks (default 1000)")
    parser.add_argument("--many-adam", type=int, default=100, metavar="N",
                        help="part 2: sklearn adam on the first N networks (default 100; 0: none)")
    parser.add_argument("--skip-single", action="store_true", help="leave out part 1")
    parser.add_argument("--skip-many", action="store_true", help="leave out part 2")
    parser.add_argument("--skip-every-epoch", action="store_true", help="leave out part 3")
    parser.add_argument("--every-epoch-repeats", type=int, default=5,
                        help="part 3 runs per configuration (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="a quick check: --sizes 100 --repeats 2 --networks 100 --many-adam 20")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of every random choice (default 1)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.sizes, arguments.repeats = [100], 2
        arguments.networks, arguments.many_adam = 100, 20
        arguments.every_epoch_repeats = 2
    for name in ("repeats", "networks", "every_epoch_repeats"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, "
                         f"got {getattr(arguments, name)}")
    if arguments.many_adam < 0:
        parser.error(f"--many-adam must be 0 or more, got {arguments.many_adam}")
    for size in arguments.sizes:
        if size < 20:
            parser.error(f"--sizes {size}: give at least 20 samples (15 % test, 15 % validation)")

    if arguments.smr:
        os.environ["SMR_EXECUTABLE"] = arguments.smr
    smr = smr_executable()
    train_many = None if arguments.skip_many else train_many_executable(arguments.train_many)
    machine = machine_description(smr)
    machine["sklearn"], machine["numpy"] = sklearn.__version__, np.__version__
    # Other work on the machine skews the seconds: the load before and after says whether it ran.
    machine["load_average_before"] = [round(value, 2) for value in os.getloadavg()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    work = arguments.work or Path(tempfile.mkdtemp(prefix="smr-bench-mlp-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"smr: {smr}\nsmr_bench_train_many: {train_many}\nwork folder: {work}", flush=True)

    single = []
    many = every_epoch = None
    try:
        if not (arguments.skip_single and arguments.skip_every_epoch):
            print("Sample scene through paper 000's chain", flush=True)
            features, target = scene_samples(smr, work / "scene")
            print(f"  {target.size} valid pixels", flush=True)
        if not arguments.skip_single:
            print("Part 1: one network", flush=True)
            # One untimed fit each, so imports and first-call costs are not charged to a tool.
            warm = np.random.default_rng(0).choice(target.size, 40, replace=False)
            fit_sklearn("lbfgs", [2], 0, StandardScaler, VALIDATION_SHARE, features[:, warm].T,
                        target[warm], features[:, warm].T, target[warm])
            for size in arguments.sizes:
                for hidden in arguments.hidden:
                    single.append(run_single(smr, features, target, size, [hidden],
                                             arguments.repeats, arguments.seed, work))
        if not arguments.skip_many:
            print("Part 2: one network per cell", flush=True)
            many = run_many(train_many, arguments.networks, arguments.many_adam, arguments.seed,
                            work)
        if not arguments.skip_every_epoch:
            print("Part 3: every epoch of a small network", flush=True)
            every_epoch = run_every_epoch(smr, features, target, arguments.every_epoch_repeats,
                                          arguments.seed, work)
    finally:
        if arguments.work is None:
            shutil.rmtree(work, ignore_errors=True)

    machine["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    report = format_report(machine, single, many, every_epoch)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text_path = RESULTS_DIR / f"mlp_training-{stamp}.txt"
    text_path.write_text(report + "\n", encoding="utf-8")
    (RESULTS_DIR / f"mlp_training-{stamp}.json").write_text(
        json.dumps({"machine": machine, "single": single, "many": many,
                    "every_epoch": every_epoch}, indent=1) + "\n",
        encoding="utf-8")
    print("\n" + report)
    print(f"\nwritten to {text_path} (and .json)")


if __name__ == "__main__":
    sys.exit(main())
