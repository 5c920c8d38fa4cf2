"""smr:watercloudforward — total backscatter from soil backscatter and vegetation (water cloud)."""

from .watercloud import WATER_CLOUD_HELP, WaterCloudAlgorithm


class WaterCloudForward(WaterCloudAlgorithm):
    NAME = "watercloudforward"
    DISPLAY_NAME = "Water cloud model (forward)"
    COMMAND = "watercloudforward"
    OUTPUT_NAME = "σ⁰ total"

    SIGMA_SOIL = "SIGMA_SOIL"
    SIGMA_SOIL_UNIT = "SIGMA_SOIL_UNIT"

    HELP = """
Simulates the radar backscatter σ⁰ of a vegetated field from the backscatter of its bare soil and the water content of its vegetation, with the water cloud model. Use it to check calibrated vegetation parameters against observed σ⁰, or to simulate what a radar would see for a given soil.

Inputs: 'Soil backscatter σ⁰_soil' in dB or linear ('Unit of σ⁰_soil'); 'Vegetation water content VWC' in kg/m² (e.g. from Vegetation water content); the incidence angle θ in degrees, as a raster or, when no raster is given, the constant 'Incidence angle θ when no raster is given' (ANGLE_CONSTANT, default 40°). The output, the total σ⁰, is in the 'Output unit'.
""" + WATER_CLOUD_HELP
    REFERENCE_KEYS = ("chang", "yu")
    TAGS = ("water cloud model", "WCM", "SAR", "Sentinel-1", "σ⁰", "sigma0", "backscatter",
            "vegetation", "VWC", "forward model", "simulation")

    def define_parameters(self):
        self.add_raster_input(self.SIGMA_SOIL, self.tr("Soil backscatter σ⁰_soil"))
        self.add_choice(self.SIGMA_SOIL_UNIT, self.tr("Unit of σ⁰_soil"), self.UNIT_CHOICES)
        self.add_vegetation_parameters()
        self.add_raster_output(self.OUTPUT, self.tr("Total backscatter σ⁰"), style="sigma0_db")
