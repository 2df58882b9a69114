// Profiles: pseudonymous people who practise with Attune ("client-07", "Sam"). Each profile is a
// folder under the data folder holding its sessions and a small settings file:
//
//   <data_dir>/profiles/<profile>/profile.json      ProfileSettings (below)
//   <data_dir>/profiles/<profile>/sessions/<id>/    one recorded session (session_format.hpp)
//
// Names are validated so that the folder name can be the name itself (no escaping, no lossy
// mapping, so two names can never share a folder): 1–40 characters, letters, digits, space,
// '-', '_' and '.'. Letters include non-ASCII letters written as UTF-8 ("Zoë"); control, format
// and bidirectional-override characters are refused because they make names that look alike.
// Refused as well: path separators, "." and "..", a leading '.' (a hidden folder would vanish
// from file managers and backups) and leading or trailing spaces (names that look identical).
// Creating a profile whose name differs from an existing one only by ASCII case is refused, so a
// copy to a case-insensitive file system cannot merge two people's data.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attune::core {

inline constexpr std::size_t kMaxProfileNameChars = 40;

// Empty when `name` is a valid profile name, else a sentence saying why not.
std::string ValidateProfileName(const std::string& name);

std::filesystem::path ProfilesDir(const std::filesystem::path& data_dir);
// The folder of a (valid) profile name: the name itself, see above.
std::filesystem::path ProfileDir(const std::filesystem::path& data_dir, const std::string& name);
std::filesystem::path ProfileSessionsDir(const std::filesystem::path& data_dir, const std::string& name);
std::filesystem::path ProfileSettingsPath(const std::filesystem::path& data_dir, const std::string& name);

// Creates every missing folder of `dir` with mode 0700 (fs_util's MakePrivateDirs only sets the
// last one; the parents would get the umask's 0755). Returns error text, empty on success.
std::string MakePrivateDirTree(const std::filesystem::path& dir);

// Creates the profile's folders (0700). Succeeds when the profile already exists.
// Returns error text, empty on success.
std::string CreateProfile(const std::filesystem::path& data_dir, const std::string& name);
bool ProfileExists(const std::filesystem::path& data_dir, const std::string& name);
// Valid profile names that have a folder, sorted. Other folders are skipped.
std::vector<std::string> ListProfileNames(const std::filesystem::path& data_dir);

struct ProfileSettings {
    std::optional<double> resonance_rate_bpm;  // result of the resonance-rate assessment
    std::string notes;
    nlohmann::json other = nlohmann::json::object();  // unknown keys, written back unchanged
};

struct ProfileSettingsLoad {
    ProfileSettings settings;
    std::string warning;  // empty when the file was fine or absent
};

// A missing file gives defaults silently; a corrupt one gives defaults and a warning (the file is
// left as it is: the next save replaces it).
ProfileSettingsLoad LoadProfileSettings(const std::filesystem::path& data_dir, const std::string& name);
// Writes profile.json atomically (0600). Returns error text, empty on success.
std::string SaveProfileSettings(const std::filesystem::path& data_dir, const std::string& name,
                                const ProfileSettings& s);

}  // namespace attune::core
