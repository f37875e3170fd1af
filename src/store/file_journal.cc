// Implementation of file_journal.h.
#include "store/file_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace ds::store {

// --- The record format -----------------------------------------------------------------------

namespace journal_format {
namespace {

void PutFixed(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t GetFixed(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  return value;
}

uint64_t Checksum(std::string_view record) {
  return XXH3_64bits(record.data() + 8, record.size() - 8);
}

}  // namespace

void EncodeRecord(uint64_t generation, const JournalRecord& record, std::string* out) {
  const size_t start = out->size();
  PutFixed(out, 0, 8);  // checksum, filled in below
  PutFixed(out, generation, 8);
  PutFixed(out, static_cast<uint8_t>(record.op), 1);
  PutFixed(out, record.key.size(), 4);
  PutFixed(out, record.value.size(), 4);
  out->append(record.key);
  out->append(record.value);
  const uint64_t checksum = Checksum(std::string_view(*out).substr(start));
  for (int i = 0; i < 8; ++i) (*out)[start + i] = static_cast<char>((checksum >> (8 * i)) & 0xFF);
}

std::optional<size_t> DecodeRecord(std::string_view input, uint64_t generation,
                                   JournalRecord* record) {
  if (input.size() < kRecordHeaderSize) return std::nullopt;
  const uint64_t op = GetFixed(input, 16, 1);
  const uint64_t key_size = GetFixed(input, 17, 4);
  const uint64_t value_size = GetFixed(input, 21, 4);
  if (GetFixed(input, 8, 8) != generation || key_size == 0) return std::nullopt;
  if (op != static_cast<uint8_t>(JournalOp::kPut) &&
      (op != static_cast<uint8_t>(JournalOp::kDelete) || value_size != 0)) {
    return std::nullopt;
  }
  const uint64_t size = kRecordHeaderSize + key_size + value_size;
  if (size > input.size()) return std::nullopt;
  const std::string_view encoded = input.substr(0, size);
  if (GetFixed(encoded, 0, 8) != Checksum(encoded)) return std::nullopt;
  record->op = static_cast<JournalOp>(op);
  record->key = encoded.substr(kRecordHeaderSize, key_size);
  record->value = encoded.substr(kRecordHeaderSize + key_size);
  return size;
}

std::vector<JournalRecord> DecodeAll(std::string_view contents, uint64_t generation, bool* torn) {
  std::vector<JournalRecord> records;
  JournalRecord record;
  while (!contents.empty()) {
    std::optional<size_t> size = DecodeRecord(contents, generation, &record);
    if (!size) break;
    records.push_back(record);
    contents.remove_prefix(*size);
  }
  *torn = !contents.empty();
  return records;
}

}  // namespace journal_format

// --- Generations -----------------------------------------------------------------------------

struct FileJournal::Generation {
  uint64_t number = 0;
  UniqueFd fd;
  uint64_t size = 0;       // bytes of valid records; the next append goes here
  uint64_t zeroed = 0;     // the file's size: zeroes from `size` on (see Append)
  uint64_t first_seq = 0;  // sequence number of its first record (0: none yet)
  uint64_t last_seq = 0;   // ... and of its last
  uint64_t pins = 0;       // live Tickets
  bool closed = false;     // no more appends; checkpointed once pins == 0
};

namespace {

constexpr uint64_t kZeroChunk = 1 << 20;

std::string GenerationName(uint64_t number) { return std::to_string(number); }

}  // namespace

Result<std::vector<uint64_t>> FileJournal::ListGenerations(int dir_fd, const std::string& what) {
  Result<DirStream> stream = OpenDirStream(dir_fd, ".", what);
  if (!stream.ok()) return stream.status();
  std::vector<uint64_t> numbers;
  errno = 0;
  while (dirent* entry = ::readdir(stream->get())) {
    const char* name = entry->d_name;
    const char* end = name + std::strlen(name);
    uint64_t number = 0;
    auto [ptr, ec] = std::from_chars(name, end, number);
    if (ec != std::errc() || ptr != end || number == 0 || name[0] == '0') continue;
    numbers.push_back(number);
  }
  if (errno != 0) return ErrnoError("readdir " + what, errno);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

Result<std::string> FileJournal::ReadGeneration(int dir_fd, uint64_t generation,
                                                const std::string& what) {
  const std::string path = what + "/" + GenerationName(generation);
  UniqueFd fd(::openat(dir_fd, GenerationName(generation).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path, errno);
  std::string contents(static_cast<size_t>(st.st_size), '\0');
  Result<size_t> n = PReadUpTo(fd.get(), contents.data(), contents.size(), 0, "read " + path);
  if (!n.ok()) return n.status();
  contents.resize(*n);
  return contents;
}

Status FileJournal::RemoveGenerations(int dir_fd, const std::vector<uint64_t>& generations,
                                      const std::string& what) {
  for (uint64_t number : generations) {
    const std::string name = GenerationName(number);
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      const int err = errno;
      return ErrnoError(std::string("unlink ").append(what).append("/").append(name), err);
    }
    if (Status s = Fsync(dir_fd, "fsync " + what); !s.ok()) return s;
  }
  return Status::OK();
}

// --- Start and Close -------------------------------------------------------------------------

FileJournal::FileJournal(UniqueFd dir_fd, int fs_fd, std::string what, const Options& options)
    : dir_fd_(std::move(dir_fd)), fs_fd_(fs_fd), what_(std::move(what)), options_(options) {}

Result<std::unique_ptr<FileJournal>> FileJournal::Start(UniqueFd dir_fd, int fs_fd,
                                                        std::string what, uint64_t first_generation,
                                                        const Options& options) {
  auto journal = std::make_unique<FileJournal>(std::move(dir_fd), fs_fd, std::move(what), options);
  {
    std::lock_guard lock(journal->mu_);
    Result<std::shared_ptr<Generation>> first = journal->CreateGeneration(first_generation);
    if (!first.ok()) return first.status();
    journal->generations_.push_back(std::move(*first));
  }
  journal->checkpoint_thread_ = std::thread([j = journal.get()] { j->CheckpointLoop(); });
  return journal;
}

FileJournal::~FileJournal() { (void)Close(); }

Status FileJournal::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return failure_;
    closed_ = true;
    stopping_ = true;
  }
  checkpointer_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();

