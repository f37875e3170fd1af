// FileStore::Open and the destructor: creating or opening the directory, the LOCK, the FORMAT
// check (and the upgrade of format 1), and the recovery from a previous crash: the journal
// replay. The design is described in file_store.h.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "store/file_journal.h"
#include "store/file_store.h"
#include "store/object_file.h"
#include "store/posix_io.h"

namespace ds::store {

namespace {

// Format 2 has the journal: a format-1 daemon would ignore it and serve objects that are not
// yet durable, or even older than what was acknowledged, so it must refuse such a directory.
// Format 1 (the same layout without a journal) is upgraded in place when opened.
constexpr std::string_view kFormatContents = "durable-stash file store\nformat 2\n";
constexpr std::string_view kFormat1Contents = "durable-stash file store\nformat 1\n";
constexpr char kFormatFile[] = "FORMAT";
constexpr char kFormatTemp[] = "FORMAT.new";
constexpr char kLockFile[] = "LOCK";
constexpr char kObjectsDir[] = "objects";
constexpr char kTmpDir[] = "tmp";
constexpr char kJournalDir[] = "journal";

bool IsDotOrDotDot(const char* name) {
  return std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0;
}

// Reads a small file under `dir_fd` whole; NotFound when it does not exist.
Result<std::string> ReadSmallFile(int dir_fd, const char* name, const std::string& what) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound(what);
    return ErrnoError("open " + what, errno);
  }
  std::string contents(4096, '\0');
  Result<size_t> n = PReadUpTo(fd.get(), contents.data(), contents.size(), 0, "read " + what);
  if (!n.ok()) return n.status();
  contents.resize(*n);
  return contents;
}

// Creates directory `name` under `parent_fd` if missing; returns whether it was created.
Result<bool> MakeDir(int parent_fd, const char* name, const std::string& what) {
  if (::mkdirat(parent_fd, name, 0755) == 0) return true;
  if (errno == EEXIST) return false;
  return ErrnoError("mkdir " + what, errno);
}

Result<UniqueFd> OpenDirFd(int parent_fd, const char* name, const std::string& what) {
  UniqueFd fd(::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + what, errno);
  return fd;
}

