#!/usr/bin/python3
"""Build the sample graphical models and QGIS project of SMR with PyQGIS.

Writes, next to this file:
  paper000_physical_chain.model3   paper 000's physical chain as a Processing model
  paper003_predictors.model3       paper 003's predictors: MPDI, NSDSI, NDVI and BTI
  wcm_forward_simulation.model3    the water cloud model forward: σ⁰ from soil σ⁰ and vegetation
  paper000_soil_moisture.model3    paper 000 end to end: the physical chain, a BP network trained
                                   at the in-situ stations, the soil-moisture map and its accuracy
  paper001_reconstruction.model3   paper 001: a sweep of the hidden neurons, then one BP network per
                                   grid cell over its time series and the reconstructed series
  paper000_sample.qgs              a project loading the sample scene from data/ (relative paths),
                                   with the five models embedded (toolbox ▸ Project models)

All are committed; this script is how they are made, so change it (not the files) and rerun:

    scripts/setup.sh                            # builds smr, installs the plugin into build/plugins
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 sample_projects/build_models.py

The project needs the sample scene in sample_projects/data/ (generated, not committed); when it is
missing it is generated with `smr samplescene` first (SMR_EXECUTABLE or build/plugins/smr/bin/smr).

Paper 000 (Chang et al.) removes the vegetation from Sentinel-1 σ⁰ in three steps: a vegetation
index from Landsat 8 (eq. 4-6), the vegetation water content from the index (eq. 7-9) and the
inversion of the water cloud model (eq. 1-3, 10), for VV and VH and for NDVI, NDMI and NDWI: six
combinations. In the model the index is one input that feeds both smr:spectralindex INDEX and
smr:vegetationwatercontent MODEL (both enums start NDVI, NDMI, NDWI in that order), and the
inversion runs once per polarisation: the six combinations are the index input times the two
polarisation outputs.

Paper 000 then samples σ⁰ VV, σ⁰ VH and the two soil σ⁰ at its 100 in-situ points and trains a
BP network on them (§4.1: 7 hidden neurons, 4:1 training:validation, 1000 iterations, goal 1e-4,
repeated training), which maps soil moisture. The soil-moisture model chains the physical chain,
native:rastersampling once per raster, smr:trainmlp with those settings, smr:applymodel over the
four rasters and smr:validationmetrics of the map against a reference raster; besides the files it
returns the in-situ and map metrics as numbers (qgis_process prints them with the results).

Paper 003 (Lv et al.) feeds a neural network with passive-microwave brightness temperatures, the
microwave polarisation difference index MPDI = (Tbv − Tbh)/(Tbv + Tbh) (§2.1), and optical
predictors, among them NSDSI and NDVI: its predictor model computes those three.

The forward model runs the water cloud model the other way round (smr:watercloudforward, in linear
units, where the model is additive) and converts the result to dB (smr:backscatterconversion): the
σ⁰ a given soil backscatter and vegetation would produce, e.g. to check calibrated A, B against
observed σ⁰.

Every model input with a default is passed to its children as coalesce(@INPUT, default): QGIS 3.22
fills in a model input's default only in the dialog, not in qgis_process or processing.run.
Every mandatory child parameter the builders leave unset is written with its algorithm's default
(write_child_defaults), so that the models pass QGIS's own validation (the Modeler's Validate).
"""

import argparse
import importlib.util
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
PROJECT_FILE = HERE / "paper000_sample.qgs"
DATA_DIR = HERE / "data"

MODEL_GROUP = "SMR sample models"

# Water cloud parameters of the sample scene (smr samplescene --help); paper 000 calibrates its own.
DEFAULT_A_VV, DEFAULT_B_VV = 0.12, 0.09
DEFAULT_A_VH, DEFAULT_B_VH = 0.035, 0.14
DEFAULTS_AB = {"VV": (DEFAULT_A_VV, DEFAULT_B_VV), "VH": (DEFAULT_A_VH, DEFAULT_B_VH)}
INDEX_OPTIONS = ["NDVI", "NDMI", "NDWI"]
DEFAULT_INDEX = 1  # NDMI: the index paper 000 found most sensitive to the vegetation water

# smr:spectralindex INDEX options (algorithms/spectralindex.py; the order is public API).
SPECTRAL_INDEX_NDVI = 0
SPECTRAL_INDEX_NSDSI1 = 4  # then NSDSI2 = 5, NSDSI3 = 6
NSDSI_OPTIONS = ["NSDSI1 = (S1 − S2)/S1", "NSDSI2 = (S1 − S2)/S2", "NSDSI3 = (S1 − S2)/(S1 + S2)"]
DEFAULT_NSDSI = 0  # NSDSI1, the provider's default NSDSI

# V1 options of the water cloud algorithms (algorithms/watercloud.py): V1 = VWC or V1 = 1.
V1_OPTIONS = ["VWC (paper 000)", "1 (paper 002)"]
V1_VWC, V1_ONE = 0, 1
DEFAULT_V1 = V1_ONE  # paper 002's convention
UNIT_DB, UNIT_LINEAR = 0, 1  # the unit enums of the water cloud algorithms
LINEAR_TO_DB = 1  # smr:backscatterconversion DIRECTION

# Fixed project metadata, so that rerunning this script leaves the project file unchanged.
PROJECT_AUTHOR = "SMR (sample_projects/build_models.py)"
PROJECT_DATE = "2024-01-01T00:00:00"


def _headless_environment():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A fixed Qt hash seed keeps the attribute order of the written XML stable between runs.
    os.environ["QT_HASH_SEED"] = "0"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not os.path.isdir(runtime):
        runtime = tempfile.mkdtemp(prefix="smr-xdg-")
        os.environ["XDG_RUNTIME_DIR"] = runtime
    os.chmod(runtime, stat.S_IRWXU)
    if "QGIS_CUSTOM_CONFIG_PATH" not in os.environ:
        # Never the user's profile.
        os.environ["QGIS_CUSTOM_CONFIG_PATH"] = tempfile.mkdtemp(prefix="smr-profile-")


_headless_environment()

from qgis.core import (  # noqa: E402 (the environment must be set first)
    QgsApplication,
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsGraduatedSymbolRenderer,
    QgsMarkerSymbol,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterRasterLayer,
    QgsProject,
    QgsRasterLayer,
    QgsReferencedRectangle,
    QgsRendererRange,
    QgsSingleBandGrayRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QDateTime, QPointF, Qt  # noqa: E402

# --- the models -----------------------------------------------------------------------------

def _raster_input(key, description, optional=False):
    return QgsProcessingParameterRasterLayer(key, description, optional=optional)


def _number_input(key, description, default):
    parameter = QgsProcessingParameterNumber(
        key, description, QgsProcessingParameterNumber.Double, default)
    parameter.setMinimum(0.0)
    return parameter


def _enum_input(key, description, options, default):
    return QgsProcessingParameterEnum(key, description, options, defaultValue=default)


def _add_inputs(model, inputs):
    """Add (definition, (x, y), help) model inputs; returns {key: help} for setHelpContent."""
    parameter_help = {}
    for definition, (x, y), help_text in inputs:
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(x, y))
        model.addModelParameter(definition, component)
        parameter_help[definition.name()] = help_text
    return parameter_help


def _child(algorithm_id, child_id, description, position):
    child = QgsProcessingModelChildAlgorithm(algorithm_id)
    child.setChildId(child_id)
    child.setDescription(description)
    child.setPosition(QPointF(*position))
    return child


def _help(description, parameter_help):
    help_content = {
        "ALG_DESC": description,
        "ALG_CREATOR": "SMR (sample_projects/build_models.py)",
        "ALG_HELP_CREATOR": "SMR",
        "ALG_VERSION": "1",
    }
    help_content.update(parameter_help)
    return help_content


def _from_input(name):
    return [QgsProcessingModelChildParameterSource.fromModelParameter(name)]


def _static(value):
    return [QgsProcessingModelChildParameterSource.fromStaticValue(value)]


def _from_input_or_default(name, default):
    """The model input NAME, or DEFAULT when the caller left it out.

    QGIS 3.22 gives a child the *child's* default when a model input linked to it is missing
    (qgis_process and processing.run do not fill in a model input's default; only the dialog
    does). An expression falls back to the model's own default instead.
    """
    return [QgsProcessingModelChildParameterSource.fromExpression(
        f"coalesce(@{name}, {default!r})")]


def _from_child(child_id, output):
    return [QgsProcessingModelChildParameterSource.fromChildOutput(child_id, output)]


def _reflectance_index(child_id, description, position, index, bands):
    """smr:spectralindex of the model inputs BANDS, which are surface reflectance 0-1 already
    (scale 1, offset 0); INDEX is the parameter source of its INDEX option."""
    child = _child("smr:spectralindex", child_id, description, position)
    child.addParameterSources("INDEX", index)
    for band in bands:
        child.addParameterSources(band, _from_input(band))
    child.addParameterSources("SCALE", _static(1.0))
    child.addParameterSources("OFFSET", _static(0.0))
    return child


def _model_output(child_id, child_output, name, description):
    output = QgsProcessingModelOutput(name, description)
    output.setChildId(child_id)
    output.setChildOutputName(child_output)
    # Not forced: outputs that are mandatory in the child (index, VWC, soil σ⁰) stay mandatory;
    # the optional vegetation contributions are skipped by qgis_process calls that give no path
    # for them, and the dialog proposes a temporary file.
    output.setMandatory(False)
    output.setDefaultValue("TEMPORARY_OUTPUT")
    return output


