#!/usr/bin/python3
"""Build the sample graphical model and QGIS project of SMR with PyQGIS.

Writes, next to this file:
  paper000_physical_chain.model3   paper 000's physical chain as a Processing model
  paper000_sample.qgs              a project loading the sample scene from data/ (relative paths)

Both are committed; this script is how they are made, so change it (not the files) and rerun:

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
"""

import argparse
import importlib.util
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
MODEL_FILE = HERE / "paper000_physical_chain.model3"
PROJECT_FILE = HERE / "paper000_sample.qgs"
DATA_DIR = HERE / "data"

MODEL_NAME = "paper000_physical_chain"
MODEL_GROUP = "SMR sample models"

# Water cloud parameters of the sample scene (smr samplescene --help); paper 000 calibrates its own.
DEFAULT_A_VV, DEFAULT_B_VV = 0.12, 0.09
DEFAULT_A_VH, DEFAULT_B_VH = 0.035, 0.14
DEFAULTS_AB = {"VV": (DEFAULT_A_VV, DEFAULT_B_VV), "VH": (DEFAULT_A_VH, DEFAULT_B_VH)}
INDEX_OPTIONS = ["NDVI", "NDMI", "NDWI"]
DEFAULT_INDEX = 1  # NDMI: the index paper 000 found most sensitive to the vegetation water


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
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsCoordinateReferenceSystem,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsGraduatedSymbolRenderer,
    QgsMarkerSymbol,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProject,
    QgsRasterLayer,
    QgsRasterShader,
    QgsReferencedRectangle,
    QgsRendererRange,
    QgsSingleBandGrayRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

# Soil moisture 0-0.5 m³/m³, dry brown to wet blue-green (ColorBrewer BrBG, 5 classes).
SOIL_MOISTURE_COLOURS = [
    (0.0, "#a6611a"), (0.125, "#dfc27d"), (0.25, "#f5f5f5"), (0.375, "#80cdc1"), (0.5, "#018571")]
# Vegetation water content 0-1.5 kg/m², pale to dark green (ColorBrewer Greens).
VWC_COLOURS = [(0.0, "#edf8e9"), (0.5, "#bae4b3"), (1.0, "#31a354"), (1.5, "#006d2c")]


# --- the model ------------------------------------------------------------------------------

def _raster_input(key, description, optional=False):
    return QgsProcessingParameterRasterLayer(key, description, optional=optional)


def _number_input(key, description, default):
    parameter = QgsProcessingParameterNumber(
        key, description, QgsProcessingParameterNumber.Double, default)
    parameter.setMinimum(0.0)
    return parameter


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


