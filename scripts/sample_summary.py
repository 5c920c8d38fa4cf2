#!/usr/bin/python3
"""Summarise the sample workflow's outputs against the truth of the synthetic scene.

    /usr/bin/python3 scripts/sample_summary.py DATA_DIR OUTPUT_DIR

DATA_DIR is the scene written by `smr samplescene` (scene.json, truth_*.tif); OUTPUT_DIR holds the
outputs of the sample models, as scripts/run-sample-workflow writes them:

- ndvi/, ndmi/, ndwi/ (paper000_physical_chain.model3, one run per index): for each polarisation ×
  index combination of paper 000, the vegetation contribution and how far the retrieved soil σ⁰ is
  from the true σ⁰_soil[dB] = C + D·SM of the scene (the difference includes the scene's speckle,
  about 1 dB per pixel at 20 looks). The table also goes to OUTPUT_DIR/summary.json.
- paper003/ (paper003_predictors.model3): grid and range of MPDI, NSDSI and NDVI, and how MPDI
  follows the true soil moisture and VWC averaged to its grid (also in paper003/summary.json).
- forward/ (wcm_forward_simulation.model3 run with the true soil σ⁰ VV, the true VWC, the scene's
  VV A and B and V1 = VWC, which is how the scene made σ⁰ VV): the check that the simulated σ⁰ VV
  matches the observed, speckled σ⁰ VV on average — mean ratio of linear powers ≈ 1 — with the
  mean dB difference and RMSE next to what the scene's gamma speckle alone gives (also in
  forward/summary.json). The script exits 1 when the check fails.
- paper000_sm/ (paper000_soil_moisture.model3 run with qgis_process --json: the BP network of
  paper 000 trained at the in-situ stations, its map and the map against the true soil moisture):
  the in-situ training and validation r², RMSE and MAE next to paper 000's Table 2, the map's RMSE,
  bias and r against the truth with the number of pixels compared, the clamped and out-of-range
  pixel counts, and where the map, the network and the two reports are. The numbers are the
  model's results in paper000_sm/qgis_process.json; the map's RMSE is recomputed here from the
  rasters and must agree, and must beat predicting the truth's mean everywhere (the script exits 1
  otherwise). Also in paper000_sm/summary.json.

Everything printed also goes to OUTPUT_DIR/summary.txt.
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

INDICES = ("ndvi", "ndmi", "ndwi")
POLARISATIONS = ("vv", "vh")
PAPER003_OUTPUTS = (("MPDI", "mpdi.tif"), ("NSDSI", "nsdsi.tif"), ("NDVI", "ndvi.tif"))
# The forward check passes when the mean of observed/simulated linear σ⁰ is within this of 1.
FORWARD_RATIO_TOLERANCE = 0.02
# Paper 000 Table 2: its BP network against its field measurements.
PAPER000_TABLE2 = {"r2": 0.7220, "rmse": 0.0310, "mae": 0.0230}
# The map's RMSE reported by smr:validationmetrics and recomputed here must agree this well
# (m³/m³; both are over the same pixels, in float32 against float64 sums).
MAP_RMSE_AGREEMENT = 1e-4
# Below it the soil is frozen: the target product has no value, so no network trains on it.
FREEZING_K = 273.15
PAPER001_MODEL = Path(__file__).resolve().parent.parent / "sample_projects" / \
    "paper001_reconstruction.model3"


def static_child_value(model_file, key):
    """The fixed value a .model3 gives its child parameter KEY (the first child that sets it)."""
    import xml.etree.ElementTree as ElementTree

    for option in ElementTree.parse(model_file).iter("Option"):
        if option.get("name") == key and option.get("type") == "List":
            for value in option.iter("Option"):
                if value.get("name") == "static_value":
                    return float(value.get("value"))
    raise SystemExit(f"{model_file} sets no fixed {key}")


def read(path, like=None, resampling="bilinear"):
    """Band 1 as float64 with nodata as NaN; resampled onto the grid LIKE = (width, height,
    transform) if given and different."""
    dataset = gdal.Open(str(path))
    if like is not None and (dataset.RasterXSize, dataset.RasterYSize,
                             dataset.GetGeoTransform()) != like:
        width, height, transform = like
        bounds = (transform[0], transform[3] + height * transform[5],
                  transform[0] + width * transform[1], transform[3])
        dataset = gdal.Warp("", dataset, format="MEM", outputBounds=bounds, width=width,
                            height=height, resampleAlg=resampling)
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(np.float64)
    nodata = band.GetNoDataValue()
    if nodata is not None:
        values[values == nodata] = np.nan
    return values


def grid(path):
    dataset = gdal.Open(str(path))
    return dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform()


def log_gamma_moments(looks):
    """Mean and standard deviation, in dB, of 10·log10 of unit-mean gamma speckle of L looks.

    10·log10(e)·(ψ(L) − ln L) and 10·log10(e)·sqrt(ψ′(L)), from the asymptotic series of the
    digamma and trigamma functions after shifting L above 10 with ψ(L) = ψ(L + 1) − 1/L.
    """
    shift_mean = shift_variance = 0.0
    x = float(looks)
    while x < 10.0:
        shift_mean -= 1.0 / x
        shift_variance += 1.0 / x ** 2
        x += 1.0
    digamma = (np.log(x) - 1 / (2 * x) - 1 / (12 * x ** 2) + 1 / (120 * x ** 4)
               - 1 / (252 * x ** 6) + shift_mean)
    trigamma = (1 / x + 1 / (2 * x ** 2) + 1 / (6 * x ** 3) - 1 / (30 * x ** 5)
                + 1 / (42 * x ** 7) + shift_variance)
    decibel = 10.0 / np.log(10.0)
    return decibel * (digamma - np.log(looks)), decibel * np.sqrt(trigamma)


def summarise(data_dir, output_dir, scene):
    """One row per polarisation × index combination of paper 000 (empty when none was run)."""
    radar_grid = grid(data_dir / "sigma0_vv_db.tif")
    soil_moisture = read(data_dir / "truth_soil_moisture.tif")
    true_vwc = read(data_dir / "truth_vwc.tif")
    rows = []
    for index in INDICES:
        folder = output_dir / index
        if not (folder / "vwc.tif").is_file():
            continue
        vwc = read(folder / "vwc.tif", like=radar_grid)
        vwc_error = vwc - true_vwc
        for polarisation in POLARISATIONS:
            parameters = scene[polarisation.upper()]
            true_soil = parameters["C"] + parameters["D"] * soil_moisture
            soil = read(folder / f"soil_sigma0_{polarisation}.tif")
            vegetation = read(folder / f"vegetation_{polarisation}.tif")
            valid = np.isfinite(soil) & np.isfinite(true_soil)
            error = soil[valid] - true_soil[valid]
            rows.append({
                "index": index.upper(),
                "polarisation": polarisation.upper(),
                "vwc_bias_kg_m2": float(np.nanmean(vwc_error)),
                "vegetation_mean_db": float(np.nanmean(vegetation)),
                "soil_bias_db": float(error.mean()) if error.size else float("nan"),
                "soil_rmse_db": float(np.sqrt((error ** 2).mean())) if error.size else float("nan"),
                "valid_percent": 100.0 * valid.sum() / valid.size,
            })
    return rows


def table(rows):
    lines = [
        "paper 000 combinations on the sample scene (retrieved − truth; truth σ⁰_soil = C + D·SM)",
        f"{'combination':<12} {'VWC bias':>9} {'veg. contr.':>11} {'soil bias':>9} "
        f"{'soil RMSE':>9} {'valid':>7}",
        f"{'':<12} {'kg/m²':>9} {'dB':>11} {'dB':>9} {'dB':>9} {'%':>7}",
    ]
    for row in rows:
        lines.append(
            f"{row['polarisation'] + '_' + row['index']:<12} {row['vwc_bias_kg_m2']:>9.3f} "
            f"{row['vegetation_mean_db']:>11.2f} {row['soil_bias_db']:>9.2f} "
            f"{row['soil_rmse_db']:>9.2f} {row['valid_percent']:>7.1f}")
    lines.append("The scene's VWC is paper 000 eq. 8 on NDMI, so NDMI recovers it; NDVI and NDWI "
                 "carry their models' bias into the soil σ⁰. RMSE includes ~1 dB of speckle.")
    return "\n".join(lines)


def summarise_paper003(data_dir, folder):
    """Grid and range of each predictor; MPDI against the truth averaged to its grid."""
    if not (folder / "mpdi.tif").is_file():
        return None
    predictors = []
    for name, file_name in PAPER003_OUTPUTS:
        path = folder / file_name
        width, height, transform = grid(path)
        values = read(path)
        predictors.append({
            "name": name, "file": file_name, "width": width, "height": height,
            "pixel_size_m": abs(transform[1]),
            "min": float(np.nanmin(values)), "max": float(np.nanmax(values)),
            "mean": float(np.nanmean(values)),
            "valid_percent": 100.0 * np.isfinite(values).mean(),
        })
    passive_grid = grid(folder / "mpdi.tif")
    mpdi = read(folder / "mpdi.tif").ravel()
    correlations = {}
    for key, file_name in (("soil_moisture", "truth_soil_moisture.tif"), ("vwc", "truth_vwc.tif")):
        truth = read(data_dir / file_name, like=passive_grid, resampling="average").ravel()
        both = np.isfinite(mpdi) & np.isfinite(truth)
        correlations[key] = float(np.corrcoef(mpdi[both], truth[both])[0, 1])
    summary = {"predictors": predictors, "mpdi_correlation_with_truth": correlations}
    series_truth = data_dir / "timeseries" / "truth_sm.tif"
    if (folder / "bti.tif").is_file() and series_truth.is_file():
        summary["bti"] = summarise_bti(folder / "bti.tif", series_truth)
    return summary


def summarise_bti(bti_path, truth_path):
    """How BTI follows soil moisture over time: the temporal r per cell (thawed days, where the
    σ⁰ responds to the water in the soil), its median over the cells."""
    bti = read_stack(bti_path)
    truth = read_stack(truth_path)
    thawed = read_stack(truth_path.parent / "gldas_st.tif") >= FREEZING_K
    correlations = []
    for row in range(bti.shape[1]):
        for column in range(bti.shape[2]):
            both = (np.isfinite(bti[:, row, column]) & np.isfinite(truth[:, row, column])
                    & thawed[:, row, column])
            if both.sum() >= 30 and np.std(truth[both, row, column]) > 0:
                correlations.append(np.corrcoef(bti[both, row, column], truth[both, row, column])[0, 1])
    return {"bands": int(bti.shape[0]), "cells": int(bti.shape[1] * bti.shape[2]),
            "valid_percent": 100.0 * float(np.isfinite(bti).mean()),
            "min": float(np.nanmin(bti)), "max": float(np.nanmax(bti)),
            "cells_correlated": len(correlations),
            "median_temporal_r": float(np.median(correlations)) if correlations else None}


def paper003_table(summary):
    lines = [
        "paper 003 predictors (paper003_predictors.model3, NSDSI1)",
        f"{'predictor':<10} {'grid':<20} {'min':>8} {'max':>8} {'mean':>8} {'valid':>7}",
        f"{'':<10} {'':<20} {'':>8} {'':>8} {'':>8} {'%':>7}",
    ]
    for row in summary["predictors"]:
        grid_text = f"{row['width']}×{row['height']} px of {row['pixel_size_m']:g} m"
        lines.append(f"{row['name']:<10} {grid_text:<20} {row['min']:>8.4f} {row['max']:>8.4f} "
                     f"{row['mean']:>8.4f} {row['valid_percent']:>7.1f}")
    correlations = summary["mpdi_correlation_with_truth"]
    lines.append(f"MPDI against the truth averaged to its grid: r = {correlations['vwc']:.2f} with "
                 f"VWC, r = {correlations['soil_moisture']:.2f} with soil moisture")
    lines.append("(vegetation lowers the polarisation difference, as paper 003 notes; wetter soil "
                 "raises it)")
    bti = summary.get("bti")
    if bti:
        lines.append(f"BTI of the ASCAT-like σ⁰ stack: {bti['bands']} bands × {bti['cells']} cells, "
                     f"{bti['min']:.2f}…{bti['max']:.2f}, {bti['valid_percent']:.1f}% valid; median "
                     f"temporal r with the true soil moisture {_number(bti['median_temporal_r'], 2)} "
                     f"over {bti['cells_correlated']} cells (thawed days)")
    return "\n".join(lines)


def summarise_forward(data_dir, folder, scene):
    """The simulated σ⁰ VV against the observed, speckled σ⁰ VV of the scene."""
    if not (folder / "sigma0_vv_db.tif").is_file():
        return None
    simulated_db = read(folder / "sigma0_vv_db.tif")
    simulated_linear = read(folder / "sigma0_vv_linear.tif")
    observed_db = read(data_dir / "sigma0_vv_db.tif")
    valid = np.isfinite(simulated_db) & np.isfinite(observed_db) & (simulated_linear > 0)
    difference_db = observed_db[valid] - simulated_db[valid]
    observed_linear = 10.0 ** (observed_db[valid] / 10.0)
    ratio = observed_linear / simulated_linear[valid]
    looks = float(scene.get("speckle_looks", 20.0))
    speckle_mean_db, speckle_std_db = log_gamma_moments(looks)
    # The two outputs of the model must agree: dB = 10·log10(linear).
    conversion_error = np.abs(simulated_db[valid] - 10.0 * np.log10(simulated_linear[valid]))
    summary = {
        "parameters": {"A": scene["VV"]["A"], "B": scene["VV"]["B"], "V1": "VWC"},
        "valid_percent": 100.0 * valid.mean(),
        "mean_difference_db": float(difference_db.mean()),
        "rmse_db": float(np.sqrt((difference_db ** 2).mean())),
        "mean_ratio_linear": float(ratio.mean()),
        "mean_difference_linear_relative": float(
            (observed_linear - simulated_linear[valid]).mean() / simulated_linear[valid].mean()),
        "speckle_looks": looks,
        "speckle_mean_db": float(speckle_mean_db),
        "speckle_rmse_db": float(np.hypot(speckle_mean_db, speckle_std_db)),
        "max_db_linear_mismatch_db": float(conversion_error.max()),
        "ratio_tolerance": FORWARD_RATIO_TOLERANCE,
    }
    summary["passed"] = bool(abs(summary["mean_ratio_linear"] - 1.0) < FORWARD_RATIO_TOLERANCE
                             and summary["max_db_linear_mismatch_db"] < 1e-3)
    return summary


def forward_table(summary):
    parameters = summary["parameters"]
    verdict = "passed" if summary["passed"] else "FAILED"
    return "\n".join([
        "water cloud forward check, VV (wcm_forward_simulation.model3)",
        f"  inputs as the scene made σ⁰ VV: true soil σ⁰ VV and VWC, A {parameters['A']:g}, "
        f"B {parameters['B']:g}, V1 = VWC",
        f"observed − simulated σ⁰ VV: mean {summary['mean_difference_db']:+.3f} dB, "
        f"RMSE {summary['rmse_db']:.3f} dB ({summary['valid_percent']:.1f}% of the pixels)",
        f"  {summary['speckle_looks']:g}-look gamma speckle alone: mean "
        f"{summary['speckle_mean_db']:+.3f} dB, RMSE {summary['speckle_rmse_db']:.3f} dB",
        f"mean ratio observed / simulated, linear power: {summary['mean_ratio_linear']:.4f} "
        f"(mean difference {100 * summary['mean_difference_linear_relative']:+.2f}% of the mean σ⁰)",
        f"dB output = 10·log10(linear output) to {summary['max_db_linear_mismatch_db']:.1e} dB",
        f"check {verdict}: |mean ratio − 1| < {summary['ratio_tolerance']:g}",
    ])


def summarise_soil_moisture(data_dir, folder):
    """The soil-moisture model's results (qgis_process --json) and a check of its map."""
    report_file = folder / "qgis_process.json"
    if not report_file.is_file():
        return None
    results = json.loads(report_file.read_text(encoding="utf-8"))["results"]
    in_situ = {}
    for subset in ("TRAIN", "VALIDATION"):
        in_situ[subset.lower()] = {metric.lower(): results.get(f"train:{subset}_{metric}")
                                   for metric in ("R2", "RMSE", "MAE", "N")}
    map_metrics = {metric.lower(): results.get(f"accuracy:{metric}")
                   for metric in ("R", "R2", "RMSE", "UBRMSE", "MAE", "BIAS", "N")}
    counts = {key.lower(): results.get(f"map:{key}")
              for key in ("VALID_PIXELS", "CLAMPED_PIXELS", "OUT_OF_RANGE_PIXELS", "NODATA_PIXELS",
                          "INVALID_PIXELS")}
    files = {"map": results.get("map:SOIL_MOISTURE"), "network": results.get("train:MODEL"),
             "training_report": results.get("train:REPORT"),
             "map_report": results.get("accuracy:REPORT")}
    missing = [name for name, path in files.items() if not path or not Path(path).is_file()]
    if missing:
        raise SystemExit(f"{report_file}: the model did not write {', '.join(missing)}")

    # Recomputed from the rasters: the reported RMSE must be this one, and it must beat a map
    # that is the truth's mean everywhere (a broken chain or an untrained network does not).
    estimate = read(files["map"])
    truth = read(data_dir / "truth_soil_moisture.tif", like=grid(files["map"]))
    both = np.isfinite(estimate) & np.isfinite(truth)
    error = estimate[both] - truth[both]
    recomputed_rmse = float(np.sqrt((error ** 2).mean()))
    mean_prediction_rmse = float(truth[both].std())
    reported_rmse = map_metrics["rmse"]
    agrees = reported_rmse is not None and abs(reported_rmse - recomputed_rmse) < MAP_RMSE_AGREEMENT
    summary = {
        "in_situ": in_situ,
        "skipped_stations": results.get("train:SKIPPED_SAMPLES"),
        "paper000_table2": PAPER000_TABLE2,
        "map_against_truth": map_metrics,
        "map_pixels": counts,
        "recomputed_rmse": recomputed_rmse,
        "recomputed_n": int(both.sum()),
        "mean_prediction_rmse": mean_prediction_rmse,
        "map_minimum": float(estimate[np.isfinite(estimate)].min()),
        "map_maximum": float(estimate[np.isfinite(estimate)].max()),
        "files": files,
    }
    summary["passed"] = bool(agrees and recomputed_rmse < mean_prediction_rmse)
    return summary