def _physical_chain_inputs():
    """Model inputs of paper 000's physical chain: (definition, position in the modeler, help)."""
    return [
        (_raster_input("GREEN", "Green reflectance (NDWI)", optional=True), (120, 60),
         "Surface reflectance, 0-1 (Landsat 8 band 3). Needed for NDWI."),
        (_raster_input("RED", "Red reflectance (NDVI)", optional=True), (120, 120),
         "Surface reflectance, 0-1 (Landsat 8 band 4). Needed for NDVI."),
        (_raster_input("NIR", "Near-infrared reflectance"), (120, 180),
         "Surface reflectance, 0-1 (Landsat 8 band 5). Needed for every index."),
        (_raster_input("SWIR1", "Shortwave infrared 1.6 µm reflectance (NDMI)", optional=True),
         (120, 240), "Surface reflectance, 0-1 (Landsat 8 band 6). Needed for NDMI."),
        (_enum_input("INDEX", "Vegetation index (index and VWC model)", INDEX_OPTIONS,
                     DEFAULT_INDEX), (120, 320),
         "NDVI (eq. 4, VWC eq. 7), NDMI (eq. 5, VWC eq. 8) or NDWI (eq. 6, VWC eq. 9). The same "
         "choice drives the spectral index and the VWC model."),
        (_raster_input("SIGMA0_VV", "σ⁰ VV (dB)"), (120, 420),
         "Sentinel-1 VV backscatter in dB. The soil σ⁰ and vegetation outputs are on its "
         "grid: the VWC (on the grid of the NIR band) is aligned to it on the fly."),
        (_raster_input("SIGMA0_VH", "σ⁰ VH (dB)"), (120, 480), "Sentinel-1 VH backscatter in dB."),
        (_raster_input("ANGLE", "Incidence angle θ (degrees)"), (120, 540),
         "Local incidence angle in degrees, one raster for both polarisations."),
        (_number_input("A_VV", "Water cloud A, VV", DEFAULT_A_VV), (120, 620),
         "Vegetation scattering parameter A for VV (linear units, m²/kg with V1 = VWC)."),
        (_number_input("B_VV", "Water cloud B, VV (m²/kg)", DEFAULT_B_VV), (120, 680),
         "Vegetation attenuation parameter B for VV."),
        (_number_input("A_VH", "Water cloud A, VH", DEFAULT_A_VH), (120, 740),
         "Vegetation scattering parameter A for VH."),
        (_number_input("B_VH", "Water cloud B, VH (m²/kg)", DEFAULT_B_VH), (120, 800),
         "Vegetation attenuation parameter B for VH."),
    ]


def _add_physical_chain(model, expose_outputs):
    """Children index → vwc → vv, vh (the soil σ⁰ is each inversion's OUTPUT).

    Reads the model inputs of _physical_chain_inputs(). With expose_outputs the index, VWC, soil
    σ⁰ and vegetation contributions become model outputs; without, they stay intermediate.
    """
    index = _reflectance_index("index", "Spectral index (paper 000 eq. 4-6)", (480, 180),
                               _from_input_or_default("INDEX", DEFAULT_INDEX),
                               ("GREEN", "RED", "NIR", "SWIR1"))
    if expose_outputs:
        index.setModelOutputs({"INDEX": _model_output(
            "index", "OUTPUT", "INDEX", "Vegetation index")})
    model.addChildAlgorithm(index)

    vwc = _child("smr:vegetationwatercontent", "vwc",
                 "Vegetation water content (paper 000 eq. 7-9)", (480, 330))
    vwc.addParameterSources("INPUT", _from_child("index", "OUTPUT"))
    # MODEL's options start NDVI, NDMI, NDWI like INDEX's, so the same value selects the model.
    vwc.addParameterSources("MODEL", _from_input_or_default("INDEX", DEFAULT_INDEX))
    vwc.addParameterSources("NEGATIVE", _static(0))  # negative VWC -> 0, counted
    if expose_outputs:
        vwc.setModelOutputs({"VWC": _model_output(
            "vwc", "OUTPUT", "VWC", "Vegetation water content (kg/m²)")})
    model.addChildAlgorithm(vwc)

    for polarisation, y in (("VV", 480), ("VH", 680)):
        child_id = polarisation.lower()
        inversion = _child("smr:watercloudinversion", child_id,
                           f"Water cloud inversion {polarisation} (paper 000 eq. 10)", (840, y))
        inversion.addParameterSources("SIGMA0", _from_input(f"SIGMA0_{polarisation}"))
        inversion.addParameterSources("SIGMA0_UNIT", _static(UNIT_DB))
        inversion.addParameterSources("VWC", _from_child("vwc", "OUTPUT"))
        inversion.addParameterSources("ANGLE", _from_input("ANGLE"))
        a, b = DEFAULTS_AB[polarisation]
        inversion.addParameterSources("A", _from_input_or_default(f"A_{polarisation}", a))
        inversion.addParameterSources("B", _from_input_or_default(f"B_{polarisation}", b))
        inversion.addParameterSources("V1", _static(V1_VWC))  # paper 000
        inversion.addParameterSources("OUTPUT_UNIT", _static(UNIT_DB))
        if expose_outputs:
            inversion.setModelOutputs({
                "SOIL_SIGMA0": _model_output(
                    child_id, "OUTPUT", "SOIL_SIGMA0", f"Soil σ⁰ {polarisation} (dB)"),
                "VEGETATION": _model_output(
                    child_id, "VEGETATION_OUTPUT", "VEGETATION",
                    f"Vegetation contribution {polarisation} (dB)"),
            })
        model.addChildAlgorithm(inversion)


def build_paper000_model():
    model = QgsProcessingModelAlgorithm("paper000_physical_chain", MODEL_GROUP, "smrsamples")
    parameter_help = _add_inputs(model, _physical_chain_inputs())
    _add_physical_chain(model, expose_outputs=True)
    model.setHelpContent(_help(
        (
            "Paper 000 (Chang et al., Sentinel-1 + Landsat 8) physical chain: a vegetation index "
            "(NDVI, NDMI or NDWI, eq. 4-6) gives the vegetation water content VWC (eq. 7-9); the "
            "water cloud model (eq. 1-3, V1 = V2 = VWC) is inverted for VV and VH (eq. 10) to "
            "remove the vegetation from σ⁰. Run it once per index to get the paper's six "
            "polarisation × index combinations. Outputs: the index (unitless), VWC (kg/m²; a "
            "negative VWC is set to 0), the soil σ⁰ and the vegetation contribution "
            "σ⁰ − σ⁰_soil (dB) for VV and VH. The soil σ⁰ outputs are on the σ⁰ VV / σ⁰ VH grid; "
            "the index and VWC on the grid of the NIR band. A pixel that is nodata in an input is "
            "nodata in the outputs; pixels where σ⁰ ≤ σ⁰_veg (the inversion is undefined) are "
            "nodata too."),
        parameter_help))
    return model


# The BP network's inputs, in the network's order: (column prefix of native:rastersampling, name,
# the raster). QGIS 3.22 names a sampled column prefix + band number. smr:applymodel gets the
# rasters in this order too, which is what ties the map's inputs to the network's.
SOIL_MOISTURE_FEATURES = (
    ("sigma0_vv_", "σ⁰ VV", _from_input("SIGMA0_VV")[0]),
    ("sigma0_vh_", "σ⁰ VH", _from_input("SIGMA0_VH")[0]),
    ("soil_vv_", "soil σ⁰ VV", _from_child("vv", "OUTPUT")[0]),
    ("soil_vh_", "soil σ⁰ VH", _from_child("vh", "OUTPUT")[0]),
)
SAMPLED_BAND = 1
DEFAULT_TARGET_FIELD = "sm_insitu"  # the sample scene's in-situ column (insitu.gpkg)
DEFAULT_SEED = 1
# Paper 000 §4.1: 7 hidden neurons, 4:1 training:validation, 1000 iterations, goal 1e-4,
# "repeated" training (kept: the best of RESTARTS initialisations by validation error).
PAPER000_NETWORK = {
    "HIDDEN": "7",
    "HIDDEN_ACTIVATION": 0,  # tansig, as MATLAB's fitnet
    "NORMALISATION": 0,  # mapminmax to [−1, 1]
    "TRAINER": 0,  # Levenberg–Marquardt (MATLAB's trainlm)
    "EPOCHS": 1000,
    "GOAL": 1e-4,
    "MAX_FAIL": 6,  # MATLAB's default; the paper does not say
    "DIVISION": 0,  # random
    "TRAIN_RATIO": 0.8,
    "VALIDATION_RATIO": 0.2,
    "TEST_RATIO": 0.0,
    "RESTARTS": 5,
}
SOIL_MOISTURE_UNIT = "m³/m³"
# Soil moisture beyond this range is not physical for mineral soils (m³/m³): clamped and counted.
SOIL_MOISTURE_CLAMP = (0.0, 0.6)
TRAINING_SUBSETS = (("TRAIN", "training"), ("VALIDATION", "validation"))
TRAINING_METRICS = (("R2", "r²"), ("RMSE", "RMSE (m³/m³)"), ("MAE", "MAE (m³/m³)"),
                    ("N", "samples"))
MAP_COUNTS = (
    ("CLAMPED_PIXELS", f"pixels clamped to {SOIL_MOISTURE_CLAMP[0]:g}-"
                       f"{SOIL_MOISTURE_CLAMP[1]:g} m³/m³"),
    ("OUT_OF_RANGE_PIXELS", "pixels with an input outside its training range"),
    ("NODATA_PIXELS", "pixels with a nodata input"),
    ("INVALID_PIXELS", "pixels where the network gives no finite value"),
    ("VALID_PIXELS", "pixels with an estimate"),
)
ACCURACY_METRICS = (("R", "r"), ("R2", "r²"), ("NSE", "NSE"), ("RMSE", "RMSE (m³/m³)"),
                    ("UBRMSE", "ubRMSE (m³/m³)"), ("MAE", "MAE (m³/m³)"),
                    ("BIAS", "bias, map − reference (m³/m³)"), ("N", "pixels compared"))


SIGMA0_VV_MAP_HELP = (
    "Sentinel-1 VV backscatter in dB. The soil σ⁰ and the soil-moisture map are on its grid: the "
    "VWC (on the grid of the NIR band) and the other rasters are aligned to it on the fly.")


