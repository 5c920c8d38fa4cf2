"""smr:backscatterconversion — σ⁰ between decibels and linear power."""

from .base import SmrAlgorithm
from .styles import OutputStyle


class BackscatterConversion(SmrAlgorithm):
    NAME = "backscatterconversion"
    DISPLAY_NAME = "Backscatter conversion (dB ↔ linear)"
    GROUP_ID = "radar"
    COMMAND = "backscatterconversion"

    INPUT = "INPUT"
    DIRECTION = "DIRECTION"
    OUTPUT = "OUTPUT"

    DIRECTION_CHOICES = (
        ("dB → linear", "db_to_linear"),
        ("linear → dB", "linear_to_db"),
    )

    HELP = """
Converts radar backscatter (σ⁰) between decibels and linear power. Sentinel-1 products are often delivered in dB, while the water cloud model works in linear power (m²/m²): use it where one step gives the unit the next does not take.

'Conversion' picks the direction. In linear → dB, σ⁰ ≤ 0 has no logarithm: such pixels become nodata and are counted in INVALID_PIXELS.

Equations:
dB → linear: σ⁰ = 10^(σ⁰_dB/10)
linear → dB: σ⁰_dB = 10·log10(σ⁰)
"""
    REFERENCE_KEYS = ()
    TAGS = ("SAR", "Sentinel-1", "σ⁰", "sigma0", "backscatter", "decibel", "dB", "linear power",
            "radar")

    def define_parameters(self):
        self.add_raster_input(self.INPUT, self.tr("Backscatter σ⁰"))
        self.add_choice(self.DIRECTION, self.tr("Conversion"), self.DIRECTION_CHOICES)
        self.add_raster_output(self.OUTPUT, self.tr("Converted backscatter"),
                               style=OutputStyle("sigma0_linear", "σ⁰ (linear)"))

    def output_style(self, key, path, parameters, context):
        if self.choice(parameters, self.DIRECTION, context) == "linear_to_db":
            return OutputStyle("sigma0_db", "σ⁰ (dB)")
        return OutputStyle("sigma0_linear", "σ⁰ (linear)")
