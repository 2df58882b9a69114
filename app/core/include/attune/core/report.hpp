// Session report and exports: `attune report SESSION --out report.html`.
//
// The report is ONE self-contained HTML page: inline CSS and inline SVG, no script, no external
// font, image or link (it must open offline, years later, and leak nothing when opened), A4
// print styles with a page break between sections. Every string that came from the user or from
// the session files is HTML-escaped. Figures come from session.json's summary (the numbers the
// app showed at the end of the session); the spectrum is computed here from beats.csv:
// intervals artifact-corrected offline (dsp/artifacts.hpp, Lipponen & Tarvainen 2019) then the
// Task Force 1996 Welch spectrum (dsp/hrv_freq.hpp). Anything missing reads "not available".
//
// Exports:
//   * RR text (Kubios HRV "custom ASCII" and spreadsheets): a block of '#' comment lines, one
//     header line of column names, then one row per recorded interval, TAB separated:
//       time_s  rr_ms  flag  pacer_rate_bpm  pacer_phase  annotation
//     Kubios reads custom ASCII by skipping a fixed number of header lines and taking the RR
//     column (ms) from a separated text file; the first comment line states the exact number of
//     lines to skip and the column to pick. Intervals are the raw recorded ones, flags included
//     (Kubios applies its own artifact correction); text cells never hold a TAB or newline and
//     an empty text cell is written "-" so every row has six cells.
//   * RR plain: one interval in ms per line and nothing else (the most portable form: Kubios
//     "RR interval ASCII", Elite HRV, HRVanalysis, RHRV, neurokit...).
//   * CSV: the streams re-written in canonical column order (and session.json), into a folder.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>

#include "attune/core/session_data.hpp"

namespace attune::core {

std::string RenderReportHtml(const SessionData& data);

// Each returns error text, empty on success. Files are written atomically, mode 0600.
std::string ExportRrText(const SessionData& data, const std::filesystem::path& path);
std::string ExportRrPlain(const SessionData& data, const std::filesystem::path& path);
// Writes session.json, beats.csv, pacer.csv, metrics.csv, events.csv (those present) and copies
// waveform.csv (streamed, never loaded) into out_folder, created 0700 when missing.
std::string ExportCsv(const SessionData& data, const std::filesystem::path& out_folder);

// Finds a session: an existing folder holding session.json, or an id looked up under
// data_dir/profiles/*/sessions/<id>. Returns the folder, or empty with `error` set.
std::filesystem::path FindSessionFolder(const std::filesystem::path& data_dir, const std::string& session,
                                        std::string& error);

// `attune report SESSION --out FILE`. Exit codes: 0 written; 3 session not found or unreadable,
// or FILE cannot be written (message on err).
int ReportCommand(const std::filesystem::path& data_dir, const std::string& session,
                  const std::filesystem::path& out, std::ostream& err);

// HTML text escaping (& < > " '), exposed for tests.
std::string HtmlEscape(const std::string& s);

}  // namespace attune::core
