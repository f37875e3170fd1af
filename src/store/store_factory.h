// OpenStore: the store named by a `--store` URL.
//
//   memory  or  memory:      MemoryStore (nothing survives a restart)
//   file:PATH                FileStore in PATH, relative to the working directory or absolute;
//   file:///ABSOLUTE/PATH    the same, URL style
//   s3://BUCKET/PREFIX[?..]  S3Store (s3/s3_store.h; credentials and endpoint from the
//                            environment, read through `getenv`)
//
// Anything else is InvalidArgument with a message listing these forms.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/store.h"

namespace ds::store {

using EnvLookup = std::function<std::optional<std::string>(const char*)>;

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const EnvLookup& getenv);

}  // namespace ds::store