def _number_output(child_id, child_output, description):
    output = QgsProcessingModelOutput(child_output, description)
    output.setChildId(child_id)
    output.setChildOutputName(child_output)
    return output


def build_paper000_soil_moisture_model():
    """Paper 000 end to end: the physical chain, a BP network on in-situ points, the map."""
    model = QgsProcessingModelAlgorithm("paper000_soil_moisture", MODEL_GROUP, "smrsamples")
    seed = QgsProcessingParameterNumber(
        "SEED", "Random seed of the network (division and initial weights)",
        QgsProcessingParameterNumber.Integer, DEFAULT_SEED)
    seed.setMinimum(0)
    chain_inputs = [
        (definition, position, SIGMA0_VV_MAP_HELP if definition.name() == "SIGMA0_VV" else text)
        for definition, position, text in _physical_chain_inputs()]
    parameter_help = _add_inputs(model, chain_inputs + [
        (QgsProcessingParameterFeatureSource(
            "INSITU", "In-situ soil moisture stations (points)", [QgsProcessing.TypeVectorPoint]),
         (120, 880), "Point layer of soil-moisture probes; the network is trained on the radar "
                     "values under them. Paper 000 used 100 samples."),
        # Optional: qgis_process 3.22 refuses to run without a mandatory field parameter even
        # when it has a default; left out, coalesce() below gives the default.
        (QgsProcessingParameterField(
            "TARGET_FIELD", "In-situ soil moisture field (m³/m³)", DEFAULT_TARGET_FIELD,
            "INSITU", QgsProcessingParameterField.Numeric, optional=True), (120, 940),
         "Volumetric soil moisture measured at each station, m³/m³ (default sm_insitu, the "
         "sample scene's column). Stations where it or a sampled raster is empty are skipped."),
        (_raster_input("REFERENCE_SOIL_MOISTURE", "Reference soil moisture to check the map "
                       "against (m³/m³)"), (120, 1000),
         "A soil-moisture raster in m³/m³ the map is compared with pixel by pixel: the sample "
         "scene's truth_soil_moisture.tif, or an independent product. It is aligned to the map's "
         "grid."),
        (seed, (120, 1060), "Seed of the random division into training and validation samples "
                            "and of the initial weights: the same seed gives the same network."),
    ])
    _add_physical_chain(model, expose_outputs=False)

    # Sample the four rasters at the stations, one column each, chained into one table.
    samples = _from_input("INSITU")
    for number, (prefix, name, raster) in enumerate(SOIL_MOISTURE_FEATURES):
        child_id = f"sample_{prefix.rstrip('_')}"
        sampling = _child("native:rastersampling", child_id, f"Sample {name} at the stations",
                          (1200, 300 + 120 * number))
        sampling.addParameterSources("INPUT", samples)
        sampling.addParameterSources("RASTERCOPY", [raster])
        sampling.addParameterSources("COLUMN_PREFIX", _static(prefix))
        model.addChildAlgorithm(sampling)
        samples = _from_child(child_id, "OUTPUT")

    train = _child("smr:trainmlp", "train",
                   "BP network, 7 hidden neurons, 4:1 (paper 000 §4.1)", (1560, 480))
    train.addParameterSources("INPUT_LAYER", samples)
    train.addParameterSources("FEATURE_FIELDS", _static(
        [f"{prefix}{SAMPLED_BAND}" for prefix, _, _ in SOIL_MOISTURE_FEATURES]))
    train.addParameterSources("TARGET_FIELD", _from_input_or_default(
        "TARGET_FIELD", DEFAULT_TARGET_FIELD))
    train.addParameterSources("TARGET_NAME", _static("soil_moisture"))
    train.addParameterSources("TARGET_UNIT", _static(SOIL_MOISTURE_UNIT))
    for key, value in PAPER000_NETWORK.items():
        train.addParameterSources(key, _static(value))
    train.addParameterSources("SEED", _from_input_or_default("SEED", DEFAULT_SEED))
    train_outputs = {
        "MODEL": _model_output("train", "OUTPUT_MODEL", "MODEL", "Trained network (.json)"),
        "REPORT": _model_output("train", "OUTPUT_REPORT", "REPORT", "Training report (.html)"),
    }
    for subset, subset_name in TRAINING_SUBSETS:
        for metric, metric_name in TRAINING_METRICS:
            key = f"{subset}_{metric}"
            train_outputs[key] = _number_output(
                "train", key, f"In-situ {subset_name} {metric_name}")
    train_outputs["SKIPPED_SAMPLES"] = _number_output(
        "train", "SKIPPED_SAMPLES", "Stations skipped (a value missing)")
    train.setModelOutputs(train_outputs)
    model.addChildAlgorithm(train)

    mapping = _child("smr:applymodel", "map", "Soil-moisture map from the network", (1920, 480))
    mapping.addParameterSources("MODEL", _from_child("train", "OUTPUT_MODEL"))
    mapping.addParameterSources("INPUTS", [raster for _, _, raster in SOIL_MOISTURE_FEATURES])
    mapping.addParameterSources("CLAMP_MIN", _static(SOIL_MOISTURE_CLAMP[0]))
    mapping.addParameterSources("CLAMP_MAX", _static(SOIL_MOISTURE_CLAMP[1]))
    map_outputs = {"SOIL_MOISTURE": _model_output(
        "map", "OUTPUT", "SOIL_MOISTURE", "Soil moisture (m³/m³)")}
    for key, description in MAP_COUNTS:
        map_outputs[key] = _number_output("map", key, f"Map: {description}")
    mapping.setModelOutputs(map_outputs)
    model.addChildAlgorithm(mapping)

    accuracy = _child("smr:validationmetrics", "accuracy", "Map against the reference",
                      (2280, 480))
    accuracy.addParameterSources("ESTIMATE", _from_child("map", "OUTPUT"))
    accuracy.addParameterSources("REFERENCE_RASTER", _from_input("REFERENCE_SOIL_MOISTURE"))
    accuracy.addParameterSources("UNIT", _static(SOIL_MOISTURE_UNIT))
    accuracy_outputs = {"REPORT": _model_output(
        "accuracy", "OUTPUT_REPORT", "REPORT", "Map against the reference: report (.html)")}
    for key, description in ACCURACY_METRICS:
        accuracy_outputs[key] = _number_output("accuracy", key, f"Map against the reference: "
                                                                f"{description}")
    accuracy.setModelOutputs(accuracy_outputs)
    model.addChildAlgorithm(accuracy)

    model.setHelpContent(_help(
        (
            "Paper 000 (Chang et al., Sentinel-1 + Landsat 8) from the images to the soil-moisture "
            "map. The physical chain — vegetation index (eq. 4-6) → vegetation water content "
            "(eq. 7-9) → water cloud inversion for VV and VH (eq. 10) — gives the soil σ⁰; σ⁰ VV, "
            "σ⁰ VH, soil σ⁰ VV and soil σ⁰ VH are sampled at the in-situ stations "
            "(native:rastersampling) and a BP network is trained on them as in §4.1: 7 tansig "
            "hidden neurons, Levenberg–Marquardt, a random 4:1 training:validation split, at most "
            "1000 epochs, goal 1e-4, the best of 5 trainings from random weights (smr:trainmlp). "
            "The network is applied to the four rasters (smr:applymodel; estimates outside "
            "0-0.6 m³/m³ are clamped and counted, and pixels whose inputs lie outside the "
            "training range are counted) and the map is compared with a reference soil-moisture "
            "raster (smr:validationmetrics). Outputs: the map (m³/m³, on the σ⁰ VV grid), the "
            "network file, the training report with the in-situ r², RMSE and MAE of paper 000 "
            "Table 2, the report of the map against the reference, and their numbers. The "
            "in-situ metrics are per station (point values carry the speckle); the map metrics "
            "are per pixel. Nodata: a station where the measured or a sampled value is missing "
            "(e.g. a pixel where σ⁰ ≤ σ⁰_veg, which the inversion leaves nodata) is skipped and "
            "counted; a pixel where any of the four rasters is nodata is nodata in the map and "
            "counted (NODATA_PIXELS), and pixels without a reference value are left out of the "
            "map's metrics."),
        parameter_help))
    return model


