"""smr:mpdi — microwave polarization difference index from brightness temperatures."""

from .base import SmrAlgorithm
from .styles import OutputStyle


class Mpdi(SmrAlgorithm):
    NAME = "mpdi"
    DISPLAY_NAME = "Microwave polarization difference index (MPDI)"
    GROUP_ID = "passivemicrowave"
    COMMAND = "mpdi"

    TBV = "TBV"
    TBH = "TBH"
    OUTPUT = "OUTPUT"

    HELP = """
Computes the microwave polarization difference index (MPDI) from passive-microwave brightness temperatures in vertical and horizontal polarisation. Denser vegetation lowers the index and wetter soil raises it; Lv et al. (2021) use it as a predictor of soil moisture.

The two brightness temperatures are in kelvin, of the same frequency and overpass (e.g. AMSR2 at 10.7 GHz). MPDI is unitless; Tbv + Tbh = 0 gives nodata (counted in INVALID_PIXELS).

Equation: MPDI = (Tbv − Tbh)/(Tbv + Tbh)
"""
    REFERENCE_KEYS = ("lv2021",)
    TAGS = ("MPDI", "passive microwave", "brightness temperature", "Tb", "AMSR2", "radiometer",
            "polarization", "vegetation")

    def define_parameters(self):
        self.add_raster_input(self.TBV, self.tr("Brightness temperature, V polarisation (K)"))
        self.add_raster_input(self.TBH, self.tr("Brightness temperature, H polarisation (K)"))
        # No fixed range: MPDI spans a few hundredths over dense vegetation, tenths over bare
        # or flooded soil, so the ramp follows the data.
        self.add_raster_output(self.OUTPUT, self.tr("MPDI"), style=OutputStyle("value", "MPDI"))
