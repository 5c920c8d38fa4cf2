"""smr:watercloudinversion — soil backscatter from total backscatter (water cloud inversion)."""

from .styles import OutputStyle
from .watercloud import WATER_CLOUD_HELP, WaterCloudAlgorithm


class WaterCloudInversion(WaterCloudAlgorithm):
    NAME = "watercloudinversion"
    DISPLAY_NAME = "Water cloud model inversion (soil backscatter)"
    COMMAND = "watercloudinversion"
    OUTPUT_NAME = "σ⁰ soil"

    SIGMA0 = "SIGMA0"
    SIGMA0_UNIT = "SIGMA0_UNIT"
    VEGETATION_OUTPUT = "VEGETATION_OUTPUT"
    ATTENUATION_OUTPUT = "ATTENUATION_OUTPUT"

    HELP = """
Removes the vegetation's part from measured radar backscatter σ⁰, leaving the backscatter of the soil beneath, with the water cloud model. The soil backscatter is what follows soil moisture: use it as an input of a soil-moisture network (Train neural network) or regression, as Chang et al. do with Sentinel-1 VV and VH.

Inputs: 'Measured backscatter σ⁰' in dB or linear ('Unit of σ⁰'); 'Vegetation water content VWC' in kg/m² (e.g. from Vegetation water content); the incidence angle θ in degrees, as a raster or, when no raster is given, the constant 'Incidence angle θ when no raster is given' (ANGLE_CONSTANT, default 40°). The soil backscatter σ⁰_soil is written in the 'Output unit'. Where σ⁰ ≤ σ⁰_veg the soil term would be zero or negative: those pixels become nodata and are counted in INVALID_PIXELS (never clamped). Optional outputs, written only when asked for: the vegetation contribution in dB, σ⁰[dB] − σ⁰_soil[dB], as Chang et al. map it (VEGETATION_OUTPUT), and the two-way attenuation γ², unitless, 0–1 (ATTENUATION_OUTPUT).
""" + WATER_CLOUD_HELP + """
Inversion (Chang et al., eq. 10): σ⁰_soil = (σ⁰ − σ⁰_veg)/γ².
"""
    REFERENCE_KEYS = ("chang", "yu")
    TAGS = ("water cloud model", "WCM", "inversion", "SAR", "Sentinel-1", "σ⁰", "sigma0",
            "backscatter", "soil backscatter", "vegetation correction", "VWC")

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
