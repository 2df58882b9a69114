// State of the session windows (journal_window.cpp: distress ratings and note; history_window.cpp:
// past sessions, trends, delete, export, report; timeline_view.cpp: baseline -> practice ->
// recovery). Held by AppState; only the main thread touches it.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "attune/core/session_history.hpp"
#include "attune/core/session_store.hpp"

namespace attune::ui {

struct SessionUi {
    // From the command line (scripted runs): ratings and note applied to the run's session, the
    // session time at which recovery begins.
    std::optional<int> cli_before, cli_after;
    std::string cli_note;
    std::optional<double> recovery_at_s;

    // Journal: "before" is asked when the user starts a session, "after" when it stops.
    bool ask_before = false;       // the popup is wanted (opened at the next frame)
    int before_value = -1;         // -1: not chosen
    std::optional<int> pending_before;  // applied to the next session that starts
    bool ask_after = false;
    int after_value = -1;
    std::array<char, core::kMaxNoteBytes + 1> note{};
    std::filesystem::path asked_after_for;  // the recording the "after" popup was shown for
    std::filesystem::path last_folder;      // the last recorded session (for Report)
    std::string journal_message;
    bool recovery_checked = false;          // interrupted sessions looked for at start

    // History.
    bool history_open = false;
    bool history_loaded = false;
    std::vector<core::HistoryRow> rows;
    core::TrendReport trends;
    int selected = -1;              // index into rows
    bool trends_weekly = false;
    bool confirm_delete = false;
    std::array<char, 1024> export_dir{};
    std::string history_message;
};

}  // namespace attune::ui