def _number(value, digits=4, signed=False):
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def soil_moisture_table(summary):
    lines = [
        "paper 000 soil-moisture map (paper000_soil_moisture.model3: NDMI, water cloud inversion, "
        "BP network 4-7-1)",
        f"{'in-situ stations':<22} {'r²':>7} {'RMSE':>7} {'MAE':>7} {'N':>5}",
        f"{'':<22} {'':>7} {'m³/m³':>7} {'m³/m³':>7}",
    ]
    for subset, label in (("train", "training"), ("validation", "validation")):
        row = summary["in_situ"][subset]
        count = "n/a" if row["n"] is None else f"{row['n']:.0f}"
        lines.append(f"{label:<22} {_number(row['r2']):>7} {_number(row['rmse']):>7} "
                     f"{_number(row['mae']):>7} {count:>5}")
    paper = summary["paper000_table2"]
    lines.append(f"{'paper 000 Table 2':<22} {paper['r2']:>7.4f} {paper['rmse']:>7.4f} "
                 f"{paper['mae']:>7.4f}")
    lines.append(f"stations skipped (a sampled raster is nodata there): "
                 f"{summary['skipped_stations']}")
    metrics, counts = summary["map_against_truth"], summary["map_pixels"]
    compared = "n/a" if metrics["n"] is None else f"{metrics['n']:.0f}"
    lines += [
        f"map against the true soil moisture: RMSE {_number(metrics['rmse'])} m³/m³, bias "
        f"{_number(metrics['bias'], signed=True)} m³/m³ (map − truth), "
        f"r {_number(metrics['r'], 3)}, N {compared} px",
        f"  a map of the truth's mean everywhere: RMSE {summary['mean_prediction_rmse']:.4f} "
        f"m³/m³; recomputed from the rasters: RMSE {summary['recomputed_rmse']:.4f} m³/m³ over "
        f"{summary['recomputed_n']} px",
        f"  map {summary['map_minimum']:.3f}…{summary['map_maximum']:.3f} m³/m³; clamped to "
        f"0–0.6 m³/m³: {counts['clamped_pixels']} px; an input outside its training range: "
        f"{counts['out_of_range_pixels']} px (of {counts['valid_pixels']} valid)",
        "The in-situ metrics are per station, with the stations' 0.02 m³/m³ error and one pixel's "
        "speckle; the map's are per pixel against the noise-free truth.",
    ]
    files = summary["files"]
    lines += [f"  map: {files['map']}", f"  network: {files['network']}",
              f"  training report: {files['training_report']}",
              f"  map against the truth: {files['map_report']}"]
    verdict = "passed" if summary["passed"] else "FAILED"
    lines.append(f"check {verdict}: the reported map RMSE is the recomputed one and beats the "
                 f"truth's mean")
    return "\n".join(lines)


