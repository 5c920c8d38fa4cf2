"""smr:mpdi — microwave polarization difference index from brightness temperatures."""

from .base import SmrAlgorithm


class Mpdi(SmrAlgorithm):
    NAME = "mpdi"
    DISPLAY_NAME = "Microwave polarization difference index (MPDI)"
    GROUP_ID = "passivemicrowave"
    COMMAND = "mpdi"

    TBV = "TBV"
    TBH = "TBH"
    OUTPUT = "OUTPUT"

    HELP = """
Computes the microwave polarization difference index from passive-microwave brightness temperatures (paper 003, Lv et al.):
MPDI = (Tbv − Tbh)/(Tbv + Tbh)
TBV and TBH are the vertically and horizontally polarised brightness temperatures in kelvin (e.g. AMSR2 at the same frequency). MPDI is unitless. Tbv + Tbh = 0 gives nodata (counted in INVALID_PIXELS).
"""

    def define_parameters(self):
        self.add_raster_input(self.TBV, self.tr("Brightness temperature, V polarisation (K)"))
        self.add_raster_input(self.TBH, self.tr("Brightness temperature, H polarisation (K)"))
        self.add_raster_output(self.OUTPUT, self.tr("MPDI"))
