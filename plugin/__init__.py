"""The plugin shell: the QGIS plugin class, the Processing provider and the bridge to smr."""
