// FileStore::List. Objects are spread over the fan-out subdirectories by hash, so no directory
// is in key order: a page is found by reading the names of every subdirectory and keeping the
// smallest ones after the continuation point. One such scan keeps up to ListWindow::kCapacity
// names and the following pages are served from them (list_window.h), so a walk over N objects
// reads the directories about N / kCapacity times, not once per page. File names sort like
// their keys (file_names.h), so the scan compares names and never decodes or opens a file;
// only the entries a page returns are opened, to read their 38-byte header (the etag), each
// under its key's stripe lock held shared, since writers overwrite object files in place.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/file_store.h"
#include "store/object_file.h"

namespace ds::store {

Result<std::vector<std::string>> FileStore::ScanNames(std::string_view prefix,
                                                      std::string_view after, size_t capacity,
                                                      bool* complete) {
  const auto matches = [&](std::string_view name) {
    return name.starts_with(prefix) && (after.empty() || name > after);
  };
  // The names of dirty objects first, then the directories. An object that exists throughout
  // the scan is found by one or the other: a checkpoint writes its file before it leaves the
  // dirty set, so when it is no longer dirty as its stripe is read, its file already exists
  // when its directory is read later. Changes during the scan come as ListWindow notes.
  std::vector<std::string> dirty_names;
  for (Stripe& stripe : stripes_) {
    std::shared_lock lock(stripe.lock);
    for (const auto& [name, dirty] : stripe.dirty) {
      if (matches(name)) dirty_names.push_back(name);
    }
  }
  std::sort(dirty_names.begin(), dirty_names.end());

  // Max-heap (std::push_heap) of the smallest matching names so far; front() is the largest.
  std::vector<std::string> smallest;
  bool dropped = false;
  // Offers a matching name: kept while it is among the `capacity` smallest so far.
  const auto offer = [&](std::string_view name) {
    if (smallest.size() == capacity) {
      if (name >= smallest.front()) {
        dropped = true;
        return;
      }
      std::pop_heap(smallest.begin(), smallest.end());
      smallest.pop_back();
      dropped = true;
    }
    smallest.emplace_back(name);
    std::push_heap(smallest.begin(), smallest.end());
  };
  for (const std::string& name : dirty_names) offer(name);

  std::string key;  // scratch for DecodeFileName
  for (size_t index = 0; index < file_names::kFanout; ++index) {
    Result<int> subdir_fd = SubdirFd(index, /*create=*/false);
    if (!subdir_fd.ok()) return subdir_fd.status();
    if (*subdir_fd < 0) continue;
    const std::string what = dir_ + "/objects/" + file_names::FanoutDirName(index);
    Result<DirStream> stream = OpenDirStream(*subdir_fd, ".", what);
    if (!stream.ok()) return stream.status();
    errno = 0;
    while (dirent* entry = ::readdir(stream->get())) {
      const std::string_view name(entry->d_name, std::strlen(entry->d_name));
      // Cheap comparisons first: during a long walk most names fail one of them.
      if (!matches(name)) continue;
      if (smallest.size() == capacity && name >= smallest.front()) {
        dropped = true;
        continue;
      }
      // Names the store did not write ('.', '..', temporary or foreign files) are skipped,
      // and so are dirty objects' files, already offered.
      if (entry->d_type == DT_DIR || !file_names::DecodeFileName(name, &key)) continue;
      if (std::binary_search(dirty_names.begin(), dirty_names.end(), name)) continue;
      offer(name);
    }
    if (errno != 0) return ErrnoError("readdir " + what, errno);
  }
  std::sort_heap(smallest.begin(), smallest.end());  // ascending
  *complete = !dropped;
  return smallest;
}

Result<ListPage> FileStore::List(std::string_view prefix, std::string_view continuation,
                                 size_t max_keys) {
  if (max_keys == 0) return Status::InvalidArgument("List: max_keys must be > 0");
  if (Status s = CheckNotFailed(); !s.ok()) return s;
  const std::string encoded_prefix = file_names::Encode(prefix);
  // Resume strictly after the continuation key; one before the prefix means "from the start".
  const std::string after = continuation.empty() || continuation < prefix
                                ? std::string()
                                : file_names::Encode(continuation);

  std::vector<std::string> names;
  bool more = false;
  if (!window_.TryServe(encoded_prefix, after, max_keys, &names, &more)) {
    std::lock_guard scan_lock(list_scan_mu_);
    // Another List may have installed a window covering this page while we waited.
    while (!window_.TryServe(encoded_prefix, after, max_keys, &names, &more)) {
      window_.BeginScan();
      bool complete = false;
      Result<std::vector<std::string>> scanned =
          ScanNames(encoded_prefix, after, std::max(options_.list_window, max_keys + 1), &complete);
      if (!scanned.ok()) {
        window_.AbortScan();
        return scanned.status();
      }
      // TryServe succeeds on a fresh window unless deletes during the scan emptied it below
      // a page; then the loop scans again.
      window_.Install(encoded_prefix, after, std::move(*scanned), complete);
    }
  }
  // The walk is over: free the window's memory.
  if (!more) window_.Clear();

  ListPage page;
  page.entries.reserve(names.size());
  std::string key;
  for (const std::string& name : names) {
    if (!file_names::DecodeFileName(name, &key)) continue;  // not reached: scanned names decode
    Result<Location> loc = Locate(key);
    if (!loc.ok()) return loc.status();
    // As in Get, the stripe lock is held shared while the entry is read: never report an
    // object whose write is not yet durable, and never read a header (or a size) while a
    // checkpoint overwrites the file in place.
    Stripe& stripe = stripes_[loc->stripe];
    std::shared_lock lock(stripe.lock);
    if (auto it = stripe.dirty.find(name); it != stripe.dirty.end()) {
      page.entries.push_back(
          ListEntry{key, it->second.etag, it->second.data.size(), it->second.written_micros});
      continue;
    }
    Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
    if (!subdir_fd.ok()) return subdir_fd.status();
    if (*subdir_fd < 0) continue;
    UniqueFd fd(::openat(*subdir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;  // deleted since the scan
      return ErrnoError("open object " + key, errno);
    }
    Result<std::string> etag = object_file::ReadEtag(fd.get(), key);
    if (!etag.ok()) return etag.status();
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat object " + key, errno);
    lock.unlock();
    const uint64_t size = static_cast<uint64_t>(st.st_size) - object_file::kHeaderSize;
    const int64_t mtime_micros =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
    page.entries.push_back(ListEntry{key, std::move(*etag), size, mtime_micros});
  }
  // The continuation is the last key of the page even when that object was deleted meanwhile.
  if (more && !names.empty()) {
    if (!file_names::DecodeFileName(names.back(), &page.continuation)) {
      return Status::Corruption("file store: undecodable name " + names.back());
    }
  }
  return page;
}

}  // namespace ds::store
