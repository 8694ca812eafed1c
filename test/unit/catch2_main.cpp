// Catch2 v2 entry point shared by every unit test executable (licence: GPL-2.0-only).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