  std::vector<std::shared_ptr<Generation>> all;
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    all.assign(generations_.begin(), generations_.end());
  }
  Status status = Checkpoint(all);
  std::lock_guard lock(mu_);
  if (status.ok()) {
    generations_.clear();
    ++stats_.checkpoints;
  } else if (failure_.ok()) {
    failure_ = status;
  }
  return status;
}

Result<std::shared_ptr<FileJournal::Generation>> FileJournal::CreateGeneration(uint64_t number) {
  const std::string name = GenerationName(number);
  auto generation = std::make_shared<Generation>();
  generation->number = number;
  generation->fd = UniqueFd(
      ::openat(dir_fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!generation->fd.valid()) return ErrnoError("create " + what_ + "/" + name, errno);
  // The file's entry must be durable before a record in it is promised durable: fdatasync of
  // the file alone does not cover its directory entry.
  if (Status s = Fsync(dir_fd_.get(), "fsync " + what_); !s.ok()) {
    ::unlinkat(dir_fd_.get(), name.c_str(), 0);
    return s;
  }
  return generation;
}

// --- Append, Commit, Ticket ------------------------------------------------------------------

FileJournal::Ticket::Ticket(FileJournal* journal, std::shared_ptr<Generation> generation,
                            uint64_t sequence)
    : journal_(journal), generation_(std::move(generation)), sequence_(sequence) {}

FileJournal::Ticket::Ticket(Ticket&& other) noexcept
    : journal_(std::exchange(other.journal_, nullptr)),
      generation_(std::move(other.generation_)),
      sequence_(other.sequence_) {}

FileJournal::Ticket::~Ticket() {
  if (journal_ != nullptr) journal_->Release(generation_.get());
}

void FileJournal::Release(Generation* generation) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    wake = --generation->pins == 0 && generation->closed;
  }
  if (wake) checkpointer_.notify_one();
}

