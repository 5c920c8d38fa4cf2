"""smr:spectralindex — NDVI, NDMI, NDWI, EVI and NSDSI from reflectance bands."""

from qgis.core import QgsProcessingException

from .base import SmrAlgorithm
from .styles import OutputStyle


class SpectralIndex(SmrAlgorithm):
    NAME = "spectralindex"
    DISPLAY_NAME = "Spectral index (NDVI, NDMI, NDWI, EVI, NSDSI)"
    GROUP_ID = "optical"
    COMMAND = "spectralindex"

    INDEX = "INDEX"
    BLUE = "BLUE"
    GREEN = "GREEN"
    RED = "RED"
    NIR = "NIR"
    SWIR1 = "SWIR1"
    SWIR2 = "SWIR2"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    OUTPUT = "OUTPUT"

    # The option index is public API (a model passes the same index to vegetationwatercontent's
    # MODEL): append, never reorder.
    INDEX_CHOICES = (
        ("NDVI", "ndvi"),
        ("NDMI", "ndmi"),
        ("NDWI (McFeeters)", "ndwi"),
        ("EVI", "evi"),
        ("NSDSI1 = (S1 − S2)/S1", "nsdsi1"),
        ("NSDSI2 = (S1 − S2)/S2", "nsdsi2"),
        ("NSDSI3 = (S1 − S2)/(S1 + S2)", "nsdsi3"),
    )
    BANDS_NEEDED = {
        "ndvi": (NIR, RED),
        "ndmi": (NIR, SWIR1),
        "ndwi": (GREEN, NIR),
        "evi": (NIR, RED, BLUE),
        "nsdsi1": (SWIR1, SWIR2),
        "nsdsi2": (SWIR1, SWIR2),
        "nsdsi3": (SWIR1, SWIR2),
    }

    HELP = """
Computes a vegetation, water or soil-moisture index from the reflectance bands of an optical image (Landsat, Sentinel-2, MODIS). Use it for the NDVI, NDMI or NDWI from which Vegetation water content estimates what the water cloud model needs, or for the NSDSI and NDVI predictors of a downscaling network.

Give only the bands the chosen Index needs (each band's label lists the indices that use it); the others are ignored. 'Reflectance scale' and 'Reflectance offset' (SCALE, OFFSET) turn the stored numbers (DN) into reflectance before the index: Landsat Collection 2 Level-2 uses scale 2.75e-5 and offset −0.2; Sentinel-2 L2A uses scale 1e-4 and offset 0 (before processing baseline 04.00; later products need offset −0.1). Keep 1 and 0 for bands already in reflectance. The index is unitless; a zero denominator gives nodata (counted in INVALID_PIXELS).

Equations, with ρ = DN·scale + offset for every band:
NDVI = (NIR − RED)/(NIR + RED) (Chang et al., eq. 4)
NDMI = (NIR − SWIR1)/(NIR + SWIR1) (Chang et al., eq. 5)
NDWI = (GREEN − NIR)/(GREEN + NIR) (McFeeters 1996; Chang et al., eq. 6)
EVI = 2.5·(NIR − RED)/(NIR + 6·RED − 7.5·BLUE + 1)
NSDSI, the normalized shortwave-infrared difference soil-moisture index of Lv et al. (2021), has three definitions in the literature, all offered: NSDSI1 = (S1 − S2)/S1 (the default NSDSI), NSDSI2 = (S1 − S2)/S2, NSDSI3 = (S1 − S2)/(S1 + S2), with S1 = SWIR1 (1.6 µm) and S2 = SWIR2 (2.1 µm).
"""
    REFERENCE_KEYS = ("chang", "mcfeeters1996", "lv2021")
    TAGS = ("NDVI", "NDMI", "NDWI", "EVI", "NSDSI", "vegetation index", "optical", "reflectance",
            "Landsat", "Sentinel-2", "MODIS")

    def define_parameters(self):
        self.add_choice(self.INDEX, self.tr("Index"), self.INDEX_CHOICES)
        self.add_raster_input(self.BLUE, self.tr("Blue band (EVI)"), optional=True)
        self.add_raster_input(self.GREEN, self.tr("Green band (NDWI)"), optional=True)
        self.add_raster_input(self.RED, self.tr("Red band (NDVI, EVI)"), optional=True)
        self.add_raster_input(self.NIR, self.tr("Near-infrared band (NDVI, NDMI, NDWI, EVI)"),
                              optional=True)
        self.add_raster_input(self.SWIR1, self.tr("Shortwave infrared 1.6 µm band (NDMI, NSDSI)"),
                              optional=True)
        self.add_raster_input(self.SWIR2, self.tr("Shortwave infrared 2.1 µm band (NSDSI)"),
                              optional=True)
        self.add_number(self.SCALE, self.tr("Reflectance scale (ρ = DN·scale + offset)"), 1.0)
        self.add_number(self.OFFSET, self.tr("Reflectance offset"), 0.0)
        self.add_raster_output(self.OUTPUT, self.tr("Spectral index"), style="spectral_index")

    def raster_inputs_to_send(self, parameters, context):
        index = self.choice(parameters, self.INDEX, context)
        needed = self.BANDS_NEEDED[index]
        missing = [key for key in needed if not self.has_value(parameters, key)]
        if missing:
            label = dict((value, label) for label, value in self.INDEX_CHOICES)[index]
            raise QgsProcessingException(
                f"{label} needs {' and '.join(needed)}: set {' and '.join(missing)}.")
        # Declaration order, so the reference grid is the same whatever the index.
        return [key for key in self._raster_inputs if key in needed]

    def output_style(self, key, path, parameters, context):
        # The loaded layer is named after the index: "NDVI", "NSDSI1", …
        return OutputStyle("spectral_index", self.choice(parameters, self.INDEX, context).upper())
