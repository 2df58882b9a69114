// attune: breathing and HRV biofeedback trainer.
//   attune                       the app (simulated heart when no sensor is configured)
//   attune --headless ...        the same app offscreen, for tests and scripted runs
// Exit status: 0 ok, 1 no display, 2 usage error, 3 bad input or unwritable output.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "attune/core/analyze.hpp"
#include "attune/core/json_text.hpp"
#include "attune/core/fs_util.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/report.hpp"
#include "attune/core/session_history.hpp"
#include "attune/core/session_store.hpp"
#include "attune/core/session_data.hpp"
#include "attune/core/settings.hpp"
#include "ui/app_main.hpp"
#include "ui/app_state.hpp"
#include "ui/sound_access_cli.hpp"

namespace {

std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

int RunAnalyze(const attune::core::AnalyzeOptions& options, const std::string& beats_out, bool json) {
    const auto result = attune::core::Analyze(options);
    if (!result.error.empty()) {
        std::fprintf(stderr, "attune analyze: %s\n", result.error.c_str());
        return 3;
    }
    if (!beats_out.empty()) {
        if (std::string e = attune::core::WriteBeatsFile(beats_out, result, options.signal); !e.empty()) {
            std::fprintf(stderr, "attune analyze: %s\n", e.c_str());
            return 3;
        }
    }
    if (json) std::cout << attune::core::DumpJson(AnalyzeJson(result)) << std::endl;
    else std::cout << attune::core::AnalyzeReport(result);
    return 0;
}

int RunPorts(bool json) {
    const auto list = attune::devices::EnumeratePorts();
    if (!list.error.empty()) {
        std::fprintf(stderr, "attune ports: %s\n", list.error.c_str());
        return 3;
    }
    const auto ranked = attune::devices::RankPorts(list.ports);
    if (json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& p : ranked)
            arr.push_back({{"name", p.info.name}, {"description", p.info.description},
                           {"usb_id", attune::devices::FormatUsbId(p.info.usb_vid, p.info.usb_pid)},
                           {"manufacturer", p.info.manufacturer}, {"product", p.info.product},
                           {"serial_number", p.info.serial_number}, {"kind", attune::devices::PortKindName(p.kind)},
                           {"rank", p.score}, {"likely_sensor", attune::core::IsLikelySensorPort(p)}});
        std::cout << attune::core::DumpJson(nlohmann::json{{"ports", arr}}) << std::endl;
        return 0;
    }
    if (ranked.empty()) std::cout << "No serial ports found. Plug the sensor in (and check you are in the dialout group).\n";
    for (const auto& p : ranked) {
        const std::string id = attune::devices::FormatUsbId(p.info.usb_vid, p.info.usb_pid);
        std::printf("%-16s %-10s %-28s %s%s\n", p.info.name.c_str(), id.empty() ? "-" : id.c_str(), p.hint.c_str(),
                    p.info.description.c_str(), p.info.serial_number.empty() ? "" : (" SN " + p.info.serial_number).c_str());
    }
    return 0;
}