Status FileJournal::FailedError() const {
  return Status::IOError("journal " + what_ + " failed earlier (" + failure_.message() +
                         "); restart to replay it");
}

namespace {

bool RecordSizesFit(const JournalRecord& record) {
  constexpr uint64_t kMax32 = std::numeric_limits<uint32_t>::max();
  return !record.key.empty() && record.key.size() <= kMax32 && record.value.size() <= kMax32;
}

Status RecordSizeError() {
  return Status::InvalidArgument("journal: record key or value size out of range");
}

}  // namespace

Result<uint64_t> FileJournal::WriteScratch(size_t count, bool* rotated) {
  Generation* generation = generations_.back().get();
  const std::string what = what_ + "/" + GenerationName(generation->number);
  if (generation->size + scratch_.size() > generation->zeroed) {
    // Appends overwrite zeroes written ahead, a chunk at a time: an fdatasync of a file that
    // grew must commit the file system's journal (the new size and blocks), which costs
    // several times the data write and holds up every other metadata change (the object files'
    // creates and renames); an fdatasync of overwritten blocks is a data write and a flush.
    // So the file system's journal commits once per chunk instead of once per group commit.
    // Zeroes are never a valid record (file_journal.h), so replay stops where they begin.
    static const std::string kZeroes(kZeroChunk, '\0');
    while (generation->size + scratch_.size() > generation->zeroed) {
      if (Status s = PWriteAll(generation->fd.get(), kZeroes,
                               static_cast<off_t>(generation->zeroed), "write " + what);
          !s.ok()) {
        return s;
      }
      generation->zeroed += kZeroChunk;
    }
  }
  if (Status s = PWriteAll(generation->fd.get(), scratch_, static_cast<off_t>(generation->size),
                           "write " + what);
      !s.ok()) {
    // The next append overwrites whatever part was written (a torn tail is ignored by readers
    // anyway).
    return s;
  }
  generation->size += scratch_.size();
  const uint64_t first = appended_ + 1;
  appended_ += count;
  if (generation->first_seq == 0) generation->first_seq = first;
  generation->last_seq = appended_;
  generation->pins += count;
  stats_.records += count;
  if (generation->size >= options_.rotate_bytes) {
    // A failure to start the next generation is not an error: appends stay in this one and
    // the next append tries again.
    Result<std::shared_ptr<Generation>> next = CreateGeneration(generation->number + 1);
    if (next.ok()) {
      generation->closed = true;
      generations_.push_back(std::move(*next));
      *rotated = true;
    }
  }
  return first;
}

Result<FileJournal::Ticket> FileJournal::Append(const JournalRecord& record) {
  std::vector<Result<Ticket>> tickets = AppendAll({record});
  return std::move(tickets.front());
}

std::vector<Result<FileJournal::Ticket>> FileJournal::AppendAll(
    const std::vector<JournalRecord>& records) {
  std::vector<Result<Ticket>> results;
  results.reserve(records.size());
  bool rotated = false;
  std::unique_lock lock(mu_);
  if (!failure_.ok()) {
    for (const JournalRecord& record : records) {
      results.emplace_back(RecordSizesFit(record) ? FailedError() : RecordSizeError());
    }
    return results;
  }
  std::shared_ptr<Generation> generation = generations_.back();
  scratch_.clear();
  size_t count = 0;
  for (const JournalRecord& record : records) {
    if (!RecordSizesFit(record)) continue;
    journal_format::EncodeRecord(generation->number, record, &scratch_);
    ++count;
  }
  Result<uint64_t> first =
      count == 0 ? Result<uint64_t>(uint64_t{0}) : WriteScratch(count, &rotated);
  lock.unlock();
  if (rotated) checkpointer_.notify_one();
  // Sequence numbers follow the order of the records that fit.
  uint64_t sequence = first.ok() ? *first : 0;
  for (const JournalRecord& record : records) {
    if (!RecordSizesFit(record)) {
      results.emplace_back(RecordSizeError());
    } else if (!first.ok()) {
      results.emplace_back(first.status());
    } else {
      results.emplace_back(Ticket(this, generation, sequence++));
    }
  }
  return results;
}

