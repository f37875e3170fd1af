// Calendar structs -> ISO 8601 text, as Elixir's Calendar.ISO and Duration write it
// (see etf_calendar.h).

#include "codec/etf_calendar.h"

#include <optional>

#include "codec/utf8.h"

namespace ds::codec {

namespace {

constexpr std::string_view kDate = "Elixir.Date";
constexpr std::string_view kTime = "Elixir.Time";
constexpr std::string_view kNaiveDateTime = "Elixir.NaiveDateTime";
constexpr std::string_view kDateTime = "Elixir.DateTime";
constexpr std::string_view kDuration = "Elixir.Duration";
constexpr std::string_view kIsoCalendar = "Elixir.Calendar.ISO";

// Calendar.ISO's zero_pad/2: at least `width` digits, the sign in front of the padding
// (-99 -> "-0099" for a year).
void AppendZeroPadded(std::string_view decimal, size_t width, std::string& out) {
  if (!decimal.empty() && decimal[0] == '-') {
    out.push_back('-');
    decimal.remove_prefix(1);
  }
  if (decimal.size() < width) out.append(width - decimal.size(), '0');
  out += decimal;
}

void AppendZeroPadded(uint64_t value, size_t width, std::string& out) {
  AppendZeroPadded(std::to_string(value), width, out);
}

// Reads the fields of one struct, with messages that name the field.
class StructFields {
 public:
  StructFields(const TermTree& tree, uint32_t map) : tree_(tree), map_(map) {}

  Status Field(std::string_view name, uint32_t* out) const {
    const std::optional<uint32_t> v = tree_.FindAtomKey(map_, name);
    if (!v) return Status::BadValue("it has no " + std::string(name) + " field");
    *out = *v;
    return Status::OK();
  }

  // Any integer (Date's year, month and day are not range-checked by Calendar.ISO).
  Status AnyInteger(std::string_view name, std::string* text) const {
    uint32_t v;
    if (Status s = Field(name, &v); !s.ok()) return s;
    const TermType type = tree_[v].type;
    if (type != TermType::kInteger && type != TermType::kBigInteger) return NotInteger(name);
    return tree_.IntegerText(v, text);
  }

  Status Int64(std::string_view name, int64_t* out) const {
    uint32_t v;
    if (Status s = Field(name, &v); !s.ok()) return s;
    return TermInt64(v, name, out);
  }

  Status Ranged(std::string_view name, int64_t lo, int64_t hi, int64_t* out) const {
    if (Status s = Int64(name, out); !s.ok() || (*out >= lo && *out <= hi)) return s;
    return Status::BadValue("its " + std::string(name) + " field must be an integer from " +
                            std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                            std::to_string(*out));
  }

  // The {value, precision} tuple of the microsecond field.
  Status Microsecond(int64_t* value, int64_t* precision) const {
    uint32_t v;
    if (Status s = Field("microsecond", &v); !s.ok()) return s;
    if (tree_[v].type != TermType::kTuple || tree_[v].children != 2) {
      return Status::BadValue("its microsecond field must be a {value, precision} tuple");
    }
    const uint32_t first = TermTree::FirstChild(v);
    if (Status s = TermInt64(first, "microsecond", value); !s.ok()) return s;
    return TermInt64(tree_.Next(first), "microsecond", precision);
  }

  // The module of the calendar field must be Calendar.ISO.
  Status IsoCalendar() const {
    uint32_t v;
    if (Status s = Field("calendar", &v); !s.ok()) return s;
    if (tree_.IsAtom(v, kIsoCalendar)) return Status::OK();
    const std::string name =
        tree_[v].type == TermType::kAtom ? tree_.AtomName(v) : std::string("a non-atom");
    return Status::BadValue("it uses calendar " + name +
                            "; only Calendar.ISO values can be stored (convert it first)");
  }

  // The binary in field `name`, or nullopt if the field holds something else.
  std::optional<std::string_view> Binary(uint32_t v) const {
    if (tree_[v].type != TermType::kBinary) return std::nullopt;
    return tree_[v].bytes;
  }

 private:
  Status TermInt64(uint32_t v, std::string_view name, int64_t* out) const {
    const TermType type = tree_[v].type;
    if (type != TermType::kInteger && type != TermType::kBigInteger) return NotInteger(name);
    const std::optional<int64_t> i = tree_.Int64(v);
    if (!i) return Status::BadValue("its " + std::string(name) + " field is out of range");
    *out = *i;
    return Status::OK();
  }
  static Status NotInteger(std::string_view name) {
    return Status::BadValue("its " + std::string(name) + " field must be an integer");
  }

