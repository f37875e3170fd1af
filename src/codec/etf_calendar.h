// Elixir's calendar structs as the strings JSON.encode! makes of them.
//
// Date, Time, NaiveDateTime, DateTime and Duration implement JSON.Encoder with their ISO 8601
// text, so a stashed ~U[2024-01-31 13:45:00Z] is recovered as "2024-01-31T13:45:00Z". As map
// keys they go through String.Chars instead (JSON.Encoder's map key rule), whose text differs:
// a space instead of the 'T', and a DateTime outside Etc/UTC also shows its zone
// ("2024-01-31 13:45:00+01:00 CET Europe/Paris"); Duration has no String.Chars.
//
// The formats follow Calendar.ISO (elixir lib/elixir/lib/calendar/iso.ex) and
// Duration.to_iso8601/1 (duration.ex) to the byte, including their guards: a struct that
// Elixir's encoder would refuse (an hour of 24, a microsecond precision of 7, a calendar other
// than Calendar.ISO) is refused here too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codec/etf_reader.h"
#include "common/status.h"

namespace ds::codec {

enum class StructText {
  kJson,    // the value as JSON.encode! writes it: to_iso8601/1
  kMapKey,  // the struct used as a map key: String.Chars.to_string/1
};

// True when `module` (e.g. "Elixir.Date") is a struct this file formats as `form`.
bool IsCalendarStruct(std::string_view module, StructText form);

// Formats struct `map` of module `module`. REQUIRES: IsCalendarStruct(module, form).
// On failure returns Status::BadValue saying what is wrong with the struct, without saying
// where it is (the caller adds that), or Status::Limit for an enormous integer field.
Status FormatCalendarStruct(const TermTree& tree, uint32_t map, std::string_view module,
                            StructText form, std::string* out);

}  // namespace ds::codec
