"""The papers the algorithms implement or cite, in one place.

Each algorithm names the references its help cites (SmrAlgorithm.REFERENCE_KEYS); its help, its
page in docs/ and the README list them in full from here. Only what the papers themselves state
(../shared/seeds): where a paper's text gives no year, journal or DOI, the reference says so rather
than guess one. In code comments the five papers keep their short names, paper 000 … paper 004.
"""

from collections import namedtuple

Reference = namedtuple("Reference", "citation authors year title source doi")

NOT_STATED = "not stated in the paper's text"

REFERENCES = {
    # paper 000
    "chang": Reference(
        citation="Chang et al.",
        authors="Chang, X., Xu, L., Liu, S., Liao, D.",
        year=None,
        title="Collaborative soil moisture inversion with multi-source remote sensing data",
        source=None,
        doi=None),
    # paper 001
    "wang2021": Reference(
        citation="Wang and Xu 2021",
        authors="Wang, J., Xu, D.",
        year=2021,
        title="Artificial Neural Network-Based Microwave Satellite Soil Moisture Reconstruction "
              "over the Qinghai–Tibet Plateau, China",
        source="Remote Sensing 13, 5156",
        doi="10.3390/rs13245156"),
    # paper 002
    "yu": Reference(
        citation="Yu et al.",
        authors="Yu, Y., Filippi, P., Bishop, T. F. A.",
        year=None,
        title="Field-scale soil moisture estimated from Sentinel-1 SAR data using a "
              "knowledge-guided deep learning approach",
        source=None,
        doi=None),
    # paper 003
    "lv2021": Reference(
        citation="Lv et al. 2021",
        authors="Lv, A., Zhang, Z., Zhu, H.",
        year=2021,
        title="A Neural-Network Based Spatial Resolution Downscaling Method for Soil Moisture: "
              "Case Study of Qinghai Province",
        source="Remote Sensing 13(8), 1583",
        doi="10.3390/rs13081583"),
    # paper 004
    "tsagkatakis": Reference(
        citation="Tsagkatakis et al.",
        authors="Tsagkatakis, G., Moghaddam, M., Tsakalides, P.",
        year=None,
        title="Soil moisture retrieval using in situ and data simulation regularized deep "
              "learning models",
        source=None,
        doi=None),
    # Cited by paper 000 (eq. 6) with this DOI.
    "mcfeeters1996": Reference(
        citation="McFeeters 1996",
        authors="McFeeters, S. K.",
        year=1996,
        title="The use of the Normalized Difference Water Index (NDWI) in the delineation of open "
              "water features",
        source="International Journal of Remote Sensing 17(7), 1425–1432",
        doi="10.1080/01431169608948714"),
    # Cited by paper 003 (§2.2.1), which gives no DOI for it.
    "mccoll2014": Reference(
        citation="McColl et al. 2014",
        authors="McColl, K. A., Vogelzang, J., Konings, A. G., Entekhabi, D., Piles, M., "
                "Stoffelen, A.",
        year=2014,
        title="Extended triple collocation: Estimating errors and correlation coefficients with "
              "respect to an unknown target",
        source="Geophysical Research Letters 41, 6229–6236",
        doi=None),
}

# The five papers of the project, in the README's order (paper 000 … paper 004).
PAPER_KEYS = ("chang", "wang2021", "yu", "lv2021", "tsagkatakis")


def full_reference(key):
    """'Authors (year). Title. Source. DOI.' with what the paper's text does not state said so."""
    reference = REFERENCES[key]
    year = str(reference.year) if reference.year else f"year {NOT_STATED}"
    source = reference.source or f"Journal or proceedings {NOT_STATED}"
    if reference.doi:
        doi = f"https://doi.org/{reference.doi}"
    elif key in PAPER_KEYS:
        doi = f"DOI {NOT_STATED}"
    else:
        doi = "DOI not given where it is cited"
    return f"{reference.authors} ({year}). {reference.title}. {source}. {doi}."


def references_help(keys):
    """The closing 'References' paragraph of an algorithm's help."""
    if not keys:
        return ""
    return "References:\n" + "\n".join(f"• {full_reference(key)}" for key in keys)