def read_stack(path):
    """Every band as float64 (bands × rows × columns) with nodata as NaN."""
    dataset = gdal.Open(str(path))
    values = dataset.ReadAsArray().astype(np.float64)
    if values.ndim == 2:
        values = values[np.newaxis]
    for band in range(dataset.RasterCount):
        nodata = dataset.GetRasterBand(band + 1).GetNoDataValue()
        if nodata is not None:
            values[band][values[band] == nodata] = np.nan
    return values


def _agreement(estimate, truth, where):
    both = np.isfinite(estimate) & np.isfinite(truth) & where
    if both.sum() < 2:
        return {"rmse": None, "bias": None, "r": None, "n": int(both.sum())}
    error = estimate[both] - truth[both]
    return {"rmse": float(np.sqrt((error ** 2).mean())), "bias": float(error.mean()),
            "r": float(np.corrcoef(estimate[both], truth[both])[0, 1]), "n": int(both.sum())}


def require_written(report_file, files):
    """Stop when a model run named in REPORT_FILE left out any of FILES ({name: path or None})."""
    missing = [name for name, path in files.items() if not path or not Path(path).exists()]
    if missing:
        raise SystemExit(f"{report_file}: the model did not write {', '.join(missing)}")


def summarise_paper001(data_dir, folder):
    """Paper 001's model (qgis_process --json): the sweep, the reconstruction and a check of it on
    the days it was not trained on, against the scene's truth."""
    report_file = folder / "qgis_process.json"
    if not report_file.is_file():
        return None
    report = json.loads(report_file.read_text(encoding="utf-8"))
    results = report["results"]
    files = {"reconstructed": results.get("reconstruct:RECONSTRUCTED"),
             "metric_maps": results.get("reconstruct:METRIC_MAPS"),
             "counts": results.get("reconstruct:SAMPLE_COUNTS"),
             "sweep_csv": results.get("sweep:SWEEP_CSV"),
             "sweep_report": results.get("sweep:SWEEP_REPORT")}
    require_written(report_file, files)
    # The workflow trains on band numbers "first:last" from band 1; the days after are unseen.
    period = str(report.get("inputs", {}).get("TRAINING_PERIOD", ""))
    first_unseen = int(period.split(":")[1]) if re.fullmatch(r"1:\d+", period) else 0
    reconstructed = read_stack(files["reconstructed"])
    truth = read_stack(data_dir / "truth_sm.tif")
    target = read_stack(data_dir / "smap_sm.tif")
    model_sm = read_stack(data_dir / "gldas_sm.tif")
    # Frozen days are never in training (the target product has no value on frozen soil), so
    # the networks are judged on thawed days; the frozen ones are reported apart.
    thawed = read_stack(data_dir / "gldas_st.tif") >= FREEZING_K
    frozen = ~thawed
    unseen = slice(first_unseen, truth.shape[0])
    summary = {
        "best_hidden": results.get("sweep:BEST_SETTING"),
        "cells": results.get("reconstruct:CELLS"),
        "trained_cells": results.get("reconstruct:TRAINED_CELLS"),
        "skipped_cells": results.get("reconstruct:SKIPPED_CELLS"),
        "failed_cells": results.get("reconstruct:FAILED_CELLS"),
        "excluded_by_precipitation": results.get("reconstruct:EXCLUDED_BY_PRECIPITATION"),
        "mean_metrics": {key: results.get(f"reconstruct:MEAN_{key}")
                         for key in ("TRAIN_R", "TRAIN_RMSE", "TEST_R", "TEST_RMSE", "ALL_R",
                                     "ALL_RMSE")},
        "unseen_days": [first_unseen + 1, truth.shape[0]],
        "reconstruction_vs_truth": _agreement(reconstructed[unseen], truth[unseen], thawed[unseen]),
        "target_vs_truth": _agreement(target[unseen], truth[unseen], thawed[unseen]),
        "model_sm_vs_truth": _agreement(model_sm[unseen], truth[unseen], thawed[unseen]),
        "reconstruction_frozen_vs_truth": _agreement(reconstructed[unseen], truth[unseen],
                                                     frozen[unseen]),
        "thawed_share": float(thawed[unseen].mean()),
        "target_coverage": float(np.isfinite(target[unseen][thawed[unseen]]).mean()),
        "reconstruction_coverage": float(np.isfinite(reconstructed[unseen][thawed[unseen]]).mean()),
        "extrapolated_steps": results.get("reconstruct:EXTRAPOLATED_STEPS"),
        "masked_steps": results.get("reconstruct:MASKED_STEPS"),
        "clamped_steps": results.get("reconstruct:CLAMPED_STEPS"),
        "range": [float(np.nanmin(reconstructed)), float(np.nanmax(reconstructed))],
        "clamp": [static_child_value(PAPER001_MODEL, "CLAMP_MIN"),
                  static_child_value(PAPER001_MODEL, "CLAMP_MAX")],
        "files": files,
    }
    # The networks must beat the uncorrected model soil moisture they were given as an input, and
    # no value may lie outside the model's clamp (bounds stored as Float32, like the stack).
    summary["passed"] = bool(summary["reconstruction_vs_truth"]["rmse"]
                             < summary["model_sm_vs_truth"]["rmse"]
                             and np.float32(summary["clamp"][0]) <= summary["range"][0]
                             and summary["range"][1] <= np.float32(summary["clamp"][1]))
    return summary