def build_paper003_model():
    """Paper 003: MPDI from brightness temperatures, NSDSI and NDVI from reflectance."""
    model = QgsProcessingModelAlgorithm("paper003_predictors", MODEL_GROUP, "smrsamples")
    parameter_help = _add_inputs(model, [
        (_raster_input("TBV", "Brightness temperature, V polarisation (K)"), (120, 60),
         "Passive-microwave brightness temperature Tbv in kelvin (e.g. AMSR2 10.7 GHz, or SMAP "
         "1.41 GHz). MPDI is on its grid."),
        (_raster_input("TBH", "Brightness temperature, H polarisation (K)"), (120, 120),
         "Brightness temperature Tbh in kelvin, same sensor and frequency as TBV."),
        (_raster_input("SWIR1", "Shortwave infrared 1.6 µm reflectance (S1)"), (120, 220),
         "Surface reflectance, 0-1 (MODIS band 6, Landsat 8 band 6). NSDSI is on its grid."),
        (_raster_input("SWIR2", "Shortwave infrared 2.1 µm reflectance (S2)"), (120, 280),
         "Surface reflectance, 0-1 (MODIS band 7, Landsat 8 band 7)."),
        (_enum_input("NSDSI", "NSDSI definition", NSDSI_OPTIONS, DEFAULT_NSDSI), (120, 340),
         "The literature has three NSDSI; paper 003 does not print its equation. NSDSI1 = "
         "(S1 − S2)/S1 is the default, NSDSI2 = (S1 − S2)/S2 and NSDSI3 = (S1 − S2)/(S1 + S2) "
         "the alternatives."),
        (_raster_input("RED", "Red reflectance"), (120, 420),
         "Surface reflectance, 0-1 (MODIS band 1, Landsat 8 band 4). NDVI is on its grid."),
        (_raster_input("NIR", "Near-infrared reflectance"), (120, 480),
         "Surface reflectance, 0-1 (MODIS band 2, Landsat 8 band 5)."),
        (_raster_input("SIGMA40_SERIES", "Backscatter time stack σ⁰ (dB, band = day)"),
         (120, 560),
         "A σ⁰ time series in dB, one band per acquisition (paper 003: ASCAT σ⁰ at 40°, 25 km). "
         "BTI is computed per pixel over all its bands, on its grid."),
    ])

    mpdi = _child("smr:mpdi", "mpdi", "MPDI (paper 003 §2.1)", (480, 90))
    mpdi.addParameterSources("TBV", _from_input("TBV"))
    mpdi.addParameterSources("TBH", _from_input("TBH"))
    mpdi.setModelOutputs({"MPDI": _model_output(
        "mpdi", "OUTPUT", "MPDI", "MPDI (passive-microwave grid)")})
    model.addChildAlgorithm(mpdi)

    # The model's NSDSI options are spectralindex's NSDSI1-3 options, from index 4 on.
    nsdsi = _reflectance_index(
        "nsdsi", "NSDSI (paper 003)", (480, 250),
        [QgsProcessingModelChildParameterSource.fromExpression(
            f"to_int(coalesce(@NSDSI, {DEFAULT_NSDSI})) + {SPECTRAL_INDEX_NSDSI1}")],
        ("SWIR1", "SWIR2"))
    nsdsi.setModelOutputs({"NSDSI": _model_output("nsdsi", "OUTPUT", "NSDSI", "NSDSI")})
    model.addChildAlgorithm(nsdsi)

    ndvi = _reflectance_index("ndvi", "NDVI (paper 003; paper 000 eq. 4)", (480, 450),
                              _static(SPECTRAL_INDEX_NDVI), ("RED", "NIR"))
    ndvi.setModelOutputs({"NDVI": _model_output("ndvi", "OUTPUT", "NDVI", "NDVI")})
    model.addChildAlgorithm(ndvi)

    bti = _child("smr:backscattertimeindex", "bti", "Backscatter time index (paper 003)", (480, 560))
    bti.addParameterSources("INPUT", _from_input("SIGMA40_SERIES"))
    bti.addParameterSources("INPUT_UNITS", _static(UNIT_DB))
    bti.addParameterSources("SCALE", _static(UNIT_DB))
    bti.setModelOutputs({"BTI": _model_output("bti", "OUTPUT", "BTI", "BTI (band = day, 0-1)")})
    model.addChildAlgorithm(bti)

    model.setHelpContent(_help(
        "Paper 003 (Lv et al.) retrieves soil moisture with a neural network from passive and "
        "active microwave data and auxiliary predictors. This model prepares three of its "
        "predictors: the microwave polarisation difference index MPDI = (Tbv − Tbh)/(Tbv + Tbh) "
        "from the V and H brightness temperatures (§2.1; it removes most of the surface "
        "temperature from the signal and responds to soil moisture and roughness), NSDSI from the "
        "two shortwave-infrared bands (NSDSI1 = (S1 − S2)/S1 by default; NSDSI2, NSDSI3 on "
        "request) and NDVI = (NIR − RED)/(NIR + RED). Each output stays on the grid of its "
        "inputs: MPDI on the coarse passive-microwave grid of TBV, NSDSI on the grid of SWIR1, "
        "NDVI on the grid of RED. Paper 003 then aggregates the optical predictors to the "
        "microwave grid by averaging before training (not part of this model). Reflectance "
        "bands must be surface reflectance (0-1), brightness temperatures in kelvin; the three "
        "indices are unitless. A pixel that is nodata in an input is nodata in the output, and a "
        "zero denominator gives nodata. The fourth predictor is the backscatter time index "
        "BTI = (σ⁰ − min σ⁰)/(max σ⁰ − min σ⁰) of each pixel's σ⁰ series (paper 003, from ASCAT "
        "σ⁰ at 40° in dB), a stack like its input with values 0-1; a missing acquisition stays "
        "nodata, and a pixel with fewer than two values or a flat series is nodata in every band "
        "and counted.",
        parameter_help))
    return model


def build_forward_model():
    """The water cloud model forward, in linear units, then converted to dB."""
    model = QgsProcessingModelAlgorithm("wcm_forward_simulation", MODEL_GROUP, "smrsamples")
    parameter_help = _add_inputs(model, [
        (_raster_input("SIGMA_SOIL", "Soil backscatter σ⁰_soil (dB)"), (120, 60),
         "Bare-soil backscatter in dB, e.g. σ⁰_soil = C + D·SM (paper 002 eq. 3) or a soil σ⁰ "
         "retrieved by smr:watercloudinversion. The outputs are on its grid; VWC and the angle are "
         "aligned to it on the fly."),
        (_raster_input("VWC", "Vegetation water content VWC (kg/m²)"), (120, 120),
         "Vegetation water content in kg/m², e.g. from smr:vegetationwatercontent."),
        (_raster_input("ANGLE", "Incidence angle θ (degrees)"), (120, 180),
         "Local incidence angle in degrees."),
        (_number_input("A", "Water cloud A (vegetation scattering)", DEFAULT_A_VV), (120, 260),
         "Vegetation scattering parameter A (linear units): m²/kg with V1 = VWC, unitless with "
         "V1 = 1. Default: the sample scene's VV value."),
        (_number_input("B", "Water cloud B (vegetation attenuation, m²/kg)", DEFAULT_B_VV),
         (120, 320), "Vegetation attenuation parameter B in m²/kg. Default: the sample scene's VV "
                     "value."),
        (_enum_input("V1", "V1 in σ⁰_veg = A·V1·cosθ·(1 − γ²)", V1_OPTIONS, DEFAULT_V1),
         (120, 380), "1 (paper 002, eq. 2; the default) or VWC (paper 000, eq. 2). The "
                     "attenuation γ² uses VWC in both."),
    ])

    forward = _child("smr:watercloudforward", "forward",
                     "Water cloud model, forward (linear units)", (480, 180))
    forward.addParameterSources("SIGMA_SOIL", _from_input("SIGMA_SOIL"))
    forward.addParameterSources("SIGMA_SOIL_UNIT", _static(UNIT_DB))
    forward.addParameterSources("VWC", _from_input("VWC"))
    forward.addParameterSources("ANGLE", _from_input("ANGLE"))
    forward.addParameterSources("A", _from_input_or_default("A", DEFAULT_A_VV))
    forward.addParameterSources("B", _from_input_or_default("B", DEFAULT_B_VV))
    forward.addParameterSources("V1", _from_input_or_default("V1", DEFAULT_V1))
    forward.addParameterSources("OUTPUT_UNIT", _static(UNIT_LINEAR))
    forward.setModelOutputs({"SIGMA0_LINEAR": _model_output(
        "forward", "OUTPUT", "SIGMA0_LINEAR", "Total σ⁰ (linear)")})
    model.addChildAlgorithm(forward)

    to_db = _child("smr:backscatterconversion", "db", "σ⁰ linear → dB", (840, 180))
    to_db.addParameterSources("INPUT", _from_child("forward", "OUTPUT"))
    to_db.addParameterSources("DIRECTION", _static(LINEAR_TO_DB))
    to_db.setModelOutputs({"SIGMA0_DB": _model_output(
        "db", "OUTPUT", "SIGMA0_DB", "Total σ⁰ (dB)")})
    model.addChildAlgorithm(to_db)

    model.setHelpContent(_help(
        "Simulates the total backscatter σ⁰ that a given soil backscatter and vegetation would "
        "produce, with the water cloud model σ⁰ = A·V1·cosθ·(1 − γ²) + γ²·σ⁰_soil, "
        "γ² = exp(−2·B·VWC/cosθ) (paper 000 eq. 1-3, paper 002 eq. 2, 4, 5). Use it to check "
        "calibrated A and B against observed σ⁰ (simulate from the soil σ⁰ and VWC of the same "
        "pixels and compare), to see how much σ⁰ a vegetation change would add or mask, or to "
        "make synthetic σ⁰. V1 = 1 (paper 002) by default, V1 = VWC (paper 000) on request. The "
        "model is additive in linear power, so it runs in linear units and the conversion to dB "
        "comes last. Units: soil σ⁰ in dB, VWC in kg/m², θ in degrees, B in m²/kg, A in m²/kg "
        "with V1 = VWC and unitless with V1 = 1. Outputs: total σ⁰ in linear units and in dB, on "
        "the grid of the soil σ⁰; a pixel that is nodata in an input is nodata in both.",
        parameter_help))
    return model


# Paper 001 sample model: a short sweep of the hidden neurons on a sample of cells, then the
# reconstruction with the best of them (paper 001 kept 12 after sweeping 2-12).
PAPER001_HIDDEN_VALUES = "4 8 12"
PAPER001_SWEEP_CELLS = 40
PAPER001_SWEEP_REPEATS = 2
DEFAULT_PRECIPITATION_THRESHOLD = 8.75  # mm between the overpasses (paper 001 §3.2.4)
RECONSTRUCTION_COUNTS = (
    ("CELLS", "grid cells"), ("TRAINED_CELLS", "cells with a network"),
    ("SKIPPED_CELLS", "cells with fewer than MIN_PAIRS pairs"),
    ("FAILED_CELLS", "cells whose training failed"),
    ("EXCLUDED_BY_PRECIPITATION", "pairs left out by the precipitation threshold"),
    ("EXTRAPOLATED_STEPS", "steps with an input outside the cell's training range"),
    ("MASKED_STEPS", "extrapolated steps set to nodata"),
    ("CLAMPED_STEPS", "steps set to a clamp bound"))
# The sample SMAP spans 0.01-0.6 m³/m³; a reconstruction beyond 0-0.6 is no soil moisture.
PAPER001_CLAMP_MIN, PAPER001_CLAMP_MAX = 0.0, 0.6
RECONSTRUCTION_MEANS = (("TRAIN", "training"), ("TEST", "test"), ("ALL", "overall"))


