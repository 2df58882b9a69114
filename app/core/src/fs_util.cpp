#include "attune/core/fs_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace attune::core {

bool ReadTextFile(const std::filesystem::path& path, std::string& out, std::string& error,
                  std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::string("cannot open: ") + std::strerror(errno);
        return false;
    }
    out.clear();
    char buf[65536];
    while (in) {
        in.read(buf, sizeof buf);
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > max_bytes) {
            error = "file is too large (over " + std::to_string(max_bytes) + " bytes)";
            return false;
        }
    }
    if (in.bad()) {
        error = "read error";
        return false;
    }
    return true;
}

std::string MakePrivateDirs(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return {};
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create folder " + dir.string() + ": " + ec.message();
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, ec);
    return {};
}

std::string WriteFileAtomic(const std::filesystem::path& path, const std::string& content) {
    if (path.has_parent_path())
        if (std::string e = MakePrivateDirs(path.parent_path()); !e.empty()) return e;
    const std::filesystem::path tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot write " + tmp.string() + ": " + std::strerror(errno);
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const std::string msg = "cannot write " + tmp.string() + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return msg;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return "cannot save " + path.string() + ": " + std::strerror(errno);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string msg = "cannot save " + path.string() + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return msg;
    }
    return {};
}

UserDirs DefaultUserDirs() {
    auto env_path = [](const char* name) -> std::filesystem::path {
        const char* v = std::getenv(name);
        return (v && *v) ? std::filesystem::path(v) : std::filesystem::path();
    };
    std::filesystem::path home = env_path("HOME");
    if (home.empty()) home = "/tmp";
    std::filesystem::path data = env_path("XDG_DATA_HOME");
    if (data.empty()) data = home / ".local" / "share";
    std::filesystem::path config = env_path("XDG_CONFIG_HOME");
    if (config.empty()) config = home / ".config";
    return {data / "attune", config / "attune"};
}

std::vector<std::filesystem::path> AssetDirs() {
    std::vector<std::filesystem::path> dirs;
    if (const char* v = std::getenv("ATTUNE_ASSETS_DIR"); v && *v) dirs.emplace_back(v);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back(exe.parent_path() / ".." / "share" / "attune");
        dirs.push_back(exe.parent_path() / "assets");
    }
#ifdef ATTUNE_INSTALL_ASSETS_DIR
    dirs.emplace_back(ATTUNE_INSTALL_ASSETS_DIR);
#endif
#ifdef ATTUNE_SOURCE_ASSETS_DIR
    dirs.emplace_back(ATTUNE_SOURCE_ASSETS_DIR);
#endif
    std::vector<std::filesystem::path> existing;
    for (auto& d : dirs)
        if (std::filesystem::is_directory(d, ec)) existing.push_back(std::filesystem::weakly_canonical(d, ec));
    return existing;
}

std::vector<std::filesystem::path> JsonFilesIn(const std::filesystem::path& folder) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) return files;
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace attune::core