int main(int argc, char** argv) {
    CLI::App cli{"Attune: paced breathing with heart-rate-variability biofeedback"};
    cli.set_version_flag("--version", "attune 0.1.0");
    cli.fallthrough();  // --data-dir / --config-dir / --profile also work after a subcommand
    attune::ui::AppOptions opt;
    std::string opt_capture;
    std::string preset_name, data_dir, config_dir;
    double speed = 1.0;
    double sim_resonance_bpm = 5.5;
    std::uint64_t seed = 1;
    cli.add_flag("--headless", opt.headless, "Run offscreen (no display needed) and exit after --duration");
    cli.add_option("--duration", opt.duration_s, "Headless: session length to run, in seconds")->check(CLI::Range(0.1, 86400.0 * 7));
    cli.add_option("--speed", speed, "Simulated time runs this many times faster than real time")->check(CLI::Range(0.1, 100000.0));
    cli.add_option("--preset", preset_name, "Breathing preset by id or name (e.g. resonance, box, 4-7-8)");
    std::string program_name;
    cli.add_option("--program", program_name, "Guided program by id or name (e.g. daily-resonance, resonance-assessment); headless runs it to its end");
    cli.add_option("--screenshot", opt.screenshot, "Headless: write a PNG of the last frame");
    cli.add_flag("--json", opt.json, "Headless: print a JSON summary of the run on stdout");
    cli.add_option("--data-dir", data_dir, "Folder for recorded sessions (default $XDG_DATA_HOME/attune)");
    cli.add_option("--config-dir", config_dir, "Folder for settings and user presets (default $XDG_CONFIG_HOME/attune)");
    cli.add_option("--width", opt.width, "Window width in pixels")->check(CLI::Range(320, 8192));
    cli.add_option("--height", opt.height, "Window height in pixels")->check(CLI::Range(240, 8192));
    cli.add_option("--sim-resonance-bpm", sim_resonance_bpm, "Simulated heart: resonance breathing rate (breaths/min)")->check(CLI::Range(2.0, 15.0));
    cli.add_option("--seed", seed, "Simulated heart: random seed");
    std::string source_text = "sim";
    cli.add_option("--source", source_text, "sim | serial:PORT[@BAUD] | tty:PATH[@BAUD] | replay:FILE[@SPEED] | auto");
    cli.add_option("--capture", opt_capture, "Save the raw bytes received (for bug reports and replay)");
    cli.add_option("--beats-out", opt.beats_out, "Write the accepted beats (t_s,ibi_ms,flag) when the run ends");
    std::string beats_from = "auto";
    cli.add_option("--beats-from", beats_from, "auto: the sensor's own intervals when it sends them, else Attune's detector; sensor; detector")
        ->check(CLI::IsMember({"auto", "sensor", "detector"}));
    std::string profile = "default";
    bool no_record = false;
    cli.add_option("--profile", profile, "Pseudonymous profile the sessions are kept under (e.g. client-07)");
    cli.add_flag("--no-record", no_record, "Do not keep this session on disk");
    std::string view = "practitioner";
    cli.add_option("--view", view, "Start in the practitioner view (signals, metrics, controls) or the calm client view (Tab switches)")
        ->check(CLI::IsMember({"practitioner", "client"}));
    attune::ui::SoundAccessCli sound_access;
    sound_access.Add(cli);

    // Ratings, note, recovery and windows for scripted runs (the app asks in a popup).
    int rating_before = -1, rating_after = -1;
    std::string note_text, show_window;
    double recovery_at_s = -1.0;
    cli.add_option("--rating-before", rating_before, "Headless: distress before the session, 0-10")->check(CLI::Range(0, 10));
    cli.add_option("--rating-after", rating_after, "Headless: distress after the session, 0-10")->check(CLI::Range(0, 10));
    cli.add_option("--note", note_text, "Headless: a note kept with the session");
    cli.add_option("--recovery-at", recovery_at_s, "End pacing and begin the recovery phase at this session time (s)")->check(CLI::Range(0.0, 86400.0 * 7));
    cli.add_option("--show", show_window, "Open a window at start: history")->check(CLI::IsMember({"history"}));

    // attune analyze INPUT --signal ecg|ppg|rr [--rate HZ] [--column NAME|INDEX] [--invert] [--beats-out FILE] [--json]
    CLI::App* analyze = cli.add_subcommand("analyze", "Detect beats and compute HRV from a recording (text, CSV, WFDB, RR list)");
    attune::core::AnalyzeOptions analyze_opt;
    std::string analyze_signal, beats_out;
    bool analyze_json = false;
    double analyze_rate = 0.0;
    analyze->add_option("INPUT", analyze_opt.input, "Text/CSV/TSV signal, WFDB .hea record, RR list or WFDB .atr")->required();
    analyze->add_option("--signal", analyze_signal, "Kind of input: ecg, ppg or rr")->required()->check(CLI::IsMember({"ecg", "ppg", "rr"}));
    analyze->add_option("--rate", analyze_rate, "Sample rate in Hz (text signals; WFDB records carry their own)");
    analyze->add_option("--column", analyze_opt.column, "Column name or 0-based index (text), signal name or index (WFDB)");
    analyze->add_flag("--invert", analyze_opt.invert, "PPG whose pulse is a dip (raw MAX3010x IR); by default polarity is detected");
    analyze->add_option("--beats-out", beats_out, "Write beats: t_s per line (ecg/ppg) or t_s,ibi_ms,flag (rr)");
    analyze->add_flag("--json", analyze_json, "Print one JSON object instead of the readable report");

    // attune report SESSION --out report.html [--rr-out FILE] [--rr-plain-out FILE] [--csv-out DIR]
    CLI::App* report = cli.add_subcommand("report", "Write a self-contained HTML report (and exports) of a recorded session");
    std::string report_session, report_out, rr_out, rr_plain_out, csv_out;
    report->add_option("SESSION", report_session, "Session id (see `attune sessions`) or session folder")->required();
    report->add_option("--out", report_out, "HTML file to write")->required();
    report->add_option("--rr-out", rr_out, "Also write RR intervals with pacer rate/phase and annotations (Kubios custom ASCII)");
    report->add_option("--rr-plain-out", rr_plain_out, "Also write one RR interval (ms) per line");
    report->add_option("--csv-out", csv_out, "Also export the recorded streams as CSV into this folder");

    // attune ports [--json]
    CLI::App* ports = cli.add_subcommand("ports", "List serial ports, most likely sensor first");
    bool ports_json = false;
    ports->add_flag("--json", ports_json, "Print one JSON object");

    // attune sessions [--profile NAME] [--json]
    CLI::App* sessions = cli.add_subcommand("sessions", "List recorded sessions with their key figures");
    std::string sessions_profile;
    bool sessions_json = false;
    sessions->add_option("--profile", sessions_profile, "Only this profile");
    sessions->add_flag("--json", sessions_json, "Print one JSON object");
    attune::core::SessionsCliOptions sessions_opt;
    sessions->add_flag("--trends", sessions_opt.trends, "Per-day and per-week trends of the profile");
    sessions->add_option("--delete", sessions_opt.delete_id, "Move this session to the trash (<data>/trash)");
    sessions->add_option("--export", sessions_opt.export_id, "Export this session (report, RR, CSV) into --to");
    sessions->add_option("--to", sessions_opt.export_to, "Folder for --export (default ~/Attune exports)");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = cli.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (analyze->parsed()) {
        analyze_opt.signal = analyze_signal == "ecg" ? attune::core::AnalyzeSignal::Ecg
                             : analyze_signal == "rr" ? attune::core::AnalyzeSignal::Rr
                                                      : attune::core::AnalyzeSignal::Ppg;
        if (analyze->count("--rate") > 0) analyze_opt.rate_hz = analyze_rate;
        return RunAnalyze(analyze_opt, beats_out, analyze_json);
    }
    const auto user_dirs = attune::core::DefaultUserDirs();
    const std::filesystem::path resolved_data_dir = data_dir.empty() ? user_dirs.data_dir : std::filesystem::path(data_dir);
    if (ports->parsed()) return RunPorts(ports_json);
    if (sessions->parsed()) {
        sessions_opt.profile = sessions_profile;
        sessions_opt.json = sessions_json;
        return attune::core::RunSessionsCli(resolved_data_dir, sessions_opt, std::cout, std::cerr);
    }
    if (report->parsed()) {
        const int rc = attune::core::ReportCommand(resolved_data_dir, report_session, report_out, std::cerr);
        if (rc != 0 || (rr_out.empty() && rr_plain_out.empty() && csv_out.empty())) return rc;
        std::string error;
        const auto folder = attune::core::FindSessionFolder(resolved_data_dir, report_session, error);
        auto data = attune::core::LoadSession(folder, error);
        if (!data) {
            std::fprintf(stderr, "attune report: %s\n", error.c_str());
            return 3;
        }
        for (const auto& [path, fn] : {std::pair{rr_out, &attune::core::ExportRrText}, std::pair{rr_plain_out, &attune::core::ExportRrPlain}}) {
            if (path.empty()) continue;
            if (std::string e = fn(*data, path); !e.empty()) {
                std::fprintf(stderr, "attune report: %s\n", e.c_str());
                return 3;
            }
        }
        if (!csv_out.empty())
            if (std::string e = attune::core::ExportCsv(*data, csv_out); !e.empty()) {
                std::fprintf(stderr, "attune report: %s\n", e.c_str());
                return 3;
            }
        return 0;
    }
    if (!opt.headless && (!opt.screenshot.empty() || opt.json)) {
        std::fprintf(stderr, "attune: --screenshot and --json need --headless\n");
        return 2;
    }

    attune::ui::AppState app;
    app.data_dir = resolved_data_dir;
    app.config_dir = config_dir.empty() ? user_dirs.config_dir : std::filesystem::path(config_dir);
    app.speed = opt.headless ? speed : 1.0;
    if (std::string e = attune::core::ValidateProfileName(profile); !e.empty()) {
        std::fprintf(stderr, "attune: --profile: %s\n", e.c_str());
        return 2;
    }
    app.profile = profile;
    std::string source_error;
    auto spec = attune::core::ParseSourceSpec(source_text, source_error);
    if (!spec) {
        std::fprintf(stderr, "attune: --source: %s\n", source_error.c_str());
        return 2;
    }
    app.source_spec = *spec;
    app.pipeline.beat_source = beats_from == "detector" ? attune::core::BeatSourceMode::Detector
                               : beats_from == "sensor" ? attune::core::BeatSourceMode::Sensor
                                                        : attune::core::BeatSourceMode::Auto;
    app.capture_path = opt_capture;
    // Hardware delivers bytes in real time: simulated time cannot run faster than that.
    if (spec->kind != attune::core::SourceSpec::Kind::Sim && spec->kind != attune::core::SourceSpec::Kind::Auto) app.speed = 1.0;
    app.record = !no_record;
    app.view = view == "client" ? attune::ui::AppState::View::Client : attune::ui::AppState::View::Practitioner;
    app.sim_params.resonance_bpm = sim_resonance_bpm;
    app.sim_params.seed = seed;
    if (rating_before >= 0) app.session_ui.cli_before = rating_before;
    if (rating_after >= 0) app.session_ui.cli_after = rating_after;
    app.session_ui.cli_note = note_text;
    if (recovery_at_s >= 0.0) app.session_ui.recovery_at_s = recovery_at_s;
    app.session_ui.history_open = show_window == "history";

    auto loaded_settings = attune::core::LoadSettings(app.config_dir);
    app.settings = loaded_settings.settings;
    if (!loaded_settings.warning.empty()) {
        std::fprintf(stderr, "attune: %s\n", loaded_settings.warning.c_str());
        app.messages.push_back(loaded_settings.warning);
    }
    sound_access.Apply(app);

    for (const auto& d : attune::core::AssetDirs()) app.preset_dirs.push_back(d / "presets");
    app.preset_dirs.push_back(app.config_dir / "presets");
    auto loaded = attune::core::LoadPresets(app.preset_dirs);
    app.presets = loaded.presets;
    for (const auto& e : loaded.errors) {
        std::fprintf(stderr, "attune: preset skipped: %s\n", e.c_str());
        app.messages.push_back("Preset skipped: " + e);
    }
    if (app.presets.empty()) {
        std::fprintf(stderr, "attune: no preset files found; using coherent breathing 6/min\n");
        app.presets.push_back(attune::core::DefaultPattern());
    }

    // Pick the pattern: --preset, else the remembered one (or the custom pattern), else the first.
    const std::string wanted = preset_name.empty() ? app.settings.preset_id : preset_name;
    bool found = false;
    if (preset_name.empty() && wanted == "custom" && app.settings.custom_pattern) {
        app.pattern = *app.settings.custom_pattern;
        app.pattern_is_custom = true;
        found = true;
    }
    for (std::size_t i = 0; i < app.presets.size() && !found; ++i) {
        if (Lower(app.presets[i].id) == Lower(wanted) || Lower(app.presets[i].name) == Lower(wanted)) {
            attune::ui::SelectPreset(app, i);
            found = true;
        }
    }
    if (!found) {
        if (!preset_name.empty()) {
            std::fprintf(stderr, "attune: unknown preset '%s'; available:", preset_name.c_str());
            for (const auto& p : app.presets) std::fprintf(stderr, " %s", p.id.c_str());
            std::fprintf(stderr, "\n");
            return 2;
        }
        attune::ui::SelectPreset(app, 0);
    }
    if (int rc = attune::ui::SetUpPrograms(app, program_name); rc != 0) return rc;
    if (!program_name.empty() && cli.count("--duration") == 0) opt.duration_s = 86400.0 * 7;  // until the program ends
    return attune::ui::RunApp(app, opt);
}