def build_paper001_model():
    """Paper 001: sensitivity of the per-cell networks, then the reconstruction and its maps."""
    model = QgsProcessingModelAlgorithm("paper001_reconstruction", MODEL_GROUP, "smrsamples")
    threshold = _number_input("PRECIPITATION_THRESHOLD", "Precipitation threshold (mm)",
                              DEFAULT_PRECIPITATION_THRESHOLD)
    seed = QgsProcessingParameterNumber(
        "SEED", "Random seed (cells sampled, divisions, initial weights)",
        QgsProcessingParameterNumber.Integer, DEFAULT_SEED)
    seed.setMinimum(0)
    parameter_help = _add_inputs(model, [
        (QgsProcessingParameterMultipleLayers(
            "PREDICTORS", "Predictor stacks (band = day)", QgsProcessing.TypeRaster), (120, 60),
         "One multi-band raster per predictor, band = time step, in a fixed order (paper 001: "
         "AMSR2 brightness temperatures F1-F5 in K, GLDAS soil moisture in m³/m³, land-surface and "
         "soil temperature in K, MODIS LAI). The sample scene's tb_06_9ghz … modis_lai."),
        (_raster_input("TARGET", "Target stack: the product to reconstruct (m³/m³)"), (120, 140),
         "The soil-moisture product the networks learn (paper 001: SMAP), one band per day with "
         "gaps where it has no value; its grid is the outputs' grid. The sample scene's smap_sm."),
        (_raster_input("PRECIPITATION", "Precipitation between the overpasses (mm)"), (120, 220),
         "Precipitation accumulated between the predictors' and the target's overpass, one band "
         "per day (paper 001: GLDAS, 01:00-07:00). The sample scene's precipitation."),
        (threshold, (120, 280),
         "Days with at least this much precipitation between the overpasses are left out of "
         "training (paper 001 §3.2.4 chose 8.75 mm, heavy rain scaled to 7 h)."),
        (QgsProcessingParameterString("TRAINING_PERIOD", "Training period", "all", optional=True),
         (120, 340),
         "Bands whose pairs train the networks: 'all', 'first:last' band numbers, or "
         "'YYYY-MM-DD:YYYY-MM-DD' when the bands carry dates. The whole series is reconstructed."),
        (seed, (120, 400), "The same seed gives the same sweep and the same networks."),
    ])
    stack_inputs = (("PREDICTORS", "PREDICTORS"), ("TARGET", "TARGET"),
                    ("PRECIPITATION", "PRECIPITATION"))

    sweep = _child("smr:sensitivityanalysis", "sweep",
                   f"Hidden neurons {PAPER001_HIDDEN_VALUES} on {PAPER001_SWEEP_CELLS} cells "
                   "(paper 001 §3.2.2)", (480, 120))
    for key, name in stack_inputs:
        sweep.addParameterSources(key, _from_input(name))
    sweep.addParameterSources("PRECIPITATION_THRESHOLD", _from_input_or_default(
        "PRECIPITATION_THRESHOLD", DEFAULT_PRECIPITATION_THRESHOLD))
    sweep.addParameterSources("TRAINING_PERIOD", _from_input_or_default("TRAINING_PERIOD", "all"))
    sweep.addParameterSources("AXIS", _static(0))  # hidden neurons
    sweep.addParameterSources("VALUES", _static(PAPER001_HIDDEN_VALUES))
    sweep.addParameterSources("CELLS", _static(PAPER001_SWEEP_CELLS))
    sweep.addParameterSources("REPEATS", _static(PAPER001_SWEEP_REPEATS))
    sweep.addParameterSources("SEED", _from_input_or_default("SEED", DEFAULT_SEED))
    sweep.setModelOutputs({
        "SWEEP_CSV": _model_output("sweep", "OUTPUT_CSV", "SWEEP_CSV",
                                   "Sensitivity to the hidden neurons (.csv)"),
        "SWEEP_REPORT": _model_output("sweep", "OUTPUT_HTML", "SWEEP_REPORT",
                                      "Sensitivity report with paper 001's Fig. 3 (.html)"),
        "BEST_SETTING": _number_output("sweep", "BEST_SETTING", "Hidden neurons chosen"),
    })
    model.addChildAlgorithm(sweep)

    reconstruct = _child("smr:pixelwisereconstruction", "reconstruct",
                         "One network per cell, the chosen neurons (paper 001 §3.1)", (840, 120))
    for key, name in stack_inputs:
        reconstruct.addParameterSources(key, _from_input(name))
    reconstruct.addParameterSources("PRECIPITATION_THRESHOLD", _from_input_or_default(
        "PRECIPITATION_THRESHOLD", DEFAULT_PRECIPITATION_THRESHOLD))
    reconstruct.addParameterSources("TRAINING_PERIOD", _from_input_or_default(
        "TRAINING_PERIOD", "all"))
    reconstruct.addParameterSources("HIDDEN", _from_child("sweep", "BEST_SETTING"))
    reconstruct.addParameterSources("SEED", _from_input_or_default("SEED", DEFAULT_SEED))
    # Days whose inputs lie outside what a cell's network saw (frozen ground, where SMAP has no
    # value to learn from) are extrapolations: masked rather than mapped.
    reconstruct.addParameterSources("MASK_EXTRAPOLATED", _static(True))
    reconstruct.addParameterSources("CLAMP_MIN", _static(PAPER001_CLAMP_MIN))
    reconstruct.addParameterSources("CLAMP_MAX", _static(PAPER001_CLAMP_MAX))
    outputs = {
        "RECONSTRUCTED": _model_output("reconstruct", "OUTPUT", "RECONSTRUCTED",
                                       "Reconstructed soil moisture, band = day (m³/m³)"),
        "METRIC_MAPS": _model_output("reconstruct", "METRICS", "METRIC_MAPS",
                                     "Per-cell r, RMSE, ubRMSE, bias (16 bands, paper 001 Fig. 4)"),
        "SAMPLE_COUNTS": _model_output("reconstruct", "COUNTS", "SAMPLE_COUNTS",
                                       "Per-cell pair and sample counts (5 bands)"),
    }
    for key, description in RECONSTRUCTION_COUNTS:
        outputs[key] = _number_output("reconstruct", key, f"Reconstruction: {description}")
    for subset, subset_name in RECONSTRUCTION_MEANS:
        for metric, metric_name in (("R", "r"), ("RMSE", "RMSE (m³/m³)")):
            key = f"MEAN_{subset}_{metric}"
            outputs[key] = _number_output("reconstruct", key,
                                          f"Mean over cells of the {subset_name} {metric_name}")
    reconstruct.setModelOutputs(outputs)
    model.addChildAlgorithm(reconstruct)

    model.setHelpContent(_help(
        "Paper 001 (Wang & Xu) reconstructs a long soil-moisture series by training one BP "
        "network per grid cell on the days where the predictors (AMSR2 brightness temperatures, "
        "GLDAS soil moisture and temperatures, MODIS LAI) and the target product (SMAP) are all "
        "valid, leaving out days with heavy rain between the overpasses (§3.2.4), and applying "
        "each network to every day with predictors. It chose its settings by sensitivity "
        "analysis (§3.2, Fig. 3). This model sweeps the number of hidden neurons "
        f"({PAPER001_HIDDEN_VALUES}) with {PAPER001_SWEEP_REPEATS} trainings per setting on "
        f"{PAPER001_SWEEP_CELLS} random cells (smr:sensitivityanalysis: a CSV and a report with "
        "the four panels of Fig. 3, mean r and RMSE of the training, validation, test and overall "
        "samples), then runs smr:pixelwisereconstruction with the best of them (lowest mean "
        "overall RMSE) and paper 001's other settings: 80/10/10 division, inputs and target "
        "scaled to 0-1, Levenberg–Marquardt with early stopping, cells with fewer than 50 pairs "
        "skipped. Outputs: the reconstructed stack (m³/m³, band = day, dated like the target), "
        "the per-cell metric maps of Fig. 4 (r, RMSE, ubRMSE and bias = mean(estimate − target) "
        "for each subset, 16 bands), the per-cell counts (valid pairs, pairs excluded by "
        "precipitation, training, validation and test samples) and the mean metrics. Nodata: a "
        "day with a predictor missing is nodata in the reconstruction; a skipped cell is nodata "
        "in every output and counted. Days with an input outside the range a cell's network "
        "was trained on (frozen ground, where SMAP has no value) are extrapolations and are set "
        "to nodata (MASKED_STEPS); the rest is kept within "
        f"{PAPER001_CLAMP_MIN:g}-{PAPER001_CLAMP_MAX:g} m³/m³ (CLAMPED_STEPS).",
        parameter_help))
    return model


# Validation of the workflow's products (issue 5): paper 001's temporal and spatial metrics, paper
# 003's triple collocation of a [retrieval, satellite, reanalysis] triplet, and the CDF matching paper
# 001 names as the standard rescaling, checked by the same metrics once matched.
TEMPORAL_NUMBERS = (
    ("MEAN_TEMPORAL_R", "mean per-pixel temporal r"), ("MEAN_RMSE", "mean per-pixel RMSE"),
    ("MEAN_UBRMSE", "mean per-pixel ubRMSE"), ("MEAN_BIAS", "mean per-pixel bias (estimate − reference)"),
    ("MEAN_SPATIAL_R", "mean spatial r over the steps with p < 0.05"),
    ("SIGNIFICANT_STEPS", "steps whose spatial r has p < 0.05"),
    ("COMPARED_PIXELS", "pixels with enough pairs"))
COLLOCATION_NUMBERS = (
    ("COLLOCATED_PIXELS", "pixels collocated"),
    ("FEW_OBSERVATIONS_PIXELS", "pixels with too few triplets"),
    ("LOW_CORRELATION_PIXELS", "pixels masked: a pairwise r below the minimum"),
    ("NEGATIVE_VARIANCE_PIXELS", "pixels masked: a negative error variance"))
