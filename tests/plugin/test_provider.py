"""The plugin shell: metadata, provider, algorithm ids, parameters and help (no executable)."""

import configparser

import pytest
from qgis.core import QgsApplication, QgsProcessingParameterDefinition

from conftest import REPO_ROOT
from raster_helpers import algorithm

RASTER_ALGORITHM_IDS = (
    "smr:spectralindex",
    "smr:vegetationwatercontent",
    "smr:backscatterconversion",
    "smr:watercloudforward",
    "smr:watercloudinversion",
    "smr:mpdi",
    "smr:applymodel",
)
# Training and validation write a model file or a report, not rasters.
LEARNING_ALGORITHM_IDS = ("smr:trainmlp", "smr:validationmetrics")
# Time stacks in, time stacks out: their own counts instead of the pixel counts, no REFERENCE.
STACK_ALGORITHM_IDS = ("smr:backscattertimeindex", "smr:pixelwisereconstruction")
# A sweep of network settings: a CSV and a report.
SWEEP_ALGORITHM_IDS = ("smr:sensitivityanalysis",)
# Comparing and matching products (stacks or tables): counts and, for two, a report.
VALIDATION_ALGORITHM_IDS = ("smr:temporalmetrics", "smr:triplecollocation", "smr:cdfmatching",
                            "smr:timematching", "smr:samplestacks")
# Calibration of a model against in-situ data: numbers, a parameter file and a report.
CALIBRATION_ALGORITHM_IDS = ("smr:calibratewatercloud",)
ALGORITHM_IDS = (RASTER_ALGORITHM_IDS + LEARNING_ALGORITHM_IDS + STACK_ALGORITHM_IDS
                 + SWEEP_ALGORITHM_IDS + VALIDATION_ALGORITHM_IDS + CALIBRATION_ALGORITHM_IDS)


def test_metadata_declares_a_processing_provider():
    metadata = configparser.ConfigParser()
    metadata.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    general = metadata["general"]
    assert general["hasProcessingProvider"] == "yes"  # qgis_process ignores the provider otherwise
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["version"] == "0.1.0"
    assert general["category"] == "Analysis"
    for key in ("name", "description", "about", "author", "email"):
        assert general[key].strip()


def test_provider_is_registered_with_every_algorithm(qgis_app):
    provider = QgsApplication.processingRegistry().providerById("smr")
    assert provider.name() == "Soil moisture retrieval"
    assert not provider.icon().isNull()
    assert sorted(alg.id() for alg in provider.algorithms()) == sorted(ALGORITHM_IDS)


def test_plugin_unload_removes_the_provider_and_init_gui_restores_it(qgis_app):
    registry = QgsApplication.processingRegistry()
    qgis_app.unload()
    assert registry.providerById("smr") is None
    qgis_app.initGui()
    assert registry.providerById("smr") is not None
    qgis_app.initGui()  # QGIS calls initProcessing and initGui: registering twice must be harmless
    assert len([p for p in registry.providers() if p.id() == "smr"]) == 1