def paper001_table(summary):
    means = summary["mean_metrics"]
    first, last = summary["unseen_days"]
    lines = [
        "paper 001 reconstruction (paper001_reconstruction.model3: hidden-neuron sweep, one BP "
        "network per cell, precipitation filter)",
        f"hidden neurons chosen by the sweep: {summary['best_hidden']}; cells: "
        f"{summary['cells']}, trained {summary['trained_cells']}, skipped (< 50 pairs) "
        f"{summary['skipped_cells']}, failed {summary['failed_cells']}; pairs left out by the "
        f"precipitation threshold: {summary['excluded_by_precipitation']}",
        f"mean over cells, against the target product: training r {_number(means['TRAIN_R'], 3)}"
        f" RMSE {_number(means['TRAIN_RMSE'])}, test r {_number(means['TEST_R'], 3)} RMSE "
        f"{_number(means['TEST_RMSE'])}, overall r {_number(means['ALL_R'], 3)} RMSE "
        f"{_number(means['ALL_RMSE'])} m³/m³",
        f"thawed days of {first}-{last} (never trained on; {summary['thawed_share']:.0%} of the "
        f"cell-days), against the scene's true soil moisture:",
        f"{'':<34} {'RMSE':>7} {'bias':>8} {'r':>6} {'cell-days':>10}",
    ]
    for key, label in (("reconstruction_vs_truth", "reconstruction"),
                       ("target_vs_truth", "target product (SMAP-like)"),
                       ("model_sm_vs_truth", "model soil moisture (GLDAS-like)")):
        row = summary[key]
        lines.append(f"{label:<34} {row['rmse']:>7.4f} {row['bias']:>+8.4f} {row['r']:>6.3f} "
                     f"{row['n']:>10}")
    lines.append(f"coverage of those cell-days: target {summary['target_coverage']:.0%}, "
                 f"reconstruction {summary['reconstruction_coverage']:.0%}")
    low, high = summary["clamp"]
    lines.append(f"steps with an input outside the cell's training range: "
                 f"{summary['extrapolated_steps']}, masked {summary['masked_steps']}; clamped to "
                 f"{low:g}-{high:g} m³/m³: {summary['clamped_steps']}; the reconstruction spans "
                 f"{summary['range'][0]:.3f}-{summary['range'][1]:.3f} m³/m³")
    frozen = summary["reconstruction_frozen_vs_truth"]
    if frozen["n"]:
        lines.append(f"frozen days (outside every network's training): reconstruction RMSE "
                     f"{frozen['rmse']:.4f} over {frozen['n']} cell-days — extrapolation, not to "
                     f"be used")
    files = summary["files"]
    lines += [f"  reconstruction: {files['reconstructed']}", f"  metric maps: {files['metric_maps']}",
              f"  counts: {files['counts']}", f"  sweep: {files['sweep_csv']}, {files['sweep_report']}"]
    verdict = "passed" if summary["passed"] else "FAILED"
    lines.append(f"check {verdict}: the reconstruction is closer to the truth than the model soil "
                 f"moisture it was given, and within {low:g}-{high:g} m³/m³")
    return "\n".join(lines)