Status FileJournal::Commit(const Ticket& ticket) {
  std::unique_lock lock(mu_);
  if (!options_.group_commit) {
    if (!failure_.ok()) return FailedError();
    ++stats_.syncs;
    lock.unlock();
    Status status =
        Fdatasync(ticket.generation_->fd.get(),
                  "fdatasync " + what_ + "/" + GenerationName(ticket.generation_->number));
    if (!status.ok()) {
      lock.lock();
      if (failure_.ok()) failure_ = status;
    }
    return status;
  }

  for (;;) {
    if (ticket.sequence_ <= durable_) return Status::OK();
    if (!failure_.ok()) return FailedError();
    if (!leader_running_) break;
    committed_.wait(lock);
  }

  // Leader: every record appended so far was completely written before its sequence number was
  // taken, so fdatasyncs started now cover them all.
  leader_running_ = true;
  const uint64_t covers = appended_;
  std::vector<std::shared_ptr<Generation>> to_sync;
  for (const auto& generation : generations_) {
    if (generation->first_seq != 0 && generation->last_seq > durable_ &&
        generation->first_seq <= covers) {
      to_sync.push_back(generation);
    }
  }
  stats_.syncs += to_sync.size();
  lock.unlock();
  Status status;
  for (const auto& generation : to_sync) {
    status = Fdatasync(generation->fd.get(),
                       "fdatasync " + what_ + "/" + GenerationName(generation->number));
    if (!status.ok()) break;
  }
  lock.lock();
  leader_running_ = false;
  if (status.ok()) {
    durable_ = std::max(durable_, covers);
  } else if (failure_.ok()) {
    failure_ = status;
  }
  committed_.notify_all();
  return status;
}

void FileJournal::Fail(const Status& error) {
  {
    std::lock_guard lock(mu_);
    if (failure_.ok()) failure_ = error;
  }
  committed_.notify_all();
  checkpointer_.notify_all();
}

FileJournal::Stats FileJournal::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// --- Checkpoints -----------------------------------------------------------------------------

size_t FileJournal::CheckpointablePrefix() const {
  size_t n = 0;
  // Strictly oldest first: deleting a newer generation while an older one stays would let a
  // replay apply the older records over effects the newer ones made.
  while (n < generations_.size() && generations_[n]->closed && generations_[n]->pins == 0) ++n;
  return n;
}

void FileJournal::CheckpointLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    checkpointer_.wait(lock,
                       [&] { return stopping_ || !failure_.ok() || CheckpointablePrefix() > 0; });
    if (stopping_ || !failure_.ok()) return;
    const size_t n = CheckpointablePrefix();
    std::vector<std::shared_ptr<Generation>> done(generations_.begin(),
                                                  generations_.begin() + static_cast<long>(n));
    lock.unlock();
    Status status = Checkpoint(done);
    lock.lock();
    if (!status.ok()) {
      if (failure_.ok()) failure_ = status;
      committed_.notify_all();
      return;
    }
    generations_.erase(generations_.begin(), generations_.begin() + static_cast<long>(n));
    ++stats_.checkpoints;
  }
}

Status FileJournal::Checkpoint(const std::vector<std::shared_ptr<Generation>>& done) {
  if (done.empty()) return Status::OK();
  // Every record of `done` was released, so its effect has been made: in the file system (an
  // unlink, say), or in the caller's memory, which before_checkpoint writes out now. Then one
  // syncfs makes all of them, and the object data, durable.
  if (options_.before_checkpoint) {
    if (Status s = options_.before_checkpoint(); !s.ok()) return s;
  }
  if (::syncfs(fs_fd_) != 0) return ErrnoError("syncfs for journal checkpoint " + what_, errno);
  std::vector<uint64_t> numbers;
  numbers.reserve(done.size());
  for (const auto& generation : done) numbers.push_back(generation->number);
  return RemoveGenerations(dir_fd_.get(), numbers, what_);
}

}  // namespace ds::store