// Takes the directory lock. The pid written into LOCK serves the message a second daemon
// prints, and tells the next Open whether this one closed cleanly (the destructor empties it).
Status TakeLock(int dir_fd, const std::string& dir, UniqueFd* lock_fd, bool* previous_unclean) {
  const std::string what = dir + "/" + kLockFile;
  UniqueFd fd(::openat(dir_fd, kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoError("open " + what, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoError("flock " + what, errno);
    Result<std::string> holder = ReadSmallFile(dir_fd, kLockFile, what);
    std::string pid = holder.ok() ? std::string(holder.value()) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::IOError("another durable-stashd holds the lock on " + dir + " (pid " +
                           (pid.empty() ? std::string("unknown") : pid) +
                           "); stop it or give this one another directory");
  }
  Result<std::string> previous = ReadSmallFile(dir_fd, kLockFile, what);
  if (!previous.ok()) return previous.status();
  *previous_unclean = !previous->empty();
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0) return ErrnoError("truncate " + what, errno);
  if (::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return ErrnoError("write " + what, errno);
  }
  *lock_fd = std::move(fd);
  return Status::OK();
}

// Checks FORMAT before anything is created in the directory. Returns whether FORMAT must be
// (re)written: the store is new, or of format 1. A directory holding anything but what a
// half-created store may hold is refused: it is somebody else's, and nothing is written into it.
Result<bool> CheckFormat(int dir_fd, const std::string& dir) {
  const std::string what = dir + "/" + kFormatFile;
  Result<std::string> format = ReadSmallFile(dir_fd, kFormatFile, what);
  if (format.ok()) {
    if (*format == kFormat1Contents) return true;
    if (*format != kFormatContents) {
      return Status::IOError(dir +
                             " is not a durable-stash file store of a format this build "
                             "can read (see " +
                             what + ")");
    }
    return false;
  }
  if (!format.status().IsNotFound()) return format.status();

  Result<DirStream> stream = OpenDirStream(dir_fd, ".", dir);
  if (!stream.ok()) return stream.status();
  while (dirent* entry = ::readdir(stream->get())) {
    const char* name = entry->d_name;
    if (IsDotOrDotDot(name) || std::strcmp(name, kLockFile) == 0 ||
        std::strcmp(name, kObjectsDir) == 0 || std::strcmp(name, kTmpDir) == 0 ||
        std::strcmp(name, kJournalDir) == 0 || std::strcmp(name, kFormatTemp) == 0) {
      continue;
    }
    return Status::IOError(dir + " is not empty and is not a durable-stash file store (no " +
                           kFormatFile + " file); give the store an empty or new directory");
  }
  return true;
}

// Writes FORMAT atomically, after the directories exist: a crash before leaves a new store
// without FORMAT that holds no object yet, which the next Open completes, or a format-1 store
// whose upgrade the next Open redoes.
Status WriteFormat(int dir_fd, const std::string& dir) {
  const std::string what = dir + "/" + kFormatFile;
  UniqueFd fd(::openat(dir_fd, kFormatTemp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoError("create " + what, errno);
  if (Status s = WriteAll(fd.get(), kFormatContents, {}, "write " + what); !s.ok()) return s;
  if (Status s = Fsync(fd.get(), "fsync " + what); !s.ok()) return s;
  if (::renameat(dir_fd, kFormatTemp, dir_fd, kFormatFile) != 0) {
    return ErrnoError("rename " + what, errno);
  }
  return Fsync(dir_fd, "fsync " + dir);
}

// Deletes the temporary files that builds before in-place writes left in PATH/tmp when they
// stopped in the middle of a write (file_store.h).
Status EmptyTmpDir(int tmp_fd, const std::string& what) {
  Result<DirStream> stream = OpenDirStream(tmp_fd, ".", what);
  if (!stream.ok()) return stream.status();
  while (dirent* entry = ::readdir(stream->get())) {
    if (IsDotOrDotDot(entry->d_name)) continue;
    if (::unlinkat(tmp_fd, entry->d_name, 0) != 0 && errno != ENOENT) {
      return ErrnoError("unlink " + what + "/" + entry->d_name, errno);
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<FileStore>> FileStore::Open(std::string dir) {
  return Open(std::move(dir), Options());
}

Result<std::unique_ptr<FileStore>> FileStore::Open(std::string dir, const Options& options) {
  if (dir.empty()) return Status::InvalidArgument("file store: empty directory path");
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(dir, ec);
  if (ec) return Status::IOError("file store: " + dir + ": " + ec.message());
  path = path.lexically_normal();
  if (path.has_relative_path() && !path.has_filename()) path = path.parent_path();  // "a/b/"
  dir = path.string();

  const bool existed = std::filesystem::exists(path, ec);
  if (!existed) {
    std::filesystem::create_directories(path, ec);
    if (ec) return Status::IOError("file store: cannot create " + dir + ": " + ec.message());
    // Make the new directory's own entry durable.
    if (path.has_parent_path()) {
      UniqueFd parent(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (parent.valid()) {
        if (Status s = Fsync(parent.get(), "fsync " + path.parent_path().string()); !s.ok()) {
          return s;
        }
      }
    }
  }
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoError("file store: open " + dir, errno);

  Result<bool> write_format = CheckFormat(dir_fd.get(), dir);
  if (!write_format.ok()) return write_format.status();
  UniqueFd lock_fd;
  bool previous_unclean = false;
  if (Status s = TakeLock(dir_fd.get(), dir, &lock_fd, &previous_unclean); !s.ok()) return s;

  Result<bool> made_objects = MakeDir(dir_fd.get(), kObjectsDir, dir + "/" + kObjectsDir);
  if (!made_objects.ok()) return made_objects.status();
  Result<bool> made_tmp = MakeDir(dir_fd.get(), kTmpDir, dir + "/" + kTmpDir);
  if (!made_tmp.ok()) return made_tmp.status();
  Result<bool> made_journal = MakeDir(dir_fd.get(), kJournalDir, dir + "/" + kJournalDir);
  if (!made_journal.ok()) return made_journal.status();
  if (*made_objects || *made_tmp || *made_journal) {
    if (Status s = Fsync(dir_fd.get(), "fsync " + dir); !s.ok()) return s;
  }
  if (*write_format) {
    if (Status s = WriteFormat(dir_fd.get(), dir); !s.ok()) return s;
  }

  Result<UniqueFd> objects_fd = OpenDirFd(dir_fd.get(), kObjectsDir, dir + "/" + kObjectsDir);
  if (!objects_fd.ok()) return objects_fd.status();
  Result<UniqueFd> tmp_fd = OpenDirFd(dir_fd.get(), kTmpDir, dir + "/" + kTmpDir);
  if (!tmp_fd.ok()) return tmp_fd.status();
  Result<UniqueFd> journal_fd = OpenDirFd(dir_fd.get(), kJournalDir, dir + "/" + kJournalDir);
  if (!journal_fd.ok()) return journal_fd.status();
  if (Status s = EmptyTmpDir(tmp_fd->get(), dir + "/" + kTmpDir); !s.ok()) return s;

  if (previous_unclean) {
    // The previous process died with the store open. What it wrote since its last checkpoint
    // may still be only in the page cache; make it durable before serving it, or a power loss
    // now could take back an object this process already returned. (The replay below covers
    // every such object of format 2 on its own; this also covers a format-1 daemon's renames,
    // which it had not fsynced yet when it died.)
    if (::syncfs(dir_fd.get()) != 0) return ErrnoError("file store: syncfs " + dir, errno);
  }

  auto store = std::make_unique<FileStore>(PassKey{}, std::move(dir), options, std::move(dir_fd),
                                           std::move(lock_fd), std::move(*objects_fd));
  uint64_t next_generation = 1;
  if (Status s = store->Recover(journal_fd->get(), &next_generation); !s.ok()) return s;
  Result<std::unique_ptr<FileJournal>> journal = FileJournal::Start(
      std::move(*journal_fd), store->dir_fd_.get(), store->dir_ + "/" + kJournalDir,
      next_generation,
      FileJournal::Options{
          .rotate_bytes = options.journal_rotate_bytes,
          .group_commit = options.group_commit,
          // Puts leave their versions in memory (file_store.h): each
          // checkpoint writes them to their files before its syncfs.
          .before_checkpoint = [s = store.get()] { return s->WriteBackDirtyObjects(); }});
  if (!journal.ok()) return journal.status();
  store->journal_ = std::move(*journal);
  store->early_write_back_ = std::make_unique<BackgroundPass>([s = store.get()] {
    // A failure fails the store (WriteBackDirtyObjects calls Fail), which every call reports.
    if (s->CheckNotFailed().ok()) (void)s->WriteBackDirtyObjects();
  });
  return store;
}

// Replays the journal, before anything is served. Each generation's valid records, oldest
// generation first, are folded into the final operation per key (later records win), and that
// operation is applied to the object files: a put overwrites the object file in place (created
// if missing, truncated if longer), a delete unlinks it. Every object changed since the last
// checkpoint has a record here (a write touches the object file only after its record is
// committed, and a generation is deleted only after a syncfs that followed every write it
// covers), so rewriting them repairs whatever a crash or a power loss did to their unsynced
// files: missing, empty, short, torn in the middle of an overwrite, or the previous version.
// Then one syncfs makes the repairs durable, and only then are the generations deleted; a crash
// on the way leaves them in place, and replaying them again gives the same result. A record
// that was appended but never committed may be replayed or not; its write was never
// acknowledged, so either is correct. With no journal (a clean close), the cost is one readdir.
Status FileStore::Recover(int journal_fd, uint64_t* next_generation) {
  const std::string what = dir_ + "/" + kJournalDir;
  Result<std::vector<uint64_t>> generations = FileJournal::ListGenerations(journal_fd, what);
  if (!generations.ok()) return generations.status();
  if (generations->empty()) return Status::OK();

  std::vector<std::string> contents;  // keeps the records' bytes alive
  contents.reserve(generations->size());
  std::map<std::string_view, JournalRecord> final_ops;
  for (uint64_t generation : *generations) {
    Result<std::string> read = FileJournal::ReadGeneration(journal_fd, generation, what);
    if (!read.ok()) return read.status();
    contents.push_back(std::move(*read));
    bool torn = false;
    for (const JournalRecord& record :
         journal_format::DecodeAll(contents.back(), generation, &torn)) {
      final_ops[record.key] = record;
    }
  }

  for (const auto& [key, record] : final_ops) {
    Result<Location> loc = Locate(key);
    if (!loc.ok())
      return Status::Corruption("file store: journal " + what + ": " + loc.status().message());
    if (record.op == JournalOp::kDelete) {
      Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/false);
      if (!subdir_fd.ok()) return subdir_fd.status();
      if (*subdir_fd >= 0 && ::unlinkat(*subdir_fd, loc->name.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoError("replay: unlink object " + std::string(key), errno);
      }
      continue;
    }
    Result<int> subdir_fd = SubdirFd(loc->subdir, /*create=*/true);
    if (!subdir_fd.ok()) return subdir_fd.status();
    // Overwritten in place, as Put does: whatever state the file is in (missing, empty, short,
    // torn, an older version, longer than this one), it ends up exactly this version.
    if (Status s = WriteInPlace(*subdir_fd, loc->name, object_file::ContentEtag(record.value),
                                record.value, key);
        !s.ok()) {
      return Status::IOError("replay: " + s.message());
    }
  }
  if (::syncfs(dir_fd_.get()) != 0) return ErrnoError("file store: syncfs " + dir_, errno);
  if (Status s = FileJournal::RemoveGenerations(journal_fd, *generations, what); !s.ok()) {
    return s;
  }
  *next_generation = generations->back() + 1;
  return Status::OK();
}

FileStore::FileStore(PassKey, std::string dir, const Options& options, UniqueFd dir_fd,
                     UniqueFd lock_fd, UniqueFd objects_fd)
    : dir_(std::move(dir)),
      options_(options),
      dir_fd_(std::move(dir_fd)),
      lock_fd_(std::move(lock_fd)),
      objects_fd_(std::move(objects_fd)) {
  for (auto& fd : subdir_fds_) fd.store(-1, std::memory_order_relaxed);
}

FileStore::~FileStore() {
  early_write_back_.reset();  // before the journal and the subdirectory fds it uses
  // A clean close checkpoints the whole journal (syncfs, then the generations are deleted).
  // If that fails, or the store has failed, the journal and the pid in LOCK stay, and the next
  // Open replays.
  const bool clean = journal_ != nullptr && journal_->Close().ok() && !failed_.load();
  journal_.reset();
  for (auto& fd : subdir_fds_) {
    int raw = fd.exchange(-1);
    if (raw >= 0) ::close(raw);
  }
  // An empty LOCK tells the next Open that this store was closed cleanly. Not fsynced: if a
  // power loss takes the truncation back, the next Open merely runs one unneeded syncfs.
  // The flock itself is released when lock_fd_ is closed.
  if (clean) (void)::ftruncate(lock_fd_.get(), 0);
}

}  // namespace ds::store
