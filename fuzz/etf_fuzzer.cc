// libFuzzer target for DecodeEtf (ETF bytes arrive from BEAM clients over the network).
//
// Besides not crashing, every accepted input must normalize to a value that is stable under
// both codecs:
//   - EncodeEtf(DecodeEtf(x)) decodes to the same value and re-encodes to the same bytes;
//   - its canonical JSON text parses back to the same value.

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
  Result<JsonValue> value = DecodeEtf(input);
  if (!value.ok()) return 0;

  const std::string bytes = EncodeEtf(*value);
  Result<JsonValue> again = DecodeEtf(bytes);
  Check(again.ok());
  Check(*again == *value);
  Check(EncodeEtf(*again) == bytes);

  Result<JsonValue> via_json = ParseJson(WriteJson(*value));
  Check(via_json.ok());
  Check(*via_json == *value);
  return 0;
}
