"""smr:watercloudinversion — soil backscatter from total backscatter (water cloud inversion), and
optionally soil moisture from it (Yu et al. eq. 6), in the same per-pixel computation."""

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterNumber,
)

from .styles import OutputStyle
from .watercloud import WATER_CLOUD_HELP, WaterCloudAlgorithm

# The wettest plausible volumetric soil moisture (m³/m³) when SM_MAX is left empty: above the
# porosity of nearly every mineral soil (about 0.35–0.55), so a value beyond it is a retrieval
# artefact rather than a wet soil; organic soils and peat hold more (raise it up to 1 for them).
SM_MAX_DEFAULT = 0.6


class WaterCloudInversion(WaterCloudAlgorithm):
    NAME = "watercloudinversion"
    DISPLAY_NAME = "Water cloud model inversion (soil backscatter)"
    COMMAND = "watercloudinversion"
    OUTPUT_NAME = "σ⁰ soil"

    SIGMA0 = "SIGMA0"
    SIGMA0_UNIT = "SIGMA0_UNIT"
    VEGETATION_OUTPUT = "VEGETATION_OUTPUT"
    ATTENUATION_OUTPUT = "ATTENUATION_OUTPUT"
    SOIL_MOISTURE_OUTPUT = "SOIL_MOISTURE_OUTPUT"
    C = "C"
    D = "D"
    SM_MAX = "SM_MAX"
    CLAMP = "CLAMP"
    SM_BELOW_PIXELS = "SM_BELOW_PIXELS"
    SM_ABOVE_PIXELS = "SM_ABOVE_PIXELS"
    CLAMPED_PIXELS = "CLAMPED_PIXELS"

    HELP = """
Removes the vegetation's part from measured radar backscatter σ⁰, leaving the backscatter of the soil beneath, with the water cloud model. The soil backscatter is what follows soil moisture: use it as an input of a soil-moisture network (Train neural network) or regression, as Chang et al. do with Sentinel-1 VV and VH.

Inputs: 'Measured backscatter σ⁰' in dB or linear ('Unit of σ⁰'); 'Vegetation water content VWC' in kg/m² (e.g. from Vegetation water content); the incidence angle θ in degrees, as a raster or, when no raster is given, the constant 'Incidence angle θ when no raster is given' (ANGLE_CONSTANT, default 40°). The soil backscatter σ⁰_soil is written in the 'Output unit'. Where σ⁰ ≤ σ⁰_veg the soil term would be zero or negative: those pixels become nodata and are counted in INVALID_PIXELS (never clamped). Optional outputs, written only when asked for: the vegetation contribution in dB, σ⁰[dB] − σ⁰_soil[dB], as Chang et al. map it (VEGETATION_OUTPUT), and the two-way attenuation γ², unitless, 0–1 (ATTENUATION_OUTPUT).
""" + WATER_CLOUD_HELP + """
Soil moisture (optional, 'Soil moisture (m³/m³, Yu et al. eq. 6)', SOIL_MOISTURE_OUTPUT): with the soil model calibrated for your site, σ⁰_soil[dB] = C + D·SM (Yu et al., eq. 3), the same soil backscatter is turned into volumetric soil moisture in m³/m³, as Yu et al. map it with the water cloud model alone. Give C, the soil backscatter at SM = 0 (in dB), and D, the soil backscatter slope (in dB per m³/m³, not 0; positive in practice, since σ⁰ rises as the soil gets wetter): both are needed for this output and unused without it. Pixels where σ⁰ ≤ σ⁰_veg have no soil moisture either (nodata, INVALID_PIXELS). A linear model can give values no soil has: soil moisture below 0 is counted in SM_BELOW_PIXELS, above the wettest plausible soil moisture (SM_MAX, default 0.6 m³/m³, above the porosity of nearly every mineral soil; raise it, up to 1, for organic soils) in SM_ABOVE_PIXELS. They are written as computed, so the counts show how far the calibration holds, unless 'Set soil moisture outside 0…SM_MAX to the bound' (CLAMP) is ticked: then they are set to 0 or SM_MAX and also counted in CLAMPED_PIXELS. The soil moisture map opens with the soil-moisture colour ramp.

Inversion (Chang et al., eq. 10): σ⁰_soil = (σ⁰ − σ⁰_veg)/γ².

Soil moisture (Yu et al., eq. 6, from eq. 1 and 3): SM = (10·log10((σ⁰ − σ⁰_veg)/γ²) − C)/D, σ⁰ and σ⁰_veg linear.
"""
    REFERENCE_KEYS = ("chang", "yu")
    TAGS = ("water cloud model", "WCM", "inversion", "SAR", "Sentinel-1", "σ⁰", "sigma0",
            "backscatter", "soil backscatter", "vegetation correction", "VWC",
            "soil moisture map", "C D calibration")

    def define_parameters(self):
        self.add_raster_input(self.SIGMA0, self.tr("Measured backscatter σ⁰"))
        self.add_choice(self.SIGMA0_UNIT, self.tr("Unit of σ⁰"), self.UNIT_CHOICES)
        self.add_vegetation_parameters()
        self.add_raster_output(self.OUTPUT, self.tr("Soil backscatter σ⁰_soil"), style="sigma0_db")
        self.add_raster_output(self.VEGETATION_OUTPUT,
                               self.tr("Vegetation contribution σ⁰ − σ⁰_soil (dB)"), optional=True,
                               style=OutputStyle("difference_db", "σ⁰ vegetation contribution"))
        self.add_raster_output(self.ATTENUATION_OUTPUT, self.tr("Two-way attenuation γ²"),
                               optional=True,
                               style=OutputStyle("fraction", "γ² (two-way attenuation)"))
        # The soil-moisture output and its parameters, appended (saved models keep working): all
        # optional, and sent to the core only when the output is asked for.
        self.add_raster_output(self.SOIL_MOISTURE_OUTPUT,
                               self.tr("Soil moisture (m³/m³, Yu et al. eq. 6)"), optional=True,
                               style=OutputStyle("soil_moisture", "soil moisture (water cloud model)"))
        for key, description, help_text in (
                (self.C, self.tr("C, soil backscatter at SM = 0 (dB; for the soil moisture output)"),
                 self.tr("Intercept of σ⁰_soil[dB] = C + D·SM (Yu et al., eq. 3), calibrated against "
                         "in-situ soil moisture; the sample scene's VV is −17 dB. Needed by the soil "
                         "moisture output only.")),
                (self.D, self.tr("D, soil backscatter slope (dB per m³/m³; for the soil moisture "
                                 "output)"),
                 self.tr("Slope of σ⁰_soil[dB] = C + D·SM (Yu et al., eq. 3); not 0, positive in "
                         "practice; the sample scene's VV is 28 dB per m³/m³. Needed by the soil "
                         "moisture output only."))):
            parameter = QgsProcessingParameterNumber(
                key, description, QgsProcessingParameterNumber.Double, optional=True)
            parameter.setHelp(help_text)
            self.addParameter(parameter)
        sm_max = QgsProcessingParameterNumber(
            self.SM_MAX, self.tr("Wettest plausible soil moisture SM_MAX (m³/m³)"),
            QgsProcessingParameterNumber.Double, SM_MAX_DEFAULT, optional=True, minValue=0.0,
            maxValue=1.0)
        sm_max.setHelp(self.tr(
            "Soil moisture above it is counted in SM_ABOVE_PIXELS (and set to it with CLAMP). "
            "Default 0.6 m³/m³, above the porosity of nearly every mineral soil; up to 1 for "
            "organic soils. Must be above 0."))
        self.addParameter(sm_max)
        clamp = QgsProcessingParameterBoolean(
            self.CLAMP, self.tr("Set soil moisture outside 0…SM_MAX to the bound"), False,
            optional=True)
        clamp.setHelp(self.tr(
            "Off (default): values below 0 or above SM_MAX are written as computed and counted. "
            "On: they are set to 0 or SM_MAX and counted in CLAMPED_PIXELS too."))
        self.addParameter(clamp)
        for key, description in (
                (self.SM_BELOW_PIXELS, "Pixels with soil moisture below 0"),
                (self.SM_ABOVE_PIXELS, "Pixels with soil moisture above SM_MAX"),
                (self.CLAMPED_PIXELS, "Soil moisture pixels set to 0 or SM_MAX (CLAMP)")):
            self.add_count_output(key, self.tr(description))

    def command_parameters(self, parameters, context, feedback):
        request = super().command_parameters(parameters, context, feedback)
        if not self.parameterAsOutputLayer(parameters, self.SOIL_MOISTURE_OUTPUT, context):
            if any(self.optional_double(parameters, key, context) is not None
                   for key in (self.C, self.D)):
                feedback.pushInfo("C and D are used by the soil moisture output only "
                                  f"({self.SOIL_MOISTURE_OUTPUT}), which was not asked for.")
            return request
        for key in (self.C, self.D):
            value = self.optional_double(parameters, key, context)
            if value is None:
                raise QgsProcessingException(
                    f"Invalid value for {key} (empty): the soil moisture output "
                    f"({self.SOIL_MOISTURE_OUTPUT}) needs C and D, the intercept (dB) and slope "
                    f"(dB per m³/m³, not 0) of σ⁰_soil[dB] = C + D·SM (Yu et al., eq. 3), e.g. "
                    f"C −17, D 28; give both, or leave the soil moisture output off.")
            request[key] = value
        sm_max = self.optional_double(parameters, self.SM_MAX, context)
        request[self.SM_MAX] = SM_MAX_DEFAULT if sm_max is None else sm_max
        request[self.CLAMP] = self.parameterAsBoolean(parameters, self.CLAMP, context)
        return request