TC_PRODUCTS = ("tc_retrieval_sm", "tc_satellite_ssm", "tc_reanalysis_sm")  # X, Y, Z of the model
TC_TOLERANCE = 0.1  # the median recovered error std may differ from the known one by 10 %


def summarise_validation(data_dir, folder):
    """The validation model (qgis_process --json): temporal metrics of the reconstruction, triple
    collocation of three products whose error standard deviations the scene description gives,
    and the satellite product before and after CDF matching."""
    report_file = folder / "qgis_process.json"
    if not report_file.is_file():
        return None
    results = json.loads(report_file.read_text(encoding="utf-8"))["results"]
    files = {"metric_maps": results.get("metrics:METRIC_MAPS"),
             "spatial_csv": results.get("metrics:SPATIAL_CSV"),
             "collocation_maps": results.get("collocation:COLLOCATION_MAPS"),
             "matched": results.get("matching:MATCHED_Y"),
             "reports": [results.get(key) for key in ("metrics:METRICS_REPORT",
                                                      "collocation:COLLOCATION_REPORT",
                                                      "matched_metrics:MATCHED_REPORT")]}
    require_written(report_file, {**{name: path for name, path in files.items() if name != "reports"},
                                  **{f"report {i + 1}": path for i, path in enumerate(files["reports"])}})
    known = json.loads((data_dir / "scene.json").read_text())["triple_collocation"]
    # Bands 4-6: the error standard deviation of X, Y, Z in their own units.
    collocation = read_stack(files["collocation_maps"])
    products = []
    for index, name in enumerate(TC_PRODUCTS):
        recovered = collocation[3 + index]
        median = float(np.nanmedian(recovered))
        expected = known[name]["error_std"]
        products.append({"name": name, "unit": known[name]["unit"], "known_error_std": expected,
                         "median_error_std": median,
                         "relative_difference": median / expected - 1.0,
                         "median_r_truth": float(np.nanmedian(collocation[12 + index]))})
    summary = {
        "temporal": {key: results.get(f"metrics:{key}") for key in (
            "MEAN_TEMPORAL_R", "MEAN_RMSE", "MEAN_UBRMSE", "MEAN_BIAS", "MEAN_SPATIAL_R",
            "SIGNIFICANT_STEPS", "COMPARED_PIXELS")},
        "collocation": {"products": products, **{key: results.get(f"collocation:{key}") for key in (
            "COLLOCATED_PIXELS", "FEW_OBSERVATIONS_PIXELS", "LOW_CORRELATION_PIXELS",
            "NEGATIVE_VARIANCE_PIXELS")}},
        "matched": {key: results.get(f"matched_metrics:{key}") for key in (
            "MEAN_TEMPORAL_R", "MEAN_BIAS", "MEAN_UBRMSE")},
        "matched_pixels": results.get("matching:MATCHED_PIXELS"),
        "files": files,
    }
    summary["passed"] = all(abs(p["relative_difference"]) <= TC_TOLERANCE for p in products)
    return summary


