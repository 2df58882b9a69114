// Small filesystem helpers. Health data is private: folders are created 0700, files 0600.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace attune::core {

// Reads a whole file (at most max_bytes). Returns false and fills `error` on failure.
bool ReadTextFile(const std::filesystem::path& path, std::string& out, std::string& error,
                  std::size_t max_bytes = 16u << 20);

// Creates `dir` and its parents with mode 0700. Returns error text, empty on success.
std::string MakePrivateDirs(const std::filesystem::path& dir);

// Writes `content` to a temporary file beside `path`, fsyncs it and renames it over `path`
// (so readers never see half a file), mode 0600. Returns error text, empty on success.
std::string WriteFileAtomic(const std::filesystem::path& path, const std::string& content);

// Per-user folders: $XDG_DATA_HOME/attune (default ~/.local/share/attune) and
// $XDG_CONFIG_HOME/attune (default ~/.config/attune), unless overridden on the command line.
struct UserDirs {
    std::filesystem::path data_dir;
    std::filesystem::path config_dir;
};
UserDirs DefaultUserDirs();

// Folders searched for shipped assets (presets, programs), most specific first:
// $ATTUNE_ASSETS_DIR, <exe dir>/../share/attune, <exe dir>/assets, the source tree's assets.
std::vector<std::filesystem::path> AssetDirs();

// The `.json` files directly in `folder`, sorted by name; empty when it is not a readable folder.
std::vector<std::filesystem::path> JsonFilesIn(const std::filesystem::path& folder);

}  // namespace attune::core
