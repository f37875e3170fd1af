// The two S3 XML documents the store reads: a ListObjectsV2 result and an error body.
//
// Parsed with expat (a streaming parser from Debian) rather than by hand: S3 escapes keys and
// continuation tokens with XML entities and numeric character references, and the parser must
// not be fooled by whatever a misbehaving proxy returns. Only the elements the store needs are
// kept; everything else is ignored.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ds::store::s3 {

struct ListedObject {
  std::string key;   // decoded (see ParseListObjectsV2)
  std::string etag;  // as the server wrote it, quotes included
  uint64_t size = 0;
};

struct ListObjectsResult {
  std::vector<ListedObject> objects;
  bool is_truncated = false;
  std::string next_continuation_token;
};

// A <ListBucketResult>. When the document says <EncodingType>url</EncodingType> (the store asks
// for it, so that any key survives XML), keys are percent-decoded, '+' meaning a space.
// Corruption when the document is not a well-formed ListBucketResult.
Result<ListObjectsResult> ParseListObjectsV2(std::string_view xml);

struct S3Error {
  std::string code;  // e.g. "NoSuchKey", "SlowDown"; empty when the body is not an <Error>
  std::string message;
};

S3Error ParseS3Error(std::string_view xml);

}  // namespace ds::store::s3
