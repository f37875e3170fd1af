// OpenStore: the store named by a `--store` URL.
//
//   memory  or  memory:      MemoryStore (nothing survives a restart)
//   file:PATH                FileStore in PATH, relative to the working directory or absolute;
//   file:///ABSOLUTE/PATH    the same, URL style
//   s3://BUCKET/PREFIX       not available in this build yet (InvalidArgument)
//
// Anything else is InvalidArgument with a message listing these forms.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "store/store.h"

namespace ds::store {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url);

}  // namespace ds::store