def validation_table(summary):
    temporal, collocation, matched = summary["temporal"], summary["collocation"], summary["matched"]
    lines = [
        "validation (validation_products.model3: temporal metrics, triple collocation, CDF matching)",
        f"reconstruction against the truth on days 366-730, per cell over time "
        f"({temporal['COMPARED_PIXELS']} cells): mean r {_number(temporal['MEAN_TEMPORAL_R'], 3)}, "
        f"RMSE {_number(temporal['MEAN_RMSE'])}, ubRMSE {_number(temporal['MEAN_UBRMSE'])}, bias "
        f"{_number(temporal['MEAN_BIAS'], signed=True)} m³/m³; spatial r "
        f"{_number(temporal['MEAN_SPATIAL_R'], 3)} (mean over the {temporal['SIGNIFICANT_STEPS']} "
        f"days with p < 0.05)",
        f"triple collocation of the scene's triplet: {collocation['COLLOCATED_PIXELS']} cells "
        f"collocated, masked: {collocation['LOW_CORRELATION_PIXELS']} low correlation, "
        f"{collocation['NEGATIVE_VARIANCE_PIXELS']} negative variance, "
        f"{collocation['FEW_OBSERVATIONS_PIXELS']} too few days",
        f"{'product':<18} {'unit':<13} {'known error std':>15} {'TC median':>10} {'diff':>7} "
        f"{'r truth':>8}",
    ]
    for product in collocation["products"]:
        lines.append(f"{product['name']:<18} {product['unit']:<13} {product['known_error_std']:>15.4g} "
                     f"{product['median_error_std']:>10.4g} {product['relative_difference']:>+7.1%} "
                     f"{product['median_r_truth']:>8.3f}")
    lines.append(f"satellite product CDF-matched onto the retrieval (fitted on days 1-365, "
                 f"{summary['matched_pixels']} cells): mean r {_number(matched['MEAN_TEMPORAL_R'], 3)}, "
                 f"bias {_number(matched['MEAN_BIAS'], signed=True)}, ubRMSE "
                 f"{_number(matched['MEAN_UBRMSE'])} m³/m³ against the retrieval")
    files = summary["files"]
    lines += [f"  maps: {files['metric_maps']}, {files['collocation_maps']}, {files['matched']}",
              f"  reports: {', '.join(files['reports'])}"]
    verdict = "passed" if summary["passed"] else "FAILED"
    lines.append(f"check {verdict}: triple collocation recovers each product's known error std "
                 f"within {TC_TOLERANCE:.0%} (median over the cells)")
    return "\n".join(lines)


