"""smr:watercloudforward — total backscatter from soil backscatter and vegetation (water cloud)."""

from .watercloud import WATER_CLOUD_HELP, WaterCloudAlgorithm


class WaterCloudForward(WaterCloudAlgorithm):
    NAME = "watercloudforward"
    DISPLAY_NAME = "Water cloud model (forward)"
    COMMAND = "watercloudforward"

    SIGMA_SOIL = "SIGMA_SOIL"
    SIGMA_SOIL_UNIT = "SIGMA_SOIL_UNIT"

    HELP = """
Simulates the total backscatter σ⁰ seen by the radar from the bare-soil backscatter σ⁰_soil and the vegetation water content, with the water cloud model:
σ⁰ = A·V1·cosθ·(1 − γ²) + γ²·σ⁰_soil, γ² = exp(−2·B·VWC·secθ).
""" + WATER_CLOUD_HELP

    def define_parameters(self):
        self.add_raster_input(self.SIGMA_SOIL, self.tr("Soil backscatter σ⁰_soil"))
        self.add_choice(self.SIGMA_SOIL_UNIT, self.tr("Unit of σ⁰_soil"), self.UNIT_CHOICES)
        self.add_vegetation_parameters()
        self.add_raster_output(self.OUTPUT, self.tr("Total backscatter σ⁰"))
