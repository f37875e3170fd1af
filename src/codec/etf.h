// Erlang external term format (ETF) <-> JsonValue.
//
// BEAM clients (the Elixir adapter, after `DS.CODEC ETF`) send each value as
// `:erlang.term_to_binary(term)`. DecodeEtf applies the normalization of SPEC §3 — exactly what
// `term |> JSON.encode!() |> JSON.decode!()` gives in Elixir 1.18+: atoms become strings (but
// nil/true/false), map keys become strings, Date/Time/NaiveDateTime/DateTime/Duration structs
// become ISO 8601 strings. Everything JSON.encode! would refuse (tuples, pids, ports,
// references, funs, improper lists, non-UTF-8 binaries, bitstrings, other structs) and maps
// whose keys collide after stringification are rejected with Status::BadValue whose message
// names the offending type and where it sits inside the value (e.g. "a tuple at [2].pos").
//
// The decoder is written by hand rather than with erl_interface's `ei`: ei's decode functions
// take no buffer length and trust the input, while these bytes come from the network.
// Every read here is bounds-checked, and the decoder is fuzzed (fuzz/etf_fuzzer.cc).
//
// EncodeEtf turns a normalized value back into the term a BEAM client expects: string-keyed
// maps, lists, binaries, integers, floats and the atoms nil/true/false.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "codec/json_value.h"
#include "common/result.h"

namespace ds::codec {

struct EtfLimits {
  size_t max_depth = 256;
};

Result<JsonValue> DecodeEtf(std::string_view bytes, const EtfLimits& limits = {});

// Full term including the leading version byte 131.
std::string EncodeEtf(const JsonValue& value);

}  // namespace ds::codec
