// Logger: one structured line per event on stderr (SPEC §7).
//
//   logger.Info("listening", {{"addr", "127.0.0.1:7379"}, {"shards", "2"}});
//   -> ts=2026-11-27T21:50:01.123Z level=info event=listening addr=127.0.0.1:7379 shards=2
//
// The format is logfmt: key=value pairs, values quoted when they contain spaces or quotes.
// Session values never go into a log line; session keys may (they are HMACs, not cookies).
//
// Thread safety: Log may be called from any thread; each line is written with one call.
// There is no global logger: components receive a Logger& from whoever owns them.
#pragma once

#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ds {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N>
  requires std::is_arithmetic_v<N> LogField(std::string_view k, N n)
      : key(k), value(std::to_string(n)) {}
};

class Logger {
 public:
  // Lines below `min_level` are dropped. `sink` receives each complete line (with newline);
  // by default lines go to stderr.
  explicit Logger(LogLevel min_level = LogLevel::kInfo);
  Logger(LogLevel min_level, std::function<void(std::string_view)> sink);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void Debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kDebug, event, fields);
  }
  void Info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kInfo, event, fields);
  }
  void Warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kWarn, event, fields);
  }
  void Error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kError, event, fields);
  }
  bool Enabled(LogLevel level) const { return level >= min_level_; }

 private:
  LogLevel min_level_;
  std::function<void(std::string_view)> sink_;
  std::mutex mu_;
};

// Parses "debug", "info", "warn", "error".
bool ParseLogLevel(std::string_view name, LogLevel* out);

}  // namespace ds
