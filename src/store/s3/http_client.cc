// HttpClient over libcurl easy handles (see http_client.h).
#include "store/s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

namespace ds::store::s3 {
namespace {

// libcurl's global state must be set up once, before any handle exists, and (for libcurl
// builds that are not thread-safe there) not concurrently: a function-local static does both.
// It is never torn down: the daemon uses HTTP until it exits.
void EnsureCurlInitialized() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// What one transfer needs while libcurl runs it: the body being uploaded and the response being
// collected.
struct Transfer {
  const HttpRequest* request = nullptr;
  size_t body_offset = 0;  // bytes of the body handed to libcurl so far
  bool rewind_refused = false;
  bool too_large = false;
  HttpResponse* response = nullptr;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const std::string_view body = t->request->body;
  const size_t n = std::min(size * nitems, body.size() - t->body_offset);
  std::memcpy(buffer, body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

// libcurl rewinds the body only to send the request again: after a redirect or an auth round
// (neither is used here), or when a reused connection died before any response byte arrived.
// For a request that must not be resent (a conditional write), refuse: the first copy may have
// been applied, and only the caller can find out (see http_client.h).
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  if (!t->request->allow_resend && t->body_offset > 0) {
    t->rewind_refused = true;
    return CURL_SEEKFUNC_FAIL;
  }
  t->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  if (t->response->body.size() + n > t->request->max_response_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, n);
  return n;
}

size_t CollectHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nitems;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (after a 100 Continue): start over
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

}  // namespace

struct HttpClient::Handle {
  std::unique_ptr<CURL, CurlDeleter> curl;
};

std::string HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

HttpClient::HttpClient(Options options) : options_(options) { EnsureCurlInitialized(); }

HttpClient::~HttpClient() = default;

uint64_t HttpClient::connections_opened() const {
  std::lock_guard lock(mu_);
  return connections_opened_;
}

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (!slot_freed_.wait_until(lock, deadline,
                              [this] { return in_flight_ < options_.max_in_flight; })) {
    return nullptr;
  }
  ++in_flight_;
  if (!idle_.empty()) {
    std::unique_ptr<Handle> handle = std::move(idle_.back());
    idle_.pop_back();
    return handle;
  }
  lock.unlock();
  auto handle = std::make_unique<Handle>();
  handle->curl.reset(curl_easy_init());
  if (!handle->curl) {
    Release(nullptr);
    return nullptr;
  }
  return handle;
}

void HttpClient::Release(std::unique_ptr<Handle> handle) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (handle) idle_.push_back(std::move(handle));
  }
  slot_freed_.notify_one();
}

HttpResponse HttpClient::Perform(const HttpRequest& request,
                                 std::chrono::steady_clock::time_point deadline) {
  std::unique_ptr<Handle> handle = Acquire(deadline);
  if (!handle) {
    HttpResponse response;
    response.error = TransportError::kNotSent;
    response.may_have_arrived = false;
    response.error_message = "no free connection slot before the deadline (max_in_flight " +
                             std::to_string(options_.max_in_flight) + ")";
    return response;
  }
  HttpResponse response = Run(*handle, request);
  Release(std::move(handle));
  return response;
}

HttpResponse HttpClient::Run(Handle& handle, const HttpRequest& request) {
  CURL* curl = handle.curl.get();
  // Resets the options of the previous request; the handle keeps its open connections.
  curl_easy_reset(curl);

  HttpResponse response;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;

  std::unique_ptr<curl_slist, HeaderListDeleter> headers;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line.append(": ").append(value);
    add_header(line);
  }
  // No "Expect: 100-continue" round trip before a body: it costs a round trip per PUT, and
  // S3 answers errors for a PUT just as well after the body.
  add_header("Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // required with threads: no SIGALRM timeouts
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  // Object keys may contain "/./" or "/../": send the path exactly as signed.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "durable-stashd");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options_.connect_timeout, request.timeout).count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);

  const bool upload = request.method == "PUT";
  if (upload) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);

  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  if (connects > 0) {
    std::lock_guard lock(mu_);
    connections_opened_ += static_cast<uint64_t>(connects);
  }
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

  // A failure. Could the server have received the whole request?
  curl_off_t pretransfer_us = 0;
  curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  const bool started_sending = pretransfer_us > 0;
  const bool body_incomplete = upload && transfer.body_offset < request.body.size();
  response.may_have_arrived = started_sending && !body_incomplete;
  response.error_message = curl_easy_strerror(code);
  response.status = 0;
  response.headers.clear();
  response.body.clear();
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      response.error = TransportError::kNotSent;
      response.may_have_arrived = false;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      response.error = TransportError::kTimeout;
      break;
    case CURLE_WRITE_ERROR:
      response.error =
          transfer.too_large ? TransportError::kResponseTooLarge : TransportError::kConnectionLost;
      break;
    case CURLE_SEND_FAIL_REWIND:
      response.error = TransportError::kConnectionLost;
      response.may_have_arrived = true;
      response.error_message = "connection lost after the request was sent (not resent)";
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_READ_ERROR:
      response.error = TransportError::kConnectionLost;
      break;
    default:
      response.error = TransportError::kOther;
      break;
  }
  if (transfer.rewind_refused) {
    response.error = TransportError::kConnectionLost;
    response.may_have_arrived = true;
  }
  return response;
}

}  // namespace ds::store::s3
