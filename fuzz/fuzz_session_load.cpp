// Fuzz target: reading a session folder back (app/core session_data, session_store, profiles,
// report). The input holds the files of one session separated by "\n@@FILE@@\n", in this order:
// session.json, beats.csv, waveform.csv, pacer.csv, metrics.csv, events.csv, profile.json.
// They are written into <scratch>/profiles/p/sessions/s/ and then everything that reads a
// session runs on them: LoadSession (with the waveform), SessionStore listing, LoadMeta,
// SummarizeFromStreams, interrupted-session recovery (when session.json says "recording"),
// trends, the HTML report and the profile settings loader.
// Invariants: no crash or exception; a loaded session's rows have finite times.
#include <cmath>
#include <cstdint>
#include <sstream>

#include "attune/core/profiles.hpp"
#include "attune/core/recorder.hpp"
#include "attune/core/report.hpp"
#include "attune/core/session_data.hpp"
#include "attune/core/session_store.hpp"
#include "fuzz_util.hpp"

namespace af = attune::fuzz;
using namespace attune::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const char* kFiles[] = {"session.json", "beats.csv", "waveform.csv", "pacer.csv",
                                   "metrics.csv", "events.csv", "profile.json"};
    const auto parts = af::Split(std::string_view(reinterpret_cast<const char*>(data), size), "\n@@FILE@@\n", 7);
    const auto root = af::ScratchDir() / "data";
    af::ResetDir(root);
    const auto folder = root / "profiles" / "p" / "sessions" / "s";
    std::filesystem::create_directories(folder);
    for (std::size_t i = 0; i < parts.size(); ++i)
        af::WriteFile(i == 6 ? root / "profiles" / "p" / "profile.json" : folder / kFiles[i], parts[i]);

    std::string error;
    SessionLoadOptions opt;
    opt.load_waveform = true;
    opt.max_waveform_points = 64;
    if (auto s = LoadSession(folder, error, opt)) {
        for (const auto& b : s->beats) ATTUNE_FUZZ_CHECK(std::isfinite(b.t_s) && std::isfinite(b.ibi_ms));
        for (const auto& e : s->events) ATTUNE_FUZZ_CHECK(std::isfinite(e.t_s));
        ATTUNE_FUZZ_CHECK(s->waveform.size() <= opt.max_waveform_points);
        (void)s->LastTimeS();
        (void)RenderReportHtml(*s);
    }
    SessionMeta meta;
    (void)SessionStore::LoadMeta(folder, meta, error);
    (void)SummarizeFromStreams(folder, &error);
    SessionStore store(root);
    (void)store.RecoverInterrupted();
    const auto list = store.ListSessions();
    (void)ComputeTrends(list);
    std::ostringstream out, err;
    (void)SessionsCommand(root, "", true, out, err);
    (void)LoadProfileSettings(root, "p");
    return 0;
}