COLLOCATION_MEDIANS = (("ERROR_STD", "error std (own units)"),
                       ("ERROR_STD_SCALED", "error std scaled to X"),
                       ("R_TRUTH", "correlation with the truth"))
DEFAULT_MIN_CORRELATION = 0.2  # paper 003 §3.3


def build_validation_model():
    """Temporal metrics of a product against a reference, triple collocation, CDF matching."""
    model = QgsProcessingModelAlgorithm("validation_products", MODEL_GROUP, "smrsamples")
    parameter_help = _add_inputs(model, [
        (_raster_input("ESTIMATE_STACK", "Product to validate (stack, band = day)"), (120, 60),
         "The soil-moisture product judged, one band per day (the workflow: paper 001's "
         "reconstruction, m³/m³); its grid is the metric maps' grid."),
        (_raster_input("REFERENCE_STACK", "Reference (stack, same days)"), (120, 120),
         "What the product is compared with, the same days in the same bands (in situ gridded, "
         "another product, or the sample scene's truth)."),
        (QgsProcessingParameterString("PERIOD", "Period compared", "all", optional=True),
         (120, 180),
         "'all', 'first:last' band numbers, or 'YYYY-MM-DD:YYYY-MM-DD' for dated bands: e.g. "
         "the days a network was not trained on."),
        (_raster_input("PRODUCT_X", "Triple collocation X (e.g. the retrieval)"), (120, 280),
         "The first of three products of the same variable with independent errors (paper 003: "
         "the NN retrieval); error standard deviations are also given in its units."),
        (_raster_input("PRODUCT_Y", "Triple collocation Y (e.g. a satellite product)"), (120, 340),
         "The second product (paper 003: FY3C), in any unit: triple collocation and CDF matching "
         "rescale it. The model also CDF-matches it onto X."),
        (_raster_input("PRODUCT_Z", "Triple collocation Z (e.g. a reanalysis)"), (120, 400),
         "The third product (paper 003: GEOS-5)."),
        (_number_input("MIN_CORRELATION", "Mask pixels where a pairwise r is below",
                       DEFAULT_MIN_CORRELATION), (120, 460),
         "Paper 003 §3.3 masks pixels where any two of the three products correlate below 0.2."),
        (QgsProcessingParameterString("FIT_PERIOD", "Period the CDF mapping is fitted on", "all",
                                      optional=True), (120, 520),
         "Bands of Y and X whose common values fit the mapping; it is applied to every band of Y."),
    ])

    metrics = _child("smr:temporalmetrics", "metrics",
                     "Temporal and spatial metrics (paper 001 eq. 1-3, paper 003 §2.2.2)", (480, 90))
    metrics.addParameterSources("ESTIMATE", _from_input("ESTIMATE_STACK"))
    metrics.addParameterSources("REFERENCE_STACK", _from_input("REFERENCE_STACK"))
    metrics.addParameterSources("PERIOD", _from_input_or_default("PERIOD", "all"))
    metrics.addParameterSources("UNIT", _static(SOIL_MOISTURE_UNIT))
    outputs = {
        "METRIC_MAPS": _model_output("metrics", "OUTPUT", "METRIC_MAPS",
                                     "Per-pixel r, p-value, RMSE, ubRMSE, bias, MAE, N (7 bands)"),
        "SPATIAL_CSV": _model_output("metrics", "SPATIAL_OUTPUT", "SPATIAL_CSV",
                                     "Spatial metrics of every day (.csv)"),
        "METRICS_REPORT": _model_output("metrics", "OUTPUT_REPORT", "METRICS_REPORT",
                                        "Temporal and spatial metrics report (.html)"),
    }
    for key, description in TEMPORAL_NUMBERS:
        outputs[key] = _number_output("metrics", key, f"Product: {description}")
    metrics.setModelOutputs(outputs)
    model.addChildAlgorithm(metrics)

    collocation = _child("smr:triplecollocation", "collocation",
                         "Triple collocation (paper 003 §2.2.1, §3.3)", (480, 340))
    for key in ("X", "Y", "Z"):
        collocation.addParameterSources(key, _from_input(f"PRODUCT_{key}"))
    collocation.addParameterSources("SCALE_TO", _static(0))
    collocation.addParameterSources("MIN_CORRELATION", _from_input_or_default(
        "MIN_CORRELATION", DEFAULT_MIN_CORRELATION))
    outputs = {
        "COLLOCATION_MAPS": _model_output(
            "collocation", "OUTPUT", "COLLOCATION_MAPS",
            "Error variance, error std, scaled error std, SNR, r with the truth, scaling (19 bands)"),
        "COLLOCATION_REPORT": _model_output("collocation", "OUTPUT_REPORT", "COLLOCATION_REPORT",
                                            "Triple collocation report with paper 003 Fig. 8 (.html)"),
    }
    for key, description in COLLOCATION_NUMBERS:
        outputs[key] = _number_output("collocation", key, f"Triple collocation: {description}")
    for key, description in COLLOCATION_MEDIANS:
        for dataset in ("X", "Y", "Z"):
            name = f"MEDIAN_{key}_{dataset}"
            outputs[name] = _number_output("collocation", name,
                                           f"Triple collocation: median {description} of {dataset}")
    collocation.setModelOutputs(outputs)
    model.addChildAlgorithm(collocation)

    matching = _child("smr:cdfmatching", "matching", "CDF matching of Y onto X (paper 001)",
                      (480, 520))
    matching.addParameterSources("SOURCE", _from_input("PRODUCT_Y"))
    matching.addParameterSources("REFERENCE_STACK", _from_input("PRODUCT_X"))
    matching.addParameterSources("FIT_PERIOD", _from_input_or_default("FIT_PERIOD", "all"))
    matching.setModelOutputs({
        "MATCHED_Y": _model_output("matching", "OUTPUT", "MATCHED_Y",
                                   "Y rescaled onto X's distribution (band = day, X's units)"),
        "MAPPING": _model_output("matching", "MAPPING_OUTPUT", "MAPPING",
                                 "The fitted per-pixel mapping, to apply to other periods (.tif)"),
        "MATCHED_PIXELS": _number_output("matching", "MATCHED_PIXELS", "CDF matching: pixels rescaled"),
    })
    model.addChildAlgorithm(matching)

    matched_metrics = _child("smr:temporalmetrics", "matched_metrics",
                             "Matched Y against X: the bias is gone, r is kept", (840, 520))
    matched_metrics.addParameterSources("ESTIMATE", _from_child("matching", "OUTPUT"))
    matched_metrics.addParameterSources("REFERENCE_STACK", _from_input("PRODUCT_X"))
    matched_metrics.addParameterSources("UNIT", _static(SOIL_MOISTURE_UNIT))
    outputs = {"MATCHED_REPORT": _model_output(
        "matched_metrics", "OUTPUT_REPORT", "MATCHED_REPORT",
        "Metrics of CDF-matched Y against X (.html)")}
    for key in ("MEAN_TEMPORAL_R", "MEAN_BIAS", "MEAN_UBRMSE"):
        outputs[key] = _number_output("matched_metrics", key, f"Matched Y vs X: {key.lower()}")
    matched_metrics.setModelOutputs(outputs)
    model.addChildAlgorithm(matched_metrics)

    model.setHelpContent(_help(
        "Validation of soil-moisture products as papers 001 and 003 do it. (1) smr:temporalmetrics "
        "compares a product with a reference day by day: per pixel over time the Pearson r (with "
        "its p-value), RMSE, ubRMSE, bias = mean(estimate − reference) and MAE, written as a "
        "7-band map (paper 001 eq. 1-3, Fig. 4), and per day across the pixels the spatial r, "
        "averaged over the days where it is significant (p < 0.05, paper 003 §2.2.2). (2) "
        "smr:triplecollocation estimates, without the truth, each of three products' error "
        "variance and standard deviation (in its own units and scaled to X), signal-to-noise "
        "ratio and correlation with the truth (extended triple collocation, paper 003 §2.2.1), "
        "masking pixels where two products correlate below MIN_CORRELATION, where a variance "
        "comes out negative or where there are too few days with all three; the report has "
        "paper 003's Fig. 8 box plots. (3) smr:cdfmatching rescales Y onto X's distribution per "
        "pixel by piecewise-linear percentile matching fitted on FIT_PERIOD, and the matched Y is "
        "compared with X again. Nodata: a day missing in either stack is left out of that pixel's "
        "pairs (NaN and infinite values too); pixels with too few pairs are nodata in the maps "
        "and counted. Soil moisture in m³/m³ unless a product says otherwise (the satellite-like "
        "sample product is in % saturation).",
        parameter_help))
    return model


# Validation against in-situ probes (issue 5): a satellite series and a station series at their own
# times, paired by time, compared, then the satellite rescaled onto the station by CDF matching
# (paper 001) and compared again. The paired and rescaled tables keep smr:timematching's fields.
PAIR_METRICS = (("R", "r"), ("RMSE", "RMSE"), ("UBRMSE", "ubRMSE"), ("BIAS", "bias"), ("N", "pairs"))


def _field_input(key, description, parent, numeric):
    field_type = (QgsProcessingParameterField.Numeric if numeric
                  else QgsProcessingParameterField.Any)
    return QgsProcessingParameterField(key, description, parentLayerParameterName=parent,
                                       type=field_type)


