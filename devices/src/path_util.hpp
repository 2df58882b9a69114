// Small helpers shared by the devices sources (internal; not installed).
#pragma once

#include <string>

namespace attune::devices::detail {

// The last component of a '/'-separated path ("/dev/ttyUSB0" -> "ttyUSB0").
inline std::string BaseName(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace attune::devices::detail
