"""smr:backscatterconversion — σ⁰ between decibels and linear power."""

from .base import SmrAlgorithm


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
Converts the backscattering coefficient σ⁰ between decibels and linear power (m²/m²):
dB → linear: σ⁰ = 10^(σ⁰_dB/10)
linear → dB: σ⁰_dB = 10·log10(σ⁰)
The water cloud model (papers 000 and 002) works in linear units; Sentinel-1 products are often distributed in dB.
In linear → dB, σ⁰ ≤ 0 has no logarithm: such pixels become nodata and are counted in INVALID_PIXELS.
"""

    def define_parameters(self):
        self.add_raster_input(self.INPUT, self.tr("Backscatter σ⁰"))
        self.add_choice(self.DIRECTION, self.tr("Conversion"), self.DIRECTION_CHOICES)
        self.add_raster_output(self.OUTPUT, self.tr("Converted backscatter"))