def build_insitu_validation_model():
    """A satellite series against a station: time matching, metrics, CDF matching, metrics."""
    model = QgsProcessingModelAlgorithm("insitu_validation", MODEL_GROUP, "smrsamples")
    window = _number_input("WINDOW_HOURS", "Largest time difference of a pair (hours)", 1.0)
    parameter_help = _add_inputs(model, [
        (QgsProcessingParameterFeatureSource("SATELLITE", "Satellite series (table or layer)",
                                             [QgsProcessing.TypeVector]), (120, 60),
         "One row per overpass: a time and a soil-moisture value (e.g. ASCAT surface soil "
         "moisture in % saturation). Its times are the ones kept."),
        (_field_input("SATELLITE_TIME_FIELD", "Satellite time field", "SATELLITE", False),
         (120, 120), "Date/time field, or ISO-8601 text such as 2017-01-02 07:06:24.336; "
                     "times without a zone are UTC."),
        (_field_input("SATELLITE_VALUE_FIELD", "Satellite value field", "SATELLITE", True),
         (120, 180), "The satellite soil moisture, any unit."),
        (QgsProcessingParameterFeatureSource("INSITU", "In-situ series (table or layer)",
                                             [QgsProcessing.TypeVector]), (120, 260),
         "One row per probe reading (e.g. hourly ISMN soil moisture in m³/m³); filter it on its "
         "quality flags first if it has them."),
        (_field_input("INSITU_TIME_FIELD", "In-situ time field", "INSITU", False), (120, 320),
         "Date/time field, or ISO-8601 text."),
        (_field_input("INSITU_VALUE_FIELD", "In-situ value field", "INSITU", True), (120, 380),
         "The probe's soil moisture (m³/m³): the reference."),
        (window, (120, 440), "Each overpass is paired with the nearest reading at most this far "
                             "away in time (pytesmo's temporal matching); others stay unpaired."),
    ])

    match = _child("smr:timematching", "match", "Nearest reading within the window", (480, 120))
    for key, name in (("REFERENCE_LAYER", "SATELLITE"), ("REFERENCE_TIME_FIELD", "SATELLITE_TIME_FIELD"),
                      ("REFERENCE_VALUE_FIELD", "SATELLITE_VALUE_FIELD"), ("OTHER_LAYER", "INSITU"),
                      ("OTHER_TIME_FIELD", "INSITU_TIME_FIELD"),
                      ("OTHER_VALUE_FIELD", "INSITU_VALUE_FIELD")):
        match.addParameterSources(key, _from_input(name))
    match.addParameterSources("WINDOW_HOURS", _from_input_or_default("WINDOW_HOURS", 1.0))
    match.addParameterSources("UNIQUE", _static(False))
    outputs = {"PAIRS": _model_output("match", "OUTPUT", "PAIRS",
                                      "Matched pairs: reference_value = satellite, other_value = "
                                      "in situ")}
    for key in ("MATCHED", "UNMATCHED", "SKIPPED"):
        outputs[key] = _number_output("match", key, f"Time matching: {key.lower()}")
    match.setModelOutputs(outputs)
    model.addChildAlgorithm(match)

    def compare(child_id, description, position, layer_source, estimate_field, unit, report_name):
        child = _child("smr:validationmetrics", child_id, description, position)
        child.addParameterSources("INPUT_LAYER", layer_source)
        child.addParameterSources("ESTIMATE_FIELD", _static(estimate_field))
        child.addParameterSources("REFERENCE_FIELD", _static("other_value"))
        child.addParameterSources("UNIT", _static(unit))
        outputs = {report_name: _model_output(child_id, "OUTPUT_REPORT", report_name,
                                              f"{description} (.html)")}
        for key, name in PAIR_METRICS:
            outputs[key] = _number_output(child_id, key, f"{description}: {name}")
        child.setModelOutputs(outputs)
        model.addChildAlgorithm(child)

    compare("raw", "Satellite (own units) against in situ", (840, 60),
            _from_child("match", "OUTPUT"), "reference_value", "", "RAW_REPORT")

    rescale = _child("smr:cdfmatching", "rescale", "CDF matching onto the in-situ distribution",
                     (840, 240))
    rescale.addParameterSources("INPUT_LAYER", _from_child("match", "OUTPUT"))
    rescale.addParameterSources("SOURCE_FIELD", _static("reference_value"))
    rescale.addParameterSources("REFERENCE_FIELD", _static("other_value"))
    rescale.setModelOutputs({
        "RESCALED_PAIRS": _model_output("rescale", "OUTPUT_TABLE", "RESCALED_PAIRS",
                                        "Pairs with the satellite rescaled (reference_value_matched)"),
        "MAPPING": _model_output("rescale", "MAPPING_OUTPUT", "MAPPING",
                                 "The fitted mapping, to rescale other periods (.json)"),
    })
    model.addChildAlgorithm(rescale)

    compare("rescaled", "Rescaled satellite against in situ", (1200, 240),
            _from_child("rescale", "OUTPUT_TABLE"), "reference_value_matched", SOIL_MOISTURE_UNIT,
            "RESCALED_REPORT")

    model.setHelpContent(_help(
        "Validation of a satellite soil-moisture series against an in-situ probe, the steps a "
        "pytesmo user runs, inside QGIS. smr:timematching pairs each satellite overpass with the "
        "nearest probe reading within WINDOW_HOURS (rows with a missing time or value are skipped "
        "and counted). smr:validationmetrics compares the pairs as they are (r is meaningful "
        "across units, RMSE and bias are not when the satellite is in % saturation). "
        "smr:cdfmatching then rescales the satellite values onto the probe's distribution by "
        "piecewise-linear matching of 21 percentiles (paper 001 names CDF matching as the "
        "standard rescaling; the mapping is saved as JSON to apply to other periods), and the "
        "rescaled pairs are compared again: RMSE, ubRMSE and bias = mean(satellite − in situ) in "
        "m³/m³. Nodata: NULL or NaN values never form a pair.",
        parameter_help))
    return model


# (builder, file name, number of model outputs that are files or layers, not numbers)
MODELS = (
    (build_paper000_model, "paper000_physical_chain.model3", 6),
    (build_paper003_model, "paper003_predictors.model3", 4),
    (build_forward_model, "wcm_forward_simulation.model3", 2),
    (build_paper000_soil_moisture_model, "paper000_soil_moisture.model3", 4),
    (build_paper001_model, "paper001_reconstruction.model3", 5),
    (build_validation_model, "validation_products.model3", 8),
    (build_insitu_validation_model, "insitu_validation.model3", 5),
)


def write_child_defaults(model):
    """Write the algorithm's default for every mandatory parameter a child leaves unset.

    QGIS's model validation (the Modeler's Validate, QgsProcessingModelAlgorithm.validate()) calls
    a child invalid when a mandatory parameter has no source, even one with a default (REFERENCE,
    RESAMPLING, THREADS, …), and the Modeler draws the step red. The child would run with the same
    default either way, so writing it changes no result; it also keeps the models valid when an
    algorithm gains a parameter, with no list to maintain here. Sources the builders set are kept.
    A mandatory parameter without a default is left unset, so validation still reports it.
    """
    for child in model.childAlgorithms().values():
        algorithm = child.algorithm()
        if algorithm is None:
            continue  # check_model reports it
        sources = child.parameterSources()
        added = False
        for definition in algorithm.parameterDefinitions():
            if (definition.isDestination()
                    or definition.flags() & (QgsProcessingParameterDefinition.FlagOptional
                                             | QgsProcessingParameterDefinition.FlagHidden)
                    or definition.name() in sources
                    or definition.defaultValue() is None):
                continue
            child.addParameterSources(definition.name(), _static(definition.defaultValue()))
            added = True
        if added:
            # childAlgorithms() returns copies: store the completed child back into the model.
            model.setChildAlgorithm(child)


def check_model(model, expected_outputs):
    """Every child, parameter and model output resolves; the model has the expected file outputs;
    QGIS's validation passes.

    QGIS saves a child parameter or model output that its algorithm lacks without complaint; the
    first shows up as a value silently not passed, the second as a missing result, only when the
    model runs: check the names here.
    """
    errors = []
    for child_id, child in model.childAlgorithms().items():
        algorithm = child.algorithm()
        if algorithm is None:
            errors.append(f"{child_id}: algorithm {child.algorithmId()} not found")
            continue
        for key in child.parameterSources():
            if algorithm.parameterDefinition(key) is None:
                errors.append(f"{child_id}: {child.algorithmId()} has no parameter {key}")
        for name, output in child.modelOutputs().items():
            if algorithm.outputDefinition(output.childOutputName()) is None:
                errors.append(f"{child_id}:{name}: {child.algorithmId()} has no output "
                              f"{output.childOutputName()}")
    # The Modeler's own check (Model ▸ Validate Model): a model that fails it opens with red steps.
    valid, issues = model.validate()
    if not valid:
        errors.extend(f"{model.name()}: QGIS validation: {re.sub(r'<[^>]+>', '', issue)}"
                      for issue in issues)
    outputs = sorted(d.name() for d in model.destinationParameterDefinitions())
    if len(outputs) != expected_outputs:
        errors.append(f"{model.name()}: expected {expected_outputs} model outputs, got {outputs}")
    if errors:
        raise SystemExit("model check failed: " + "; ".join(errors))
    return outputs


# --- the sample data and the project ----------------------------------------------------------

def smr_executable():
    configured = os.environ.get("SMR_EXECUTABLE")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT / "build" / "plugins" / "smr" / "bin" / "smr")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("smr executable not found: run scripts/setup.sh or set SMR_EXECUTABLE")


# In-situ stations of the sample scene: paper 000 trained its network on 100 samples
# (scripts/run-sample-workflow generates the scene with the same number).
SAMPLE_SCENE_POINTS = 100

# Files of the sample scene the project loads (a scene from an older smr lacks some: regenerate).
PROJECT_DATA_FILES = (
    "insitu.gpkg", "truth_soil_moisture.tif", "truth_vwc.tif", "truth_sigma_soil_vv_db.tif",
    "truth_sigma_soil_vh_db.tif", "sigma0_vv_db.tif", "sigma0_vh_db.tif", "incidence_angle.tif",
    "brightness_temperature_v.tif", "brightness_temperature_h.tif",
    *(f"reflectance_{band}.tif" for band in ("blue", "green", "red", "nir", "swir1", "swir2")))


