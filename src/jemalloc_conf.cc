// jemalloc's configuration, compiled into durable-stashd only when it links jemalloc
// (src/CMakeLists.txt). jemalloc reads the string that `malloc_conf` points to when it starts;
// MALLOC_CONF in the environment can still override it.
//
// background_thread:true: memory freed by the daemon goes back to the kernel from jemalloc's
// own thread, some seconds later, also while the daemon is idle. Without it jemalloc returns
// memory only when the program allocates again, so a daemon that goes quiet after a burst
// keeps the burst's transient memory (e.g. the file store's dirty objects, written back and
// freed) in its RSS for good: measured, 1,017 against 872 bytes per resident session after
// 100,000 sessions were stashed (BENCHMARKS.md). Redis turns the same option on by default.
extern "C" const char* const malloc_conf = "background_thread:true,dirty_decay_ms:1000";