def build_model():
    model = QgsProcessingModelAlgorithm(MODEL_NAME, MODEL_GROUP, "smrsamples")

    inputs = [  # (definition, position in the modeler, help)
        (_raster_input("GREEN", "Green reflectance (NDWI)", optional=True), (120, 60),
         "Surface reflectance, 0-1 (Landsat 8 band 3). Needed for NDWI."),
        (_raster_input("RED", "Red reflectance (NDVI)", optional=True), (120, 120),
         "Surface reflectance, 0-1 (Landsat 8 band 4). Needed for NDVI."),
        (_raster_input("NIR", "Near-infrared reflectance"), (120, 180),
         "Surface reflectance, 0-1 (Landsat 8 band 5). Needed for every index."),
        (_raster_input("SWIR1", "Shortwave infrared 1.6 µm reflectance (NDMI)", optional=True),
         (120, 240), "Surface reflectance, 0-1 (Landsat 8 band 6). Needed for NDMI."),
        (QgsProcessingParameterEnum("INDEX", "Vegetation index (index and VWC model)",
                                    INDEX_OPTIONS, defaultValue=DEFAULT_INDEX), (120, 320),
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
    parameter_help = {}
    for definition, (x, y), help_text in inputs:
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(x, y))
        model.addModelParameter(definition, component)
        parameter_help[definition.name()] = help_text

    index = QgsProcessingModelChildAlgorithm("smr:spectralindex")
    index.setChildId("index")
    index.setDescription("Spectral index (paper 000 eq. 4-6)")
    index.setPosition(QPointF(480, 180))
    index.addParameterSources("INDEX", _from_input_or_default("INDEX", DEFAULT_INDEX))
    for band in ("GREEN", "RED", "NIR", "SWIR1"):
        index.addParameterSources(band, _from_input(band))
    index.addParameterSources("SCALE", _static(1.0))
    index.addParameterSources("OFFSET", _static(0.0))
    index.setModelOutputs({"INDEX": _model_output("index", "OUTPUT", "INDEX", "Vegetation index")})
    model.addChildAlgorithm(index)

    vwc = QgsProcessingModelChildAlgorithm("smr:vegetationwatercontent")
    vwc.setChildId("vwc")
    vwc.setDescription("Vegetation water content (paper 000 eq. 7-9)")
    vwc.setPosition(QPointF(480, 330))
    vwc.addParameterSources("INPUT", _from_child("index", "OUTPUT"))
    # MODEL's options start NDVI, NDMI, NDWI like INDEX's, so the same value selects the model.
    vwc.addParameterSources("MODEL", _from_input_or_default("INDEX", DEFAULT_INDEX))
    vwc.addParameterSources("NEGATIVE", _static(0))  # negative VWC -> 0, counted
    vwc.setModelOutputs({"VWC": _model_output(
        "vwc", "OUTPUT", "VWC", "Vegetation water content (kg/m²)")})
    model.addChildAlgorithm(vwc)

    for polarisation, y in (("VV", 480), ("VH", 680)):
        child_id = polarisation.lower()
        inversion = QgsProcessingModelChildAlgorithm("smr:watercloudinversion")
        inversion.setChildId(child_id)
        inversion.setDescription(f"Water cloud inversion {polarisation} (paper 000 eq. 10)")
        inversion.setPosition(QPointF(840, y))
        inversion.addParameterSources("SIGMA0", _from_input(f"SIGMA0_{polarisation}"))
        inversion.addParameterSources("SIGMA0_UNIT", _static(0))  # dB
        inversion.addParameterSources("VWC", _from_child("vwc", "OUTPUT"))
        inversion.addParameterSources("ANGLE", _from_input("ANGLE"))
        a, b = DEFAULTS_AB[polarisation]
        inversion.addParameterSources("A", _from_input_or_default(f"A_{polarisation}", a))
        inversion.addParameterSources("B", _from_input_or_default(f"B_{polarisation}", b))
        inversion.addParameterSources("V1", _static(0))  # V1 = VWC, paper 000
        inversion.addParameterSources("OUTPUT_UNIT", _static(0))  # dB
        inversion.setModelOutputs({
            "SOIL_SIGMA0": _model_output(
                child_id, "OUTPUT", "SOIL_SIGMA0", f"Soil σ⁰ {polarisation} (dB)"),
            "VEGETATION": _model_output(
                child_id, "VEGETATION_OUTPUT", "VEGETATION",
                f"Vegetation contribution {polarisation} (dB)"),
        })
        model.addChildAlgorithm(inversion)

    help_content = {
        "ALG_DESC": (
            "Paper 000 (Chang et al., Sentinel-1 + Landsat 8) physical chain: a vegetation index "
            "(NDVI, NDMI or NDWI, eq. 4-6) gives the vegetation water content VWC (eq. 7-9); the "
            "water cloud model (eq. 1-3, V1 = V2 = VWC) is inverted for VV and VH (eq. 10) to "
            "remove the vegetation from σ⁰. Run it once per index to get the paper's six "
            "polarisation × index combinations. Outputs: the index, VWC, the soil σ⁰ and the "
            "vegetation contribution σ⁰ − σ⁰_soil (dB) for VV and VH. The soil σ⁰ outputs are on "
            "the σ⁰ VV / σ⁰ VH grid; the index and VWC on the grid of the NIR band. Pixels where "
            "σ⁰ ≤ σ⁰_veg are nodata."),
        "ALG_CREATOR": "SMR (sample_projects/build_models.py)",
        "ALG_HELP_CREATOR": "SMR",
        "ALG_VERSION": "1",
    }
    help_content.update(parameter_help)
    model.setHelpContent(help_content)
    return model


def check_model(model):
    """Every child resolves to an smr algorithm and the outputs are the six expected ones."""
    errors = []
    for child_id, child in model.childAlgorithms().items():
        if child.algorithm() is None:
            errors.append(f"{child_id}: algorithm {child.algorithmId()} not found")
    outputs = sorted(d.name() for d in model.destinationParameterDefinitions())
    if len(outputs) != 6:
        errors.append(f"expected 6 model outputs, got {outputs}")
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


def ensure_sample_data(data_dir):
    if (data_dir / "scene.json").is_file():
        return
    print(f"generating the sample scene into {data_dir}")
    subprocess.run([smr_executable(), "samplescene"], check=True, stdout=subprocess.DEVNULL,
                   input=json.dumps({"OUTPUT_DIR": str(data_dir)}), text=True)


def _grey(layer, minimum, maximum):
    provider = layer.dataProvider()
    renderer = QgsSingleBandGrayRenderer(provider, 1)
    enhancement = QgsContrastEnhancement(provider.dataType(1))
    enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
    enhancement.setMinimumValue(minimum)
    enhancement.setMaximumValue(maximum)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)


