// libFuzzer target for ParseJson (JSON text arrives from non-BEAM clients).
//
// Besides not crashing (ASan/UBSan catch memory errors and undefined behaviour), every input
// that is accepted must satisfy the canonical-form invariants:
//   - the canonical text parses back to an equal value and re-serializes to the same bytes;
//   - the value survives the other codec: DecodeEtf(EncodeEtf(v)) == v, so whatever a JSON
//     client stashes, a BEAM client can recover;
//   - the fast path is sound: IsCanonicalJson(input) holds only if the input parses and
//     re-serializes to itself, since the daemon then stores the input as it came, without
//     parsing it. (It may say no to some canonical texts, e.g. keys with escapes: those take
//     the full path, which is only slower.)

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/etf.h"
#include "codec/json.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ds::codec;  // NOLINT(google-build-using-namespace)
  using ds::Result;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<JsonValue> value = ParseJson(input);
  const bool canonical = IsCanonicalJson(input);
  if (!value.ok()) {
    Check(!canonical);
    return 0;
  }

  const std::string text = WriteJson(*value);
  if (canonical) Check(text == input);
  Result<JsonValue> again = ParseJson(text);
  Check(again.ok());
  Check(*again == *value);
  Check(WriteJson(*again) == text);

  Result<JsonValue> via_etf = DecodeEtf(EncodeEtf(*value));
  Check(via_etf.ok());
  Check(*via_etf == *value);
  return 0;
}
