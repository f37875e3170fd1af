// Implementation of store_factory.h.
#include "store/store_factory.h"

#include <string>

#include "store/file_store.h"
#include "store/memory_store.h"
#include "store/s3/s3_store.h"

namespace ds::store {

namespace {

Status BadUrl(std::string_view url, std::string_view why) {
  return Status::InvalidArgument("store URL \"" + std::string(url) + "\": " + std::string(why) +
                                 " (use memory:, file:PATH or s3://BUCKET/PREFIX)");
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const EnvLookup& getenv) {
  if (url == "memory" || url == "memory:")
    return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  if (url.starts_with("s3://")) {
    Result<std::unique_ptr<s3::S3Store>> store = s3::S3Store::Open(url, getenv);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  if (url.starts_with("file:")) {
    std::string_view path = url.substr(5);
    if (path.starts_with("//")) {
      // URL style: only an empty authority is meaningful here (file:///abs/path).
      path.remove_prefix(2);
      if (!path.starts_with("/")) return BadUrl(url, "file URLs name a local path: file:///PATH");
    }
    if (path.empty()) return BadUrl(url, "file: needs a directory path");
    Result<std::unique_ptr<FileStore>> store = FileStore::Open(std::string(path));
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  if (url.empty()) return BadUrl(url, "empty");
  return BadUrl(url, "unknown kind of store");
}

}  // namespace ds::store
