// ListWindow: the slice of the file store's names that List read last, kept in memory and in
// step with the store's own writes, so that walking many pages (the TTL sweep) reads the
// directories once per window instead of once per page.
//
// Why it exists: objects are spread over 256 subdirectories by hash, so no directory is in
// key order, and finding the next page means reading the names in every directory. Doing that
// for every page of 1,000 keys makes a walk over a million objects quadratic (a thousand
// full scans). Instead, one scan keeps up to kCapacity names (in order) following the
// continuation point, and the pages that fall inside them are served from memory: a walk over
// a million keys then scans about 16 times.
//
// A window is, for one prefix, every name in the interval (after, last] that exists, where
// `last` is the largest name the scan kept (or +infinity when the scan kept everything: a
// "complete" window). Names are file names (file_names.h), which sort like their keys.
//
// Staying exact without re-reading: only this process writes the directory (the LOCK), so every
// change to the set of names is reported through NoteCreated / NoteDeleted, which update the
// window. Notes arriving while a scan is reading the directories are also queued and replayed,
// in order, onto the scan's result when it is installed. Each note sets one name present or
// absent, and the notes of one name arrive in the order of its changes (they are made under
// the key's lock), so after the replay the last note decides: whatever the scan happened to
// see of a name, the installed window matches the directory.
//
// Thread safety: every method may be called concurrently, except that BeginScan ... Install /
// AbortScan brackets must not overlap (FileStore holds a scan mutex around them).
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ds::store {

class ListWindow {
 public:
  // Names kept by one scan (when a page asks for more, the page size plus one). About 7 MB of
  // memory for names like `sessions%2F<64 hex digits>`.
  static constexpr size_t kCapacity = 65536;

  // `name` now exists / no longer exists. REQUIRES: the change is visible in the directory,
  // and the caller holds the key's lock.
  void NoteCreated(const std::string& name) { Note(name, true); }
  void NoteDeleted(const std::string& name) { Note(name, false); }

  // Answers "the first `count` names starting with `prefix` that are greater than `after`
  // (every name with the prefix when `after` is empty)", if the window holds them: fills
  // `names` in ascending order and sets `*more` when further names follow. Returns false when
  // the window cannot tell (no window, another prefix, or the range leaves the window).
  bool TryServe(std::string_view prefix, std::string_view after, size_t count,
                std::vector<std::string>* names, bool* more);

  // Starts a scan: drops the current window and queues notes from now on.
  void BeginScan();
  // Installs the result of a scan started with BeginScan: `sorted` holds, in ascending order,
  // the smallest names starting with `prefix` greater than `after`; `complete` when it holds
  // all of them. Then replays the queued notes.
  void Install(std::string prefix, std::string after, std::vector<std::string> sorted,
               bool complete);
  // Ends a scan that failed, leaving no window.
  void AbortScan();

  // Drops the window, freeing its memory (after the last page of a walk).
  void Clear();

 private:
  void Note(const std::string& name, bool present);
  // Whether `name` falls in the window's interval. REQUIRES: mu_ held, valid_.
  bool Covers(std::string_view name) const;
  void Apply(const std::string& name, bool present);  // REQUIRES: mu_ held, valid_

  std::mutex mu_;
  bool valid_ = false;
  bool scanning_ = false;
  std::vector<std::pair<std::string, bool>> pending_;  // notes queued during a scan
  std::string prefix_;
  std::string after_;  // exclusive lower bound; empty = from the start of the prefix
  std::string last_;   // inclusive upper bound unless complete_
  bool complete_ = false;
  std::set<std::string, std::less<>> names_;
};

}  // namespace ds::store
