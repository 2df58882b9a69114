// Small JSON helpers shared by the core sources (internal; not installed).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

namespace attune::core::detail {

// A value, or JSON null when absent.
inline nlohmann::json Opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace attune::core::detail
