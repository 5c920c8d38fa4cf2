#include "smr/pixel_networks.hpp"