def _gradient(colours):
    low, high = colours[0][0], colours[-1][0]
    stops = [QgsGradientStop((value - low) / (high - low), QColor(colour))
             for value, colour in colours[1:-1]]
    return QgsGradientColorRamp(QColor(colours[0][1]), QColor(colours[-1][1]), False, stops)


def _pseudocolour(layer, colours, unit):
    ramp = QgsColorRampShader(colours[0][0], colours[-1][0])
    ramp.setColorRampType(QgsColorRampShader.Interpolated)
    ramp.setSourceColorRamp(_gradient(colours))
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(value, QColor(colour), f"{value:g} {unit}")
        for value, colour in colours])
    ramp.setClip(False)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(colours[0][0])
    renderer.setClassificationMax(colours[-1][0])
    layer.setRenderer(renderer)


def _insitu_renderer(layer):
    ranges = []
    for (low, colour), (high, _) in zip(SOIL_MOISTURE_COLOURS, SOIL_MOISTURE_COLOURS[1:]):
        symbol = QgsMarkerSymbol.createSimple({
            "name": "circle", "color": colour, "outline_color": "#000000", "size": "3"})
        ranges.append(QgsRendererRange(low, high, symbol, f"{low:g} – {high:g} m³/m³"))
    # The last class also takes values above 0.5.
    ranges[-1].setUpperValue(1.0)
    layer.setRenderer(QgsGraduatedSymbolRenderer("sm_insitu", ranges))


def build_project(data_dir):
    ensure_sample_data(data_dir)
    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(PROJECT_FILE))
    project.setTitle("SMR sample: paper 000 physical chain (synthetic scene, seed 42)")
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:32632"))
    project.writeEntryBool("Paths", "/Absolute", False)

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

    truth_sm = raster("truth_soil_moisture.tif", "Truth soil moisture (m³/m³)")
    _pseudocolour(truth_sm, SOIL_MOISTURE_COLOURS, "m³/m³")
    truth_vwc = raster("truth_vwc.tif", "Truth vegetation water content (kg/m²)")
    _pseudocolour(truth_vwc, VWC_COLOURS, "kg/m²")

    sigma_vv = raster("sigma0_vv_db.tif", "σ⁰ VV (dB)")
    _grey(sigma_vv, -20.0, -5.0)
    sigma_vh = raster("sigma0_vh_db.tif", "σ⁰ VH (dB)")
    _grey(sigma_vh, -27.0, -12.0)
    angle = raster("incidence_angle.tif", "Incidence angle (degrees)")
    _grey(angle, 30.0, 45.0)

    optical = [raster(f"reflectance_{band}.tif", f"Reflectance {band.upper()}")
               for band in ("blue", "green", "red", "nir", "swir1", "swir2")]
    for layer in optical:
        _grey(layer, 0.0, 0.5)

    for layer in [insitu, truth_sm, truth_vwc, sigma_vv, sigma_vh, angle, *optical]:
        project.addMapLayer(layer, False)

    root.addLayer(insitu)
    truth = root.addGroup("Truth (synthetic scene)")
    truth.addLayer(truth_sm)
    truth.addLayer(truth_vwc).setItemVisibilityChecked(False)
    radar = root.addGroup("Sentinel-1-like radar, 20 m")
    radar.addLayer(sigma_vv)
    radar.addLayer(sigma_vh).setItemVisibilityChecked(False)
    radar.addLayer(angle).setItemVisibilityChecked(False)
    optical_group = root.addGroup("Landsat-like reflectance, 30 m")
    for layer in optical:
        optical_group.addLayer(layer).setItemVisibilityChecked(False)
    optical_group.setExpanded(False)

    extent = sigma_vv.extent()
    project.viewSettings().setDefaultViewExtent(QgsReferencedRectangle(extent, sigma_vv.crs()))
    if not project.write():
        raise SystemExit(f"cannot write {PROJECT_FILE}")
    stable_layer_ids(project, PROJECT_FILE)
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
    project_file.write_text(text, encoding="utf-8")


def check_relative_paths(project_file):
    text = project_file.read_text(encoding="utf-8")
    absolute = str(project_file.parent)
    if absolute in text:
        raise SystemExit(f"{project_file} holds absolute paths ({absolute}); expected ./data/…")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-only", action="store_true", help="write only the .model3 file")
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

    model = build_model()
    outputs = check_model(model)
    if not model.toFile(str(MODEL_FILE)):
        raise SystemExit(f"cannot write {MODEL_FILE}")
    print(f"wrote {MODEL_FILE.relative_to(REPO_ROOT)} (outputs: {', '.join(outputs)})")

    if not arguments.model_only:
        build_project(arguments.data_dir.resolve())
        print(f"wrote {PROJECT_FILE.relative_to(REPO_ROOT)}")

    QgsProject.instance().clear()
    plugin.unload()
    application.exitQgis()


if __name__ == "__main__":
    main()