def summarise_insitu(folder):
    """insitu_validation.model3 on the station series (qgis_process --json)."""
    report_file = folder / "qgis_process.json"
    if not report_file.is_file():
        return None
    results = json.loads(report_file.read_text(encoding="utf-8"))["results"]
    keys = ("match:MATCHED", "match:UNMATCHED", "match:SKIPPED", "raw:R", "raw:BIAS", "raw:N",
            "rescaled:R", "rescaled:RMSE", "rescaled:UBRMSE", "rescaled:BIAS")
    summary = {key: results.get(key) for key in keys}
    summary["files"] = [results.get(key) for key in ("match:PAIRS", "rescale:RESCALED_PAIRS",
                                                     "rescale:MAPPING", "raw:RAW_REPORT",
                                                     "rescaled:RESCALED_REPORT")]
    require_written(report_file, {f"output {i + 1}": path for i, path in enumerate(summary["files"])})
    # CDF matching moves the satellite's % saturation onto the probe's m³/m³: the bias must vanish.
    summary["passed"] = summary["rescaled:BIAS"] is not None and abs(summary["rescaled:BIAS"]) < 0.01
    return summary


def insitu_table(summary):
    lines = [
        "validation against a station (insitu_validation.model3: time matching, metrics, CDF matching)",
        f"overpasses paired within 1 h: {summary['match:MATCHED']} (unpaired "
        f"{summary['match:UNMATCHED']}, skipped without a value {summary['match:SKIPPED']})",
        f"satellite (% saturation) against the probe (m³/m³): r {_number(summary['raw:R'], 3)}, "
        f"bias {_number(summary['raw:BIAS'], 2, signed=True)} (mixed units)",
        f"after CDF matching: r {_number(summary['rescaled:R'], 3)}, RMSE "
        f"{_number(summary['rescaled:RMSE'])}, ubRMSE {_number(summary['rescaled:UBRMSE'])}, bias "
        f"{_number(summary['rescaled:BIAS'], signed=True)} m³/m³",
        "  " + ", ".join(summary["files"]),
        f"check {'passed' if summary['passed'] else 'FAILED'}: CDF matching removes the bias "
        f"(|bias| < 0.01 m³/m³)",
    ]
    return "\n".join(lines)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    data_dir, output_dir = Path(sys.argv[1]), Path(sys.argv[2])
    scene = json.loads((data_dir / "scene.json").read_text())
    sections = []

    def add_section(summary, format_table, json_file):
        """A model's table and its summary.json; nothing when that model was not run (None, or
        no paper 000 rows)."""
        if summary:
            sections.append(format_table(summary))
            json_file.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    add_section(summarise(data_dir, output_dir, scene), table, output_dir / "summary.json")
    add_section(summarise_paper003(data_dir, output_dir / "paper003"), paper003_table,
                output_dir / "paper003" / "summary.json")
    forward = summarise_forward(data_dir, output_dir / "forward", scene)
    add_section(forward, forward_table, output_dir / "forward" / "summary.json")
    soil_moisture = summarise_soil_moisture(data_dir, output_dir / "paper000_sm")
    add_section(soil_moisture, soil_moisture_table, output_dir / "paper000_sm" / "summary.json")
    timeseries_dir = data_dir / "timeseries"
    paper001 = (summarise_paper001(timeseries_dir, output_dir / "paper001")
                if (timeseries_dir / "scene.json").is_file() else None)
    add_section(paper001, paper001_table, output_dir / "paper001" / "summary.json")
    validation = (summarise_validation(timeseries_dir, output_dir / "validation")
                  if (timeseries_dir / "scene.json").is_file() else None)
    add_section(validation, validation_table, output_dir / "validation" / "summary.json")
    insitu = summarise_insitu(output_dir / "insitu")
    add_section(insitu, insitu_table, output_dir / "insitu" / "summary.json")
    if not sections:
        raise SystemExit(f"no model outputs found under {output_dir}")
    text = "\n\n".join(sections)
    print(text)
    (output_dir / "summary.txt").write_text(text + "\n", encoding="utf-8")
    if forward is not None and not forward["passed"]:
        raise SystemExit("the water cloud forward check failed (see above)")
    if soil_moisture is not None and not soil_moisture["passed"]:
        raise SystemExit("the soil-moisture map check failed (see above)")
    if paper001 is not None and not paper001["passed"]:
        raise SystemExit("the paper 001 reconstruction check failed (see above)")
    if validation is not None and not validation["passed"]:
        raise SystemExit("the triple collocation check failed (see above)")
    if insitu is not None and not insitu["passed"]:
        raise SystemExit("the station validation check failed (see above)")


if __name__ == "__main__":
    main()
