# CPACK_PROJECT_CONFIG_FILE: cpack reads this once per generator, so each package installs its own
# component (CMakeLists.txt) from the same build tree. CPACK_INSTALL_CMAKE_PROJECTS is
# "<build dir>;<project>;<component>;<subdirectory>".
list(GET CPACK_INSTALL_CMAKE_PROJECTS 0 smr_build_dir)
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_INSTALL_CMAKE_PROJECTS "${smr_build_dir};smr;deb;/")
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
elseif(CPACK_GENERATOR STREQUAL "ZIP")
  # QGIS's "Install from ZIP" wants one top folder named after the plugin: smr/.
  set(CPACK_INSTALL_CMAKE_PROJECTS "${smr_build_dir};smr;plugin_zip;/")
  set(CPACK_PACKAGING_INSTALL_PREFIX /)
  set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF)
  set(CPACK_PACKAGE_FILE_NAME "${CPACK_SMR_ZIP_FILE_NAME}")
else()
  message(FATAL_ERROR "SMR is packaged as DEB or ZIP, not ${CPACK_GENERATOR}")
endif()
