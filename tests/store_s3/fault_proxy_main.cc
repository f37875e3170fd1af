// fault_proxy: the FaultProxy (fault_proxy.h) as a program, for tests that run the daemon as a
// separate process and want its S3 traffic to fail on cue.
//
//   fault_proxy --upstream 127.0.0.1:7480 [--listen PORT]
//
// Prints "listening http://127.0.0.1:PORT" on stdout once it accepts connections, then serves
// until stdin closes or SIGTERM/SIGINT. Faults are injected over HTTP on the same port:
//   curl -X POST
//   'http://127.0.0.1:PORT/__fault/inject?kind=status&status=503&code=SlowDown&count=3' curl -X
//   POST 'http://127.0.0.1:PORT/__fault/inject?kind=commit_then_drop&method=PUT' curl
//   'http://127.0.0.1:PORT/__fault/stats'
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "fault_proxy.h"

int main(int argc, char** argv) {
  std::string upstream;
  int listen_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--upstream") == 0) upstream = argv[i + 1];
    if (std::strcmp(argv[i], "--listen") == 0) listen_port = std::atoi(argv[i + 1]);
  }
  const size_t colon = upstream.rfind(':');
  if (upstream.empty() || colon == std::string::npos) {
    std::fprintf(stderr, "usage: fault_proxy --upstream IPV4:PORT [--listen PORT]\n");
    return 2;
  }
  // Blocked before any thread starts, so that every thread inherits the mask and sigwait below
  // receives SIGTERM / SIGINT.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto proxy = ds::store::s3::test::FaultProxy::Start(
      upstream.substr(0, colon), std::atoi(upstream.c_str() + colon + 1), listen_port);
  if (!proxy) {
    std::fprintf(stderr, "fault_proxy: cannot listen on 127.0.0.1:%d\n", listen_port);
    return 1;
  }
  std::printf("listening %s\n", proxy->endpoint().c_str());
  std::fflush(stdout);

  // Serve until SIGTERM / SIGINT, or until stdin closes (the parent test went away).
  std::thread stdin_watch([] {
    char c;
    while (::read(0, &c, 1) > 0) {
    }
    ::kill(::getpid(), SIGTERM);
  });
  stdin_watch.detach();
  int sig = 0;
  sigwait(&signals, &sig);
  proxy->Stop();
  return 0;
}
