#include "attune/core/profiles.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/stat.h>

#include "attune/core/fs_util.hpp"

namespace attune::core {

namespace fs = std::filesystem;

namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1 when the
// bytes are not well-formed UTF-8 (overlong forms and surrogates included).
long DecodeUtf8(const std::string& s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int extra = 0;
    long cp = 0;
    if (b0 < 0x80) {
        ++i;
        return b0;
    } else if ((b0 & 0xE0) == 0xC0) {
        extra = 1;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        extra = 2;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        extra = 3;
        cp = b0 & 0x07;
    } else {
        return -1;
    }
    if (i + static_cast<std::size_t>(extra) >= s.size()) return -1;
    for (int k = 1; k <= extra; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr long kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    i += static_cast<std::size_t>(extra) + 1;
    return cp;
}

// Non-ASCII code points that are invisible or reorder text: names using them can look exactly
// like another name, which matters when a therapist picks a client's folder.
bool IsConfusableNonAscii(long cp) {
    return cp < 0xA0 || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFF);
}

std::string LowerAscii(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

std::string ValidateProfileName(const std::string& name) {
    if (name.empty()) return "A profile name cannot be empty.";
    if (name == "." || name == "..") return "A profile name cannot be \".\" or \"..\".";
    if (name.front() == '.') return "A profile name cannot start with a dot.";
    if (name.front() == ' ' || name.back() == ' ') return "A profile name cannot start or end with a space.";
    std::size_t chars = 0;
    for (std::size_t i = 0; i < name.size();) {
        const long cp = DecodeUtf8(name, i);
        if (cp < 0) return "A profile name must be valid UTF-8 text.";
        ++chars;
        if (cp < 0x80) {
            const char c = static_cast<char>(cp);
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == ' ' || c == '-' || c == '_' || c == '.';
            if (!ok) {
                if (c == '/' || c == '\\') return "A profile name cannot contain '/' or '\\'.";
                return "A profile name may only contain letters, digits, spaces, '-', '_' and '.'.";
            }
        } else if (IsConfusableNonAscii(cp)) {
            return "A profile name cannot contain invisible or control characters.";
        }
    }
    if (chars > kMaxProfileNameChars)
        return "A profile name can have at most " + std::to_string(kMaxProfileNameChars) + " characters.";
    return {};
}

fs::path ProfilesDir(const fs::path& data_dir) { return data_dir / "profiles"; }
fs::path ProfileDir(const fs::path& data_dir, const std::string& name) { return ProfilesDir(data_dir) / name; }
fs::path ProfileSessionsDir(const fs::path& data_dir, const std::string& name) {
    return ProfileDir(data_dir, name) / "sessions";
}
fs::path ProfileSettingsPath(const fs::path& data_dir, const std::string& name) {
    return ProfileDir(data_dir, name) / "profile.json";
}

std::string MakePrivateDirTree(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return {};
    // Walk down from the deepest existing ancestor, creating each missing folder 0700.
    std::vector<fs::path> missing;
    for (fs::path p = dir.lexically_normal(); !p.empty(); p = p.parent_path()) {
        if (fs::exists(fs::symlink_status(p, ec)) || p == p.parent_path()) break;
        missing.push_back(p);
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (it->filename().empty()) continue;  // trailing separator of the normalised path
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
            return "cannot create folder " + it->string() + ": " + std::strerror(errno);
    }
    if (!fs::is_directory(dir, ec)) return "cannot create folder " + dir.string() + ": not a folder";
    return {};
}

std::string CreateProfile(const fs::path& data_dir, const std::string& name) {
    if (std::string e = ValidateProfileName(name); !e.empty()) return e;
    if (!ProfileExists(data_dir, name)) {
        const std::string lower = LowerAscii(name);
        for (const auto& other : ListProfileNames(data_dir))
            if (LowerAscii(other) == lower)
                return "A profile named \"" + other + "\" already exists (names must differ by more than case).";
    }
    return MakePrivateDirTree(ProfileSessionsDir(data_dir, name));
}

bool ProfileExists(const fs::path& data_dir, const std::string& name) {
    if (!ValidateProfileName(name).empty()) return false;
    std::error_code ec;
    return fs::is_directory(ProfileDir(data_dir, name), ec);
}

std::vector<std::string> ListProfileNames(const fs::path& data_dir) {
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(ProfilesDir(data_dir), ec);
    if (ec) return names;
    for (const auto& entry : it) {
        std::error_code e2;
        if (!entry.is_directory(e2)) continue;
        std::string name = entry.path().filename().string();
        if (ValidateProfileName(name).empty()) names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    return names;
}

ProfileSettingsLoad LoadProfileSettings(const fs::path& data_dir, const std::string& name) {
    ProfileSettingsLoad out;
    const fs::path path = ProfileSettingsPath(data_dir, name);
    std::error_code ec;
    if (!fs::exists(path, ec)) return out;
    std::string text, error;
    if (!ReadTextFile(path, text, error, 1u << 20)) {
        out.warning = "Could not read " + path.string() + ": " + error;
        return out;
    }
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        out.warning = path.string() + " is not valid JSON; using defaults.";
        return out;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "resonance_rate_bpm") {
            if (it.value().is_number()) out.settings.resonance_rate_bpm = it.value().get<double>();
            else if (!it.value().is_null()) out.warning = "'resonance_rate_bpm' in " + path.string() + " is not a number.";
        } else if (it.key() == "notes") {
            if (it.value().is_string()) out.settings.notes = it.value().get<std::string>();
            else out.warning = "'notes' in " + path.string() + " is not text.";
        } else {
            out.settings.other[it.key()] = it.value();
        }
    }
    return out;
}

std::string SaveProfileSettings(const fs::path& data_dir, const std::string& name, const ProfileSettings& s) {
    if (std::string e = ValidateProfileName(name); !e.empty()) return e;
    if (std::string e = MakePrivateDirTree(ProfileDir(data_dir, name)); !e.empty()) return e;
    nlohmann::json j = s.other.is_object() ? s.other : nlohmann::json::object();
    j["resonance_rate_bpm"] = s.resonance_rate_bpm ? nlohmann::json(*s.resonance_rate_bpm) : nlohmann::json(nullptr);
    j["notes"] = s.notes;
    return WriteFileAtomic(ProfileSettingsPath(data_dir, name), DumpJson(j, 2) + "\n");
}

}  // namespace attune::core