def ensure_sample_data(data_dir):
    if all((data_dir / name).is_file() for name in ("scene.json", *PROJECT_DATA_FILES)):
        return
    print(f"generating the sample scene into {data_dir}")
    request = {"OUTPUT_DIR": str(data_dir), "POINTS": SAMPLE_SCENE_POINTS}
    subprocess.run([smr_executable(), "samplescene"], check=True, stdout=subprocess.DEVNULL,
                   input=json.dumps(request), text=True)


def _grey(layer, minimum, maximum):
    provider = layer.dataProvider()
    renderer = QgsSingleBandGrayRenderer(provider, 1)
    enhancement = QgsContrastEnhancement(provider.dataType(1))
    enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    enhancement.setMinimumValue(minimum)
    enhancement.setMaximumValue(maximum)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)


def _insitu_renderer(layer):
    """The stations in the colours of the soil-moisture rasters (the plugin's one ramp), by class."""
    from smr.algorithms.styles import (
        DRY_TO_WET_COLOURS, SOIL_MOISTURE_MAXIMUM, SOIL_MOISTURE_MINIMUM, SOIL_MOISTURE_UNIT)

    steps = len(DRY_TO_WET_COLOURS) - 1
    width = (SOIL_MOISTURE_MAXIMUM - SOIL_MOISTURE_MINIMUM) / steps
    # Class i takes the ramp's stop i, the colour rasters show at its lower bound.
    bounds = [SOIL_MOISTURE_MINIMUM + index * width for index in range(steps + 1)]
    classes = [(low, colour, high) for low, colour, high
               in zip(bounds, DRY_TO_WET_COLOURS[:-1], bounds[1:])]
    ranges = []
    for low, colour, high in classes:
        symbol = QgsMarkerSymbol.createSimple({
            "name": "circle", "color": colour, "outline_color": "#000000", "size": "3"})
        ranges.append(QgsRendererRange(low, high, symbol,
                                       f"{low:.3g} – {high:.3g} {SOIL_MOISTURE_UNIT}"))
    # The last class also takes values above 0.5.
    ranges[-1].setUpperValue(1.0)
    layer.setRenderer(QgsGraduatedSymbolRenderer("sm_insitu", ranges))


def build_project(data_dir, models):
    ensure_sample_data(data_dir)
    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(PROJECT_FILE))
    project.setTitle("SMR sample scene (synthetic, seed 42): paper 000 physical chain and "
                     "soil-moisture map, paper 003 predictors, water cloud forward simulation")
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:32632"))
    project.writeEntryBool("Paths", "/Absolute", False)
    metadata = project.metadata()
    metadata.setAuthor(PROJECT_AUTHOR)
    metadata.setCreationDateTime(QDateTime.fromString(PROJECT_DATE, Qt.ISODate))
    project.setMetadata(metadata)
    # The models are embedded too: opening the project lists them in the Processing toolbox
    # under "Project models" (QGIS's project provider writes them into <projectModels>).
    project_models = QgsApplication.processingRegistry().providerById("project")
    if project_models is None:
        raise SystemExit("the Processing provider of project models is missing")
    for model in models:
        project_models.add_model(model)

    def raster(file_name, name):
        layer = QgsRasterLayer(str(data_dir / file_name), name, "gdal")
        if not layer.isValid():
            raise SystemExit(f"cannot load {data_dir / file_name}")
        return layer

    root = project.layerTreeRoot()

    insitu = QgsVectorLayer(f"{data_dir / 'insitu.gpkg'}|layername=insitu",
                            "In-situ soil moisture (m³/m³)", "ogr")
    if not insitu.isValid():
        raise SystemExit(f"cannot load {data_dir / 'insitu.gpkg'}")
    _insitu_renderer(insitu)

    # The styles the algorithms give their outputs, so truth and retrievals look alike.
    from smr.algorithms.styles import style_layer

    truth_sm = raster("truth_soil_moisture.tif", "Truth soil moisture (m³/m³)")
    style_layer(truth_sm, "soil_moisture")
    truth_vwc = raster("truth_vwc.tif", "Truth vegetation water content (kg/m²)")
    style_layer(truth_vwc, "vwc")
    truth_soil_vv = raster("truth_sigma_soil_vv_db.tif", "Truth soil σ⁰ VV (dB, C + D·SM)")
    _grey(truth_soil_vv, -20.0, -5.0)
    truth_soil_vh = raster("truth_sigma_soil_vh_db.tif", "Truth soil σ⁰ VH (dB, C + D·SM)")
    _grey(truth_soil_vh, -27.0, -12.0)

    sigma_vv = raster("sigma0_vv_db.tif", "σ⁰ VV (dB)")
    _grey(sigma_vv, -20.0, -5.0)
    sigma_vh = raster("sigma0_vh_db.tif", "σ⁰ VH (dB)")
    _grey(sigma_vh, -27.0, -12.0)
    angle = raster("incidence_angle.tif", "Incidence angle (degrees)")
    _grey(angle, 30.0, 45.0)

    tb_v = raster("brightness_temperature_v.tif", "Brightness temperature V (K)")
    _grey(tb_v, 150.0, 290.0)
    tb_h = raster("brightness_temperature_h.tif", "Brightness temperature H (K)")
    _grey(tb_h, 150.0, 290.0)

    optical = [raster(f"reflectance_{band}.tif", f"Reflectance {band.upper()}")
               for band in ("blue", "green", "red", "nir", "swir1", "swir2")]
    for layer in optical:
        _grey(layer, 0.0, 0.5)

    truth_layers = [truth_sm, truth_vwc, truth_soil_vv, truth_soil_vh]
    for layer in [insitu, *truth_layers, sigma_vv, sigma_vh, angle, tb_v, tb_h, *optical]:
        project.addMapLayer(layer, False)

    root.addLayer(insitu)
    truth = root.addGroup("Truth (synthetic scene)")
    truth.addLayer(truth_sm)
    for layer in truth_layers[1:]:
        truth.addLayer(layer).setItemVisibilityChecked(False)
    radar = root.addGroup("Sentinel-1-like radar, 20 m")
    radar.addLayer(sigma_vv)
    radar.addLayer(sigma_vh).setItemVisibilityChecked(False)
    radar.addLayer(angle).setItemVisibilityChecked(False)
    passive = root.addGroup("Passive microwave (AMSR2-like, 55°), 600 m")
    passive.addLayer(tb_v).setItemVisibilityChecked(False)
    passive.addLayer(tb_h).setItemVisibilityChecked(False)
    optical_group = root.addGroup("Landsat-like reflectance, 30 m")
    for layer in optical:
        optical_group.addLayer(layer).setItemVisibilityChecked(False)
    optical_group.setExpanded(False)

    extent = sigma_vv.extent()
    project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(extent, sigma_vv.crs()))
    if not project.write():
        raise SystemExit(f"cannot write {PROJECT_FILE}")
    stable_layer_ids(project, PROJECT_FILE)
    stable_save_attributes(PROJECT_FILE)
    check_relative_paths(PROJECT_FILE)
    # QGIS keeps the previous file as "<name>~" when it overwrites a project: not wanted here.
    Path(f"{PROJECT_FILE}~").unlink(missing_ok=True)


def stable_layer_ids(project, project_file):
    """Replace QGIS's random layer ids (name + UUID) by ids from the file names.

    QGIS 3.22 has no QgsMapLayer.setId; the ids only need to be unique within the project, and
    stable ones keep the committed file from changing each time this script runs.
    """
    text = project_file.read_text(encoding="utf-8")
    for layer_id, layer in project.mapLayers().items():
        stem = Path(layer.source().split("|")[0]).stem
        text = text.replace(layer_id, f"smr_sample_{stem}")
    text = text.replace(project.mainAnnotationLayer().id(), "smr_sample_annotations")
    project_file.write_text(text, encoding="utf-8")


def stable_save_attributes(project_file):
    """QGIS stamps who saved the project and when; stamp this script and a fixed date instead."""
    text = project_file.read_text(encoding="utf-8")
    head, separator, rest = text.partition("\n<qgis ")
    tag, tag_end, body = rest.partition(">")
    for attribute, value in (("saveUser", "smr"), ("saveUserFull", PROJECT_AUTHOR),
                             ("saveDateTime", PROJECT_DATE)):
        tag = re.sub(rf'\b{attribute}="[^"]*"', f'{attribute}="{value}"', tag)
    project_file.write_text(head + separator + tag + tag_end + body, encoding="utf-8")


def check_relative_paths(project_file):
    text = project_file.read_text(encoding="utf-8")
    absolute = str(project_file.parent)
    if absolute in text:
        raise SystemExit(f"{project_file} holds absolute paths ({absolute}); expected ./data/…")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-only", action="store_true",
                        help="write only the .model3 files, not the project")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="the sample scene the project loads (default sample_projects/data)")
    arguments = parser.parse_args()

    application = QgsApplication([], False)
    application.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    from processing.core.Processing import Processing

    Processing.initialize()
    # The plugin from this repository, imported as `smr` as QGIS does with the installed folder.
    spec = importlib.util.spec_from_file_location(
        "smr", REPO_ROOT / "__init__.py", submodule_search_locations=[str(REPO_ROOT)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["smr"] = package
    spec.loader.exec_module(package)
    plugin = package.classFactory(None)
    plugin.initProcessing()

    models = []
    for builder, file_name, expected_outputs in MODELS:
        model = builder()
        write_child_defaults(model)
        outputs = check_model(model, expected_outputs)
        model_file = HERE / file_name
        if not model.toFile(str(model_file)):
            raise SystemExit(f"cannot write {model_file}")
        print(f"wrote {model_file.relative_to(REPO_ROOT)} (outputs: {', '.join(outputs)})")
        models.append(model)

    if not arguments.model_only:
        build_project(arguments.data_dir.resolve(), models)
        print(f"wrote {PROJECT_FILE.relative_to(REPO_ROOT)} (with the models embedded)")

    QgsProject.instance().clear()
    plugin.unload()
    application.exitQgis()


if __name__ == "__main__":
    main()
