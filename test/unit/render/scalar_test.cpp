#include <catch2/catch.hpp>

#include "gitfed/render/scalar.h"
