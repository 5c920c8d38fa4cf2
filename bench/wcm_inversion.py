#!/usr/bin/python3
"""Benchmark: water cloud model inversion, `smr watercloudinversion` against gdal_calc.py.

    /usr/bin/python3 bench/wcm_inversion.py                 # N = 8000 and 16000
    /usr/bin/python3 bench/wcm_inversion.py --sizes 2000    # a quick run

For each N it generates a radar-only scene of N × N pixels (`smr samplescene`, PRODUCTS radar:
σ⁰ VV in dB, the true VWC and the incidence angle), then, in the same run, computes the soil σ⁰ of
paper 000 eq. 10 (V1 = V2 = VWC, A 0.12, B 0.09, output in dB) with

  smr          `smr watercloudinversion`, all cores (OpenMP over 256 × 256 blocks)
  smr 1 thread the same with THREADS = 1
  gdal_calc    gdal_calc.py with the same formula as one numpy expression (single-threaded)
  translate    gdal_translate of σ⁰ alone (no computation): the single-threaded cost of reading
               one input and writing one DEFLATE-compressed tiled GeoTIFF, a floor for any tool

all writing Float32 GeoTIFF with TILED=YES COMPRESS=DEFLATE PREDICTOR=3 BIGTIFF=IF_SAFER and nodata
−9999. Each is timed with GNU time (/usr/bin/time -v): wall-clock time and peak resident memory.
The smr and gdal_calc outputs are then compared block by block: same nodata mask and
max |difference| < 1e-3 dB where both are valid, or the run fails.

The table goes to stdout and to bench/results/wcm_inversion-<date>.txt and .json (bench/results/
is not committed). Benchmarks are not tests: the figures depend on the machine, so compare ratios
measured in the same run. Needs the packages of scripts/setup.sh and a built smr.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
GNU_TIME = "/usr/bin/time"
CREATION_OPTIONS = ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=IF_SAFER"]
NODATA = -9999.0
A, B = 0.12, 0.09  # VV water cloud parameters of the sample scene
TOLERANCE_DB = 1e-3

# Paper 000 eq. 1-3 and 10 in linear units, V1 = V2 = VWC; A = σ⁰ [dB], B = VWC [kg/m²],
# C = θ [degrees]. σ_veg = A·VWC·cosθ·(1 − γ²), γ² = exp(−2·B·VWC/cosθ),
# soil = (σ⁰ − σ_veg)/γ², nodata where σ⁰ ≤ σ_veg.
# In float64 like smr: in float32 (numpy's default for float32 inputs) σ⁰ − σ_veg loses digits
# where σ⁰ is close to σ_veg and the two tools would differ there by up to ~1e-3 dB.
# Each term is computed once (assignment expressions), as a numpy user would write it: a fair peer
# does not pay for repeating cos, exp and the power.
GDAL_CALC_EXPRESSION = (
    f"where((s:=10**(float64(A)/10)) > "
    f"(v:={A}*float64(B)*(c:=cos(float64(C)*pi/180))*(1-(g:=exp(-2*{B}*float64(B)/c)))), "
    f"10*log10(maximum(s - v, 1e-30)/g), {NODATA:g})")
# The same formula in numpy's default float32 arithmetic for Float32 inputs: what a user typing the
# formula would get. Faster (numpy's float32 transcendentals are SIMD), less exact near σ⁰ = σ_veg.
GDAL_CALC_EXPRESSION_FLOAT32 = GDAL_CALC_EXPRESSION.replace("float64(A)", "A").replace(
    "float64(B)", "B").replace("float64(C)", "C")


def smr_executable():
    configured = os.environ.get("SMR_EXECUTABLE")
    candidates = [Path(configured)] if configured else []
    candidates += [REPO_ROOT / "build" / "plugins" / "smr" / "bin" / "smr",
                   REPO_ROOT / "build" / "smr"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("smr not found: run scripts/setup.sh (or set SMR_EXECUTABLE)")


def gdal_calc_executable():
    found = shutil.which("gdal_calc.py") or "/usr/bin/gdal_calc.py"
    if not os.path.isfile(found):
        raise SystemExit("gdal_calc.py not found: install python3-gdal (scripts/setup.sh)")
    return found


def timed(label, command, log_path, stdin_text=None, env=None):
    """Run COMMAND under GNU time -v; return wall seconds, peak RSS in MB and CPU %."""
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} not found: install the Debian package 'time'")
    print(f"  {label:<13} {' '.join(command)[:150]}", flush=True)
    result = subprocess.run([GNU_TIME, "-v", *command], input=stdin_text, capture_output=True,
                            text=True, env=env)
    log_path.write_text(f"$ {' '.join(command)}\n--- stdout\n{result.stdout}\n"
                        f"--- stderr\n{result.stderr}", encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"{label} failed (exit {result.returncode}); see {log_path}:\n"
                         f"{result.stderr[-2000:]}")
    report = result.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", report).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    cpu = re.search(r"Percent of CPU this job got: (\d+)%", report)
    return {"wall_s": seconds, "peak_rss_mb": rss_kb / 1024.0,
            "cpu_percent": int(cpu.group(1)) if cpu else None}


def generate_scene(smr, size, folder):
    request = {"OUTPUT_DIR": str(folder), "PRODUCTS": "radar", "WIDTH": size, "HEIGHT": size}
    started = time.monotonic()
    result = subprocess.run([smr, "samplescene"], input=json.dumps(request), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"smr samplescene failed:\n{result.stdout[-2000:]}\n{result.stderr}")
    return time.monotonic() - started


def compare(smr_path, calc_path, rows_per_chunk=512):
    """Max |smr − gdal_calc| where both are valid, and the pixels valid in only one of them."""
    first, second = gdal.Open(str(smr_path)), gdal.Open(str(calc_path))
    band_a, band_b = first.GetRasterBand(1), second.GetRasterBand(1)
    width, height = first.RasterXSize, first.RasterYSize
    assert (width, height) == (second.RasterXSize, second.RasterYSize)
    max_difference, mask_mismatch, valid = 0.0, 0, 0
    for row in range(0, height, rows_per_chunk):
        rows = min(rows_per_chunk, height - row)
        a = band_a.ReadAsArray(0, row, width, rows)
        b = band_b.ReadAsArray(0, row, width, rows)
        valid_a = (a != NODATA) & np.isfinite(a)
        valid_b = (b != NODATA) & np.isfinite(b)
        both = valid_a & valid_b
        mask_mismatch += int(np.count_nonzero(valid_a != valid_b))
        valid += int(np.count_nonzero(both))
        if both.any():
            difference = np.abs(a[both].astype(np.float64) - b[both].astype(np.float64))
            max_difference = max(max_difference, float(difference.max()))
    return {"max_abs_difference_db": max_difference, "mask_mismatch_pixels": mask_mismatch,
            "valid_pixels": valid, "pixels": width * height}


def bytes_needed(size):
    # Worst case (incompressible Float32): 3 inputs + 4 outputs of N² × 4 bytes.
    return 7 * size * size * 4


def machine_description(smr):
    version = subprocess.run([smr, "--version"], capture_output=True, text=True).stdout.strip()
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(),
            "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "gdal_cachemax": os.environ.get("GDAL_CACHEMAX", "default (5% of RAM)"),
            "gdal": gdal.__version__, "smr": version or "smr",
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def run_size(size, work_dir, smr, gdal_calc, keep, gdal_cachemax):
    folder = work_dir / f"n{size}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    free = shutil.disk_usage(folder).free
    if free < bytes_needed(size):
        raise SystemExit(f"N = {size}: {free / 1e9:.1f} GB free in {folder}, up to "
                         f"{bytes_needed(size) / 1e9:.1f} GB needed; use --work elsewhere")
    print(f"N = {size}: generating the radar scene in {folder}", flush=True)
    generation_s = generate_scene(smr, size, folder)
    sigma0, vwc, angle = (folder / "sigma0_vv_db.tif", folder / "truth_vwc.tif",
                          folder / "incidence_angle.tif")
    input_mb = sum(path.stat().st_size for path in (sigma0, vwc, angle)) / 1e6
    print(f"  scene: {generation_s:.1f} s, inputs {input_mb:.0f} MB on disk", flush=True)

    # Single-threaded GDAL throughout, as shipped (no NUM_THREADS, GDAL_NUM_THREADS unset), and
    # GDAL's default block cache (5% of RAM) unless --gdal-cachemax says otherwise.
    env = dict(os.environ)
    env.pop("GDAL_NUM_THREADS", None)
    if gdal_cachemax is not None:
        env["GDAL_CACHEMAX"] = str(gdal_cachemax)
    measurements = {}
    outputs = {}

    outputs["translate"] = folder / "translate_sigma0.tif"
    command = ["gdal_translate", "-q", "-ot", "Float32"]
    for option in CREATION_OPTIONS:
        command += ["-co", option]
    measurements["gdal_translate"] = timed(
        "gdal_translate", command + [str(sigma0), str(outputs["translate"])],
        folder / "gdal_translate.log", env=env)

    for label, threads in (("smr", 0), ("smr 1 thread", 1)):
        path = folder / f"soil_smr_{threads}.tif"
        request = {
            "SIGMA0": {"path": str(sigma0), "band": 1}, "SIGMA0_UNIT": "db",
            "VWC": {"path": str(vwc), "band": 1}, "ANGLE": {"path": str(angle), "band": 1},
            "A": A, "B": B, "V1": "vwc", "OUTPUT_UNIT": "db", "THREADS": threads,
            "CREATE_OPTIONS": CREATION_OPTIONS, "OUTPUT": str(path),
        }
        measurements[label] = timed(label, [smr, "watercloudinversion"],
                                    folder / f"smr_{threads}.log",
                                    stdin_text=json.dumps(request))
        outputs[label] = path

    for label, expression in (("gdal_calc", GDAL_CALC_EXPRESSION),
                              ("gdal_calc float32", GDAL_CALC_EXPRESSION_FLOAT32)):
        outputs[label] = folder / f"soil_{label.replace(' ', '_')}.tif"
        command = [sys.executable, gdal_calc, "--quiet", "-A", str(sigma0), "-B", str(vwc),
                   "-C", str(angle), f"--outfile={outputs[label]}", f"--calc={expression}",
                   "--type=Float32", f"--NoDataValue={NODATA:g}"]
        for option in CREATION_OPTIONS:
            command += ["--co", option]
        measurements[label] = timed(label, command, folder / f"{label.replace(' ', '_')}.log",
                                    env=env)

    print("  comparing smr with gdal_calc", flush=True)
    agreement = compare(outputs["smr"], outputs["gdal_calc"])
    agreement_1 = compare(outputs["smr 1 thread"], outputs["smr"])
    agreement_float32 = compare(outputs["smr"], outputs["gdal_calc float32"])
    output_mb = {label: path.stat().st_size / 1e6 for label, path in outputs.items()}
    if not keep:
        shutil.rmtree(folder)
    return {"size": size, "scene_generation_s": generation_s, "input_mb": input_mb,
            "output_mb": output_mb, "tools": measurements, "agreement": agreement,
            "threads_agreement": agreement_1, "float32_agreement": agreement_float32}


def format_table(results, machine):
    lines = [
        f"Water cloud inversion (paper 000 eq. 10), {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram_gb']} GiB RAM, GDAL {machine['gdal']}, {machine['smr']}, {machine['date']}",
        "Output Float32 GeoTIFF, TILED=YES COMPRESS=DEFLATE PREDICTOR=3 BIGTIFF=IF_SAFER; "
        f"GDAL_CACHEMAX of gdal_calc / gdal_translate: {machine['gdal_cachemax']}.",
        "",
        f"{'N':>6}  {'tool':<17} {'wall s':>8} {'peak RSS MB':>12} {'CPU %':>6} "
        f"{'wall / gdal_calc':>17} {'RSS / gdal_calc':>16}",
    ]
    for result in results:
        tools = result["tools"]
        calc = tools["gdal_calc"]
        for label in ("smr", "smr 1 thread", "gdal_calc", "gdal_calc float32", "gdal_translate"):
            m = tools[label]
            lines.append(
                f"{result['size']:>6}  {label:<17} {m['wall_s']:>8.2f} {m['peak_rss_mb']:>12.1f} "
                f"{m['cpu_percent'] if m['cpu_percent'] is not None else '':>6} "
                f"{m['wall_s'] / calc['wall_s']:>17.3f} "
                f"{m['peak_rss_mb'] / calc['peak_rss_mb']:>16.3f}")
        agreement = result["agreement"]
        lines.append(
            f"{'':>6}  smr vs gdal_calc: max |Δ| {agreement['max_abs_difference_db']:.2e} dB over "
            f"{agreement['valid_pixels']} valid pixels, {agreement['mask_mismatch_pixels']} "
            f"pixels valid in only one; smr 1 vs all threads max |Δ| "
            f"{result['threads_agreement']['max_abs_difference_db']:.1e}")
        float32 = result["float32_agreement"]
        lines.append(
            f"{'':>6}  smr vs gdal_calc float32: max |Δ| {float32['max_abs_difference_db']:.2e} dB, "
            f"{float32['mask_mismatch_pixels']} pixels valid in only one (float32 rounding)")
        smr_s, calc_s = tools["smr"]["wall_s"], calc["wall_s"]
        calc32_s = tools["gdal_calc float32"]["wall_s"]
        translate_s = tools["gdal_translate"]["wall_s"]
        lines.append(
            f"{'':>6}  smr/gdal_calc wall-time ratio {smr_s / calc_s:.3f} "
            f"(speed-up ×{calc_s / smr_s:.1f}), smr/gdal_calc float32 {smr_s / calc32_s:.3f}; "
            f"smr vs single-threaded gdal_translate of one input ×{smr_s / translate_s:.2f}; "
            f"gdal_calc float32 / gdal_translate ×{calc32_s / translate_s:.2f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8000, 16000],
                        help="scene sizes N (N × N pixels); default 8000 16000")
    parser.add_argument("--work", type=Path, default=RESULTS_DIR / "work",
                        help="folder for the scenes and outputs (default bench/results/work)")
    parser.add_argument("--keep", action="store_true", help="keep the rasters of each size")
    parser.add_argument("--gdal-cachemax", type=int, metavar="MB",
                        help="GDAL_CACHEMAX for gdal_calc and gdal_translate (default: GDAL's, "
                             "5%% of RAM, which is most of their peak memory on large rasters)")
    arguments = parser.parse_args()

    smr = smr_executable()
    gdal_calc = gdal_calc_executable()
    machine = machine_description(smr)
    if arguments.gdal_cachemax is not None:
        machine["gdal_cachemax"] = f"{arguments.gdal_cachemax} MB"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    arguments.work.mkdir(parents=True, exist_ok=True)
    print(f"smr: {smr}\ngdal_calc: {gdal_calc}\nwork folder: {arguments.work}", flush=True)

    results = []
    failures = []
    for size in arguments.sizes:
        result = run_size(size, arguments.work, smr, gdal_calc, arguments.keep,
                          arguments.gdal_cachemax)
        results.append(result)
        agreement = result["agreement"]
        # Pixels on the σ⁰ = σ_veg boundary may fall either side in float32 vs float64 arithmetic.
        allowed_mismatch = max(1, agreement["pixels"] // 1_000_000)
        if agreement["max_abs_difference_db"] >= TOLERANCE_DB:
            failures.append(f"N = {size}: max |Δ| {agreement['max_abs_difference_db']:.2e} dB")
        if agreement["mask_mismatch_pixels"] > allowed_mismatch:
            failures.append(f"N = {size}: {agreement['mask_mismatch_pixels']} pixels valid in "
                            f"only one output")
        print(format_table([result], machine), flush=True)

    table = format_table(results, machine)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text_path = RESULTS_DIR / f"wcm_inversion-{stamp}.txt"
    text_path.write_text(table + "\n", encoding="utf-8")
    (RESULTS_DIR / f"wcm_inversion-{stamp}.json").write_text(
        json.dumps({"machine": machine, "expression": GDAL_CALC_EXPRESSION,
                    "creation_options": CREATION_OPTIONS, "results": results}, indent=2) + "\n",
        encoding="utf-8")
    print("\n" + table)
    print(f"\nwritten to {text_path} (and .json)")
    if failures:
        print("AGREEMENT CHECK FAILED: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