  const TermTree& tree_;
  uint32_t map_;
};

// Calendar.ISO.date_to_iodata/3: "2024-01-31", "-0099-01-31".
Status AppendDate(const StructFields& f, std::string& out) {
  std::string year;
  std::string month;
  std::string day;
  if (Status s = f.AnyInteger("year", &year); !s.ok()) return s;
  if (Status s = f.AnyInteger("month", &month); !s.ok()) return s;
  if (Status s = f.AnyInteger("day", &day); !s.ok()) return s;
  AppendZeroPadded(year, 4, out);
  out.push_back('-');
  AppendZeroPadded(month, 2, out);
  out.push_back('-');
  AppendZeroPadded(day, 2, out);
  return Status::OK();
}

// Calendar.ISO.microseconds_to_iodata/2: `precision` digits of the fraction, truncated.
void AppendFraction(int64_t microsecond, int64_t precision, std::string& out) {
  static constexpr int64_t kScale[7] = {0, 100000, 10000, 1000, 100, 10, 1};
  AppendZeroPadded(static_cast<uint64_t>(microsecond / kScale[precision]),
                   static_cast<size_t>(precision), out);
}

// Calendar.ISO.time_to_iodata/4 with its guards: "13:45:00", "13:45:00.120".
Status AppendTime(const StructFields& f, std::string& out) {
  int64_t hour;
  int64_t minute;
  int64_t second;
  int64_t microsecond;
  int64_t precision;
  if (Status s = f.Ranged("hour", 0, 23, &hour); !s.ok()) return s;
  if (Status s = f.Ranged("minute", 0, 59, &minute); !s.ok()) return s;
  if (Status s = f.Ranged("second", 0, 59, &second); !s.ok()) return s;
  if (Status s = f.Microsecond(&microsecond, &precision); !s.ok()) return s;
  if (microsecond < 0 || microsecond > 999999 || precision < 0 || precision > 6) {
    return Status::BadValue("its microsecond field must be {0..999999, 0..6}, not {" +
                            std::to_string(microsecond) + ", " + std::to_string(precision) + "}");
  }
  AppendZeroPadded(static_cast<uint64_t>(hour), 2, out);
  out.push_back(':');
  AppendZeroPadded(static_cast<uint64_t>(minute), 2, out);
  out.push_back(':');
  AppendZeroPadded(static_cast<uint64_t>(second), 2, out);
  if (precision > 0) {
    out.push_back('.');
    AppendFraction(microsecond, precision, out);
  }
  return Status::OK();
}

// Calendar.ISO.offset_to_iodata/4 (extended format): "Z" only for Etc/UTC at offset zero,
// otherwise "+01:00" / "-05:30" (seconds of the offset are not shown).
void AppendOffset(int64_t utc_offset, int64_t std_offset, bool etc_utc, std::string& out) {
  if (utc_offset == 0 && std_offset == 0 && etc_utc) {
    out.push_back('Z');
    return;
  }
  const __int128 total = static_cast<__int128>(utc_offset) + std_offset;
  const auto magnitude = static_cast<unsigned __int128>(total < 0 ? -total : total);
  out.push_back(total < 0 ? '-' : '+');
  AppendZeroPadded(static_cast<uint64_t>(magnitude / 3600), 2, out);
  out.push_back(':');
  AppendZeroPadded(static_cast<uint64_t>(magnitude % 3600 / 60), 2, out);
}

Status FormatDateTime(const StructFields& f, StructText form, std::string& out) {
  if (Status s = AppendDate(f, out); !s.ok()) return s;
  out.push_back(form == StructText::kJson ? 'T' : ' ');
  if (Status s = AppendTime(f, out); !s.ok()) return s;
  int64_t utc_offset;
  int64_t std_offset;
  uint32_t zone;
  if (Status s = f.Int64("utc_offset", &utc_offset); !s.ok()) return s;
  if (Status s = f.Int64("std_offset", &std_offset); !s.ok()) return s;
  if (Status s = f.Field("time_zone", &zone); !s.ok()) return s;
  const std::optional<std::string_view> zone_name = f.Binary(zone);
  const bool etc_utc = zone_name == "Etc/UTC";
  if (form == StructText::kJson) {
    // JSON.Encoder.DateTime compares time_zone with "Etc/UTC" and uses nothing else of it.
    AppendOffset(utc_offset, std_offset, etc_utc, out);
    return Status::OK();
  }
  // DateTime.to_string/1 (Calendar.ISO.datetime_to_string/11) requires binaries for the zone
  // and its abbreviation, and names both unless the zone is Etc/UTC.
  uint32_t abbr;
  if (Status s = f.Field("zone_abbr", &abbr); !s.ok()) return s;
  const std::optional<std::string_view> abbr_name = f.Binary(abbr);
  if (!zone_name || !abbr_name) {
    return Status::BadValue("its time_zone and zone_abbr fields must be strings");
  }
  AppendOffset(utc_offset, std_offset, etc_utc, out);
  if (!etc_utc) {
    out.push_back(' ');
    out += *abbr_name;
    out.push_back(' ');
    out += *zone_name;
  }
  return Status::OK();
}

// Duration.to_iso8601/1: "P1Y2M3DT4H5M6.5S", "PT0S" when everything is zero; units that are
// zero are left out, and negative units keep their sign ("P-1M").
Status FormatDuration(const StructFields& f, std::string& out) {
  int64_t year, month, week, day, hour, minute, second, microsecond, precision;
  if (Status s = f.Int64("year", &year); !s.ok()) return s;
  if (Status s = f.Int64("month", &month); !s.ok()) return s;
  if (Status s = f.Int64("week", &week); !s.ok()) return s;
  if (Status s = f.Int64("day", &day); !s.ok()) return s;
  if (Status s = f.Int64("hour", &hour); !s.ok()) return s;
  if (Status s = f.Int64("minute", &minute); !s.ok()) return s;
  if (Status s = f.Int64("second", &second); !s.ok()) return s;
  if (Status s = f.Microsecond(&microsecond, &precision); !s.ok()) return s;

  auto pair = [&out](int64_t n, char unit) {
    if (n == 0) return;
    out += std::to_string(n);
    out.push_back(unit);
  };
  out.push_back('P');
  const size_t start = out.size();
  pair(year, 'Y');
  pair(month, 'M');
  pair(week, 'W');
  pair(day, 'D');
  if (hour != 0 || minute != 0 || second != 0 || microsecond != 0) {
    out.push_back('T');
    pair(hour, 'H');
    pair(minute, 'M');
    if (second != 0 || microsecond != 0) {
      if (precision == 0) {
        out += std::to_string(second);  // the fraction is dropped when the precision is 0
      } else {
        if (precision < 0 || precision > 6) {
          return Status::BadValue("its microsecond precision must be from 0 to 6, not " +
                                  std::to_string(precision));
        }
        // Seconds and microseconds are combined first, so {1, -200000} is "0.800000".
        const __int128 total = static_cast<__int128>(second) * 1000000 + microsecond;
        const auto magnitude = static_cast<unsigned __int128>(total < 0 ? -total : total);
        if (total < 0) out.push_back('-');
        const auto whole = magnitude / 1000000;
        if (whole > UINT64_MAX) return Status::BadValue("its second field is out of range");
        out += std::to_string(static_cast<uint64_t>(whole));
        out.push_back('.');
        AppendFraction(static_cast<int64_t>(magnitude % 1000000), precision, out);
      }
      out.push_back('S');
    }
  }
  if (out.size() == start) out += "T0S";
  return Status::OK();
}

}  // namespace

bool IsCalendarStruct(std::string_view module, StructText form) {
  if (module == kDate || module == kTime || module == kNaiveDateTime || module == kDateTime) {
    return true;
  }
  return module == kDuration && form == StructText::kJson;
}

Status FormatCalendarStruct(const TermTree& tree, uint32_t map, std::string_view module,
                            StructText form, std::string* out) {
  const StructFields f(tree, map);
  out->clear();
  if (module == kDuration) return FormatDuration(f, *out);
  if (Status s = f.IsoCalendar(); !s.ok()) return s;
  if (module == kDate) return AppendDate(f, *out);
  if (module == kTime) return AppendTime(f, *out);
  if (module == kNaiveDateTime) {
    if (Status s = AppendDate(f, *out); !s.ok()) return s;
    out->push_back(form == StructText::kJson ? 'T' : ' ');
    return AppendTime(f, *out);
  }
  if (Status s = FormatDateTime(f, form, *out); !s.ok()) return s;
  // Only the map-key form copies bytes (the zone names) from the input.
  if (!IsValidUtf8Text(*out)) return Status::BadValue("its time zone names are not valid UTF-8");
  return Status::OK();
}

}  // namespace ds::codec