@pytest.mark.parametrize("algorithm_id", LEARNING_ALGORITHM_IDS)
def test_learning_algorithms_have_help_icon_threads_and_a_report(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    help_text = created.shortHelpString()
    assert "References:" in help_text and "bias" in help_text.lower()
    assert created.group() and not created.icon().isNull()
    assert created.parameterDefinition("THREADS").flags() & QgsProcessingParameterDefinition.FlagAdvanced
    outputs = {output.name() for output in created.outputDefinitions()}
    assert {"OUTPUT_REPORT", "RMSE" if algorithm_id == "smr:validationmetrics" else "TEST_RMSE"} <= outputs


@pytest.mark.parametrize("algorithm_id", STACK_ALGORITHM_IDS)
def test_stack_algorithms_have_help_icon_and_the_engine_parameters(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    help_text = created.shortHelpString()
    assert "References:" in help_text and "−9999" in help_text and "band = time step" in help_text
    assert created.group() and not created.icon().isNull()
    for key in ("THREADS", "CREATE_OPTIONS"):
        assert created.parameterDefinition(key).flags() & QgsProcessingParameterDefinition.FlagAdvanced
    outputs = {output.name() for output in created.outputDefinitions()}
    assert "OUTPUT" in outputs and "NODATA_PIXELS" not in outputs


def test_sensitivity_analysis_has_help_icon_threads_a_csv_and_a_report(qgis_app):
    created = algorithm("smr:sensitivityanalysis")
    help_text = created.shortHelpString()
    assert "Wang and Xu" in help_text and "bias" in help_text
    assert created.group() and not created.icon().isNull()
    assert created.parameterDefinition("THREADS").flags() & QgsProcessingParameterDefinition.FlagAdvanced
    outputs = {output.name() for output in created.outputDefinitions()}
    assert {"OUTPUT_CSV", "OUTPUT_HTML", "BEST_SETTING", "BEST_INDEX"} <= outputs


@pytest.mark.parametrize("algorithm_id", RASTER_ALGORITHM_IDS)
def test_every_raster_algorithm_has_help_icon_and_the_common_parameters(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    help_text = created.shortHelpString()
    assert "−9999" in help_text and "INVALID_PIXELS" in help_text
    assert created.group() and not created.icon().isNull()
    for key in ("RESAMPLING", "THREADS", "CREATE_OPTIONS"):
        definition = created.parameterDefinition(key)
        assert definition is not None, key
        assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced
    assert created.parameterDefinition("RESAMPLING").options() == [
        "nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode"]
    assert created.parameterDefinition("RESAMPLING").defaultValue() == 1
    outputs = {output.name() for output in created.outputDefinitions()}
    assert {"OUTPUT", "NODATA_PIXELS", "INVALID_PIXELS", "VALID_PIXELS"} <= outputs


def test_raster_inputs_come_with_band_and_advanced_nodata(qgis_app):
    created = algorithm("smr:spectralindex")
    for key in ("BLUE", "GREEN", "RED", "NIR", "SWIR1", "SWIR2"):
        assert created.parameterDefinition(key).type() == "raster"
        band = created.parameterDefinition(f"{key}_BAND")
        assert band.type() == "band" and band.parentLayerParameterName() == key
        assert band.defaultValue() == 1
        nodata = created.parameterDefinition(f"{key}_NODATA")
        assert nodata.flags() & QgsProcessingParameterDefinition.FlagOptional
        assert nodata.flags() & QgsProcessingParameterDefinition.FlagAdvanced


def test_enum_orders_are_the_public_ones(qgis_app):
    spectral_index = algorithm("smr:spectralindex")  # owns its parameter definitions
    index_options = spectral_index.parameterDefinition("INDEX").options()
    assert [option.split()[0] for option in index_options] == [
        "NDVI", "NDMI", "NDWI", "EVI", "NSDSI1", "NSDSI2", "NSDSI3"]
    vegetation_water_content = algorithm("smr:vegetationwatercontent")
    model_options = vegetation_water_content.parameterDefinition("MODEL").options()
    # A model passes one enum value to both INDEX and MODEL.
    assert [option.split(":")[0] for option in model_options[:3]] == ["NDVI", "NDMI", "NDWI"]
    assert model_options[3].startswith("User polynomial")


def test_spectral_index_help_states_the_three_nsdsi_definitions(qgis_app):
    help_text = algorithm("smr:spectralindex").shortHelpString()
    for definition in ("NSDSI1 = (S1 − S2)/S1", "NSDSI2 = (S1 − S2)/S2",
                       "NSDSI3 = (S1 − S2)/(S1 + S2)", "2.75e-5", "−0.2", "1e-4"):
        assert definition in help_text


def test_optional_inversion_outputs_are_off_by_default(qgis_app):
    created = algorithm("smr:watercloudinversion")
    for key in ("VEGETATION_OUTPUT", "ATTENUATION_OUTPUT"):
        definition = created.parameterDefinition(key)
        assert definition.flags() & QgsProcessingParameterDefinition.FlagOptional
        assert not definition.createByDefault()
