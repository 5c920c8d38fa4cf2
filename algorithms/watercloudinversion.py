"""smr:watercloudinversion — soil backscatter from total backscatter (water cloud inversion)."""

from .watercloud import WATER_CLOUD_HELP, WaterCloudAlgorithm


class WaterCloudInversion(WaterCloudAlgorithm):
    NAME = "watercloudinversion"
    DISPLAY_NAME = "Water cloud model inversion (soil backscatter)"
    COMMAND = "watercloudinversion"

    SIGMA0 = "SIGMA0"
    SIGMA0_UNIT = "SIGMA0_UNIT"
    VEGETATION_OUTPUT = "VEGETATION_OUTPUT"
    ATTENUATION_OUTPUT = "ATTENUATION_OUTPUT"

    HELP = """
Removes the vegetation contribution from the measured backscatter σ⁰ (paper 000 eq. 10):
σ⁰_soil = (σ⁰ − σ⁰_veg)/γ², with σ⁰_veg = A·V1·cosθ·(1 − γ²) and γ² = exp(−2·B·VWC·secθ).
Where σ⁰ ≤ σ⁰_veg the soil term would be zero or negative: those pixels become nodata and are counted in INVALID_PIXELS (never clamped).
Optional outputs, written only when asked for: VEGETATION_OUTPUT, the vegetation contribution in dB, σ⁰[dB] − σ⁰_soil[dB] (as in paper 000); ATTENUATION_OUTPUT, the two-way attenuation γ² (unitless, 0–1).
""" + WATER_CLOUD_HELP

    def define_parameters(self):
        self.add_raster_input(self.SIGMA0, self.tr("Measured backscatter σ⁰"))
        self.add_choice(self.SIGMA0_UNIT, self.tr("Unit of σ⁰"), self.UNIT_CHOICES)
        self.add_vegetation_parameters()
        self.add_raster_output(self.OUTPUT, self.tr("Soil backscatter σ⁰_soil"))
        self.add_raster_output(self.VEGETATION_OUTPUT,
                               self.tr("Vegetation contribution σ⁰ − σ⁰_soil (dB)"), optional=True)
        self.add_raster_output(self.ATTENUATION_OUTPUT, self.tr("Two-way attenuation γ²"),
                               optional=True)
