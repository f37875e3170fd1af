// file_store_bench: durable write throughput of the file store with N threads writing at once.
//
//   file_store_bench [--dir DIR] [--threads 1,2,4,8,16,32,64] [--ops-per-thread 100]
//                    [--size 2048] [--no-group-commit] [--rotate-bytes N]
//
// Each thread writes its own sessions the way the daemon does: create-only first, then
// If-Match on the etag it got back, every value `--size` bytes. Prints, per thread count, the
// durable Puts per second, how many journal fdatasyncs committed them, and how many
// checkpoints (syncfs) ran, and the CPU time (user + system, all threads, getrusage) per Put:
// the figure that moves least with the machine's noise, since it does not count waiting for
// the disk. The time includes the clean close, which checkpoints the rest. Nothing
// is asserted: performance is measured, not tested (SPEC §8). The directory (a fresh temporary one
// by default) must be on the disk you want to measure, not on tmpfs.
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/file_store.h"

namespace {

using ds::store::FileStore;
using ds::store::WriteCondition;

// CPU time (user + system) this process has used so far, in microseconds.
double CpuMicros() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto micros = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e6 + static_cast<double>(tv.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

std::vector<int> ParseList(const char* text) {
  std::vector<int> out;
  for (const char* p = text; *p != '\0';) {
    out.push_back(std::atoi(p));
    const char* comma = std::strchr(p, ',');
    if (comma == nullptr) break;
    p = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::vector<int> thread_counts = {1, 2, 4, 8, 16, 32, 64};
  int ops_per_thread = 100;
  size_t size = 2048;
  FileStore::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (arg == "--dir") {
      dir = value, ++i;
    } else if (arg == "--threads") {
      thread_counts = ParseList(value), ++i;
    } else if (arg == "--ops-per-thread") {
      ops_per_thread = std::atoi(value), ++i;
    } else if (arg == "--size") {
      size = static_cast<size_t>(std::atoll(value)), ++i;
    } else if (arg == "--rotate-bytes") {
      options.journal_rotate_bytes = static_cast<uint64_t>(std::atoll(value)), ++i;
    } else if (arg == "--no-group-commit") {
      options.group_commit = false;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--dir DIR] [--threads 1,2,4] [--ops-per-thread N] "
                   "[--size BYTES] [--no-group-commit] [--rotate-bytes N]\n",
                   argv[0]);
      return 2;
    }
  }
  bool remove_dir = false;
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ds-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
    remove_dir = true;
  }

  std::printf("file store at %s, %zu-byte values, group commit %s\n", dir.c_str(), size,
              options.group_commit ? "on" : "off");
  std::printf("%8s %10s %12s %14s %14s %12s %16s %14s\n", "threads", "puts", "puts/s",
              "without close", "journal syncs", "checkpoints", "puts per sync", "CPU us per put");
  int run = 0;
  for (int threads : thread_counts) {
    auto store_or = FileStore::Open(dir + "/run" + std::to_string(run++), options);
    if (!store_or.ok()) {
      std::fprintf(stderr, "open: %s\n", store_or.status().ToString().c_str());
      return 1;
    }
    std::unique_ptr<FileStore> owned = std::move(store_or).value();
    FileStore& store = *owned;
    std::latch start(threads + 1);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    std::vector<int> failures(threads, 0);
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        constexpr int kSessionsPerThread = 8;
        std::vector<std::string> etags(kSessionsPerThread);
        std::string value(size, static_cast<char>('a' + t % 26));
        start.arrive_and_wait();
        for (int i = 0; i < ops_per_thread; ++i) {
          const int s = i % kSessionsPerThread;
          const std::string key = "sessions/t" + std::to_string(t) + "s" + std::to_string(s);
          std::snprintf(value.data(), value.size(), "%d", i);  // distinct contents each time
          auto cond =
              etags[s].empty() ? WriteCondition::CreateOnly() : WriteCondition::IfMatch(etags[s]);
          auto etag = store.Put(key, value, cond);
          if (!etag.ok()) {
            ++failures[t];
            continue;
          }
          etags[s] = *etag;
        }
      });
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = CpuMicros();
    start.arrive_and_wait();
    for (auto& w : workers) w.join();
    const double open_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const FileStore::Stats stats = store.stats();
    owned.reset();  // the clean close checkpoints what the run left in the journal
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_micros = CpuMicros() - cpu0;
    const long puts = static_cast<long>(threads) * ops_per_thread;
    int failed = 0;
    for (int f : failures) failed += f;
    std::printf(
        "%8d %10ld %12.0f %14.0f %14llu %12llu %16.2f %14.1f%s\n", threads, puts, puts / seconds,
        puts / open_seconds, static_cast<unsigned long long>(stats.journal_syncs),
        static_cast<unsigned long long>(stats.checkpoints),
        stats.journal_syncs == 0 ? 0.0
                                 : static_cast<double>(stats.journal_records) / stats.journal_syncs,
        cpu_micros / static_cast<double>(puts), failed == 0 ? "" : "  (some puts failed!)");
  }
  if (remove_dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}
