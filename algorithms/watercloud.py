"""The water cloud model parameters shared by smr:watercloudforward and smr:watercloudinversion."""

from .base import SmrAlgorithm

# Linear units throughout; paper 000 eq. 1–3 and 10, paper 002 eq. 2, 4, 5.
WATER_CLOUD_HELP = """
Water cloud model (linear units): σ⁰ = σ⁰_veg + γ²·σ⁰_soil, with the two-way attenuation γ² = exp(−2·B·VWC·secθ) and the vegetation term σ⁰_veg = A·V1·cosθ·(1 − γ²) (paper 000 eq. 1–3; its eq. 2 prints "cos(1 − r²)", a typo for cosθ·(1 − γ²)).
V1 convention: paper 000 (Chang et al.) uses V1 = VWC; paper 002 (Yu et al., eq. 2) uses V1 = 1. In both, the attenuation uses VWC.
Units: σ⁰ in dB or linear as the unit parameters say (converted to linear internally); VWC in kg/m²; θ, the local incidence angle, in degrees (a raster, or the constant ANGLE_CONSTANT when no ANGLE raster is given); B in m²/kg; A in m²/kg with V1 = VWC and unitless with V1 = 1.
"""


class WaterCloudAlgorithm(SmrAlgorithm):
    GROUP_ID = "radar"

    VWC = "VWC"
    ANGLE = "ANGLE"
    ANGLE_CONSTANT = "ANGLE_CONSTANT"
    A = "A"
    B = "B"
    V1 = "V1"
    OUTPUT_UNIT = "OUTPUT_UNIT"
    OUTPUT = "OUTPUT"

    UNIT_CHOICES = (("dB", "db"), ("linear", "linear"))
    V1_CHOICES = (("VWC (paper 000)", "vwc"), ("1 (paper 002)", "one"))

    def add_vegetation_parameters(self):
        """VWC, the incidence angle, A, B, V1 and the output unit, in the dialog's order."""
        self.add_raster_input(self.VWC, self.tr("Vegetation water content VWC (kg/m²)"))
        self.add_raster_input(self.ANGLE, self.tr("Incidence angle θ raster (degrees)"),
                              optional=True)
        angle = self.add_number(self.ANGLE_CONSTANT,
                                self.tr("Incidence angle θ when no raster is given (degrees)"),
                                40.0, minimum=0.0, maximum=89.999, send=False)
        angle.setHelp(self.tr("Used for every pixel when the ANGLE raster is not given."))
        self.add_number(self.A, self.tr("A (vegetation scattering)"), 0.12)
        self.add_number(self.B, self.tr("B (vegetation attenuation, m²/kg)"), 0.09)
        self.add_choice(self.V1, self.tr("V1 in σ⁰_veg = A·V1·cosθ·(1 − γ²)"), self.V1_CHOICES)
        self.add_choice(self.OUTPUT_UNIT, self.tr("Output unit"), self.UNIT_CHOICES)

    def command_parameters(self, parameters, context, feedback):
        # The core's ANGLE is either a raster object (sent by the base) or a plain number.
        if self.has_value(parameters, self.ANGLE):
            return {}
        return {self.ANGLE: self.parameterAsDouble(parameters, self.ANGLE_CONSTANT, context)}
