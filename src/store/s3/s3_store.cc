// S3Store (see s3_store.h).
#include "store/s3/s3_store.h"

#include <algorithm>
#include <thread>

#include "store/s3/s3_xml.h"

namespace ds::store::s3 {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kIfMatchUnknown = 0;
constexpr int kIfMatchQuoted = 1;
constexpr int kIfMatchUnquoted = 2;

// S3 limits a page to 1000 keys; asking for more gets 1000 and a continuation.
constexpr size_t kMaxKeysPerPage = 1000;

// An etag that can be sent in a header: printable ASCII without quotes, commas or spaces. S3
// etags are hex digits (and a '-' for multipart uploads); anything else can never match an
// object, and sending it could break the header (or, if empty, make curl drop the header and
// turn a conditional write into an unconditional one).
bool SendableEtag(std::string_view etag) {
  if (etag.empty()) return false;
  return std::all_of(etag.begin(), etag.end(),
                     [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != ','; });
}

std::string DescribeAttempt(const HttpResponse& r, const std::string& error_code) {
  if (r.error != TransportError::kNone) return r.error_message;
  std::string out = "HTTP " + std::to_string(r.status);
  if (!error_code.empty()) out += " " + error_code;
  return out;
}

}  // namespace

std::string NormalizeEtag(std::string_view etag) {
  while (!etag.empty() && etag.front() == ' ') etag.remove_prefix(1);
  while (!etag.empty() && etag.back() == ' ') etag.remove_suffix(1);
  if (etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

Result<std::unique_ptr<S3Store>> S3Store::Open(
    std::string_view url, const std::function<std::optional<std::string>(const char*)>& getenv) {
  Result<S3Config> config = ParseS3Config(url, getenv);
  if (!config.ok()) return config.status();
  return OpenWithConfig(std::move(config).value());
}

std::unique_ptr<S3Store> S3Store::OpenWithConfig(S3Config config) {
  return std::unique_ptr<S3Store>(new S3Store(std::move(config)));
}

S3Store::S3Store(S3Config config)
    : config_(std::move(config)),
      signer_(config_.credentials, config_.region),
      http_(HttpClient::Options{config_.max_in_flight, config_.connect_timeout}),
      if_match_style_(config_.unquoted_if_match == UnquotedIfMatch::kAlways  ? kIfMatchUnquoted
                      : config_.unquoted_if_match == UnquotedIfMatch::kNever ? kIfMatchQuoted
                                                                             : kIfMatchUnknown),
      rng_(std::random_device{}()) {}

S3Store::~S3Store() = default;

std::string S3Store::Describe() const { return config_.Describe(); }

S3Store::Stats S3Store::stats() const {
  Stats s;
  s.requests = counters_.requests.load();
  s.retries = counters_.retries.load();
  s.throttled = counters_.throttled.load();
  s.server_errors = counters_.server_errors.load();
  s.transport_errors = counters_.transport_errors.load();
  s.precondition_failed = counters_.precondition_failed.load();
  s.outcome_unknown = counters_.outcome_unknown.load();
  s.failed_calls = counters_.failed_calls.load();
  s.connections_opened = http_.connections_opened();
  s.unquoted_if_match = if_match_style_.load() == kIfMatchUnquoted;
  return s;
}

std::vector<std::pair<std::string, uint64_t>> S3Store::Metrics() const {
  const Stats s = stats();
  return {{"s3_requests", s.requests},
          {"s3_retries", s.retries},
          {"s3_throttled", s.throttled},
          {"s3_server_errors", s.server_errors},
          {"s3_transport_errors", s.transport_errors},
          {"s3_precondition_failed", s.precondition_failed},
          {"s3_outcome_unknown", s.outcome_unknown},
          {"s3_failed_calls", s.failed_calls},
          {"s3_connections_opened", s.connections_opened},
          {"s3_unquoted_if_match", s.unquoted_if_match ? 1 : 0}};
}

std::string S3Store::FullKey(std::string_view key) const {
  std::string out = config_.prefix;
  out.append(key);
  return out;
}

uint64_t S3Store::Random() {
  std::lock_guard lock(rng_mu_);
  return rng_();
}

// --- Sending, signing and retrying -----------------------------------------------------------

Result<S3Store::Reply> S3Store::Execute(const Call& call) {
  const Clock::time_point deadline = Clock::now() + config_.deadline;
  const std::string host = config_.path_style ? config_.host : config_.bucket + "." + config_.host;
  std::string path;
  if (config_.path_style) path = "/" + UriEncode(config_.bucket, true);
  if (!call.object_key.empty() || !config_.path_style) {
    path += "/" + UriEncode(call.object_key, false);
  }
  const std::string query = CanonicalQueryString(call.query);
  const std::string url = config_.scheme + "://" + host + path + (query.empty() ? "" : "?" + query);
  const std::string payload_hash = Sha256Hex(call.body);
  const std::string what =
      call.method + " " + Describe() +
      call.object_key.substr(std::min(call.object_key.size(), config_.prefix.size()));

  std::string last_error;
  bool last_was_timeout = false;
  for (int attempt = 0;; ++attempt) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) break;

    CanonicalRequestInput signing;
    signing.method = call.method;
    signing.canonical_uri = path;
    signing.query = call.query;
    signing.headers = call.headers;
    signing.headers.emplace_back("host", host);
    signing.headers.emplace_back("x-amz-content-sha256", payload_hash);
    signing.payload_hash = payload_hash;
    const std::string authorization = signer_.Sign(signing, std::chrono::system_clock::now());

    HttpRequest request;
    request.method = call.method;
    request.url = url;
    request.headers = std::move(signing.headers);
    request.headers.emplace_back("Authorization", authorization);
    request.body = call.body;
    request.allow_resend = call.kind == RequestKind::kIdempotent;
    request.timeout =
        std::min(config_.request_timeout,
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                     std::chrono::milliseconds(1));
    request.max_response_bytes = call.max_response_bytes;

    HttpResponse response = http_.Perform(request, deadline);
    ++counters_.requests;
    if (attempt > 0) ++counters_.retries;

    Reply reply;
    if (response.error == TransportError::kNone && response.status >= 300 &&
        !response.body.empty()) {
      S3Error error = ParseS3Error(response.body);
      reply.error_code = std::move(error.code);
      reply.error_message = std::move(error.message);
    }
    if (response.error != TransportError::kNone) {
      ++counters_.transport_errors;
    } else if (response.status == 503 || response.status == 429) {
      ++counters_.throttled;
    } else if (response.status >= 500) {
      ++counters_.server_errors;
    }

    switch (ClassifyAttempt(response, reply.error_code, call.kind)) {
      case AttemptVerdict::kFinal:
        if (response.error == TransportError::kResponseTooLarge) {
          return Status::Limit(what + ": response larger than " +
                               std::to_string(call.max_response_bytes) +
                               " bytes (max_object_bytes)");
        }
        reply.http = std::move(response);
        return reply;
      case AttemptVerdict::kOutcomeUnknown:
        ++counters_.outcome_unknown;
        return Status::OutcomeUnknown(what + ": " + DescribeAttempt(response, reply.error_code) +
                                      " after the request was sent; the write may or may not "
                                      "have been applied");
      case AttemptVerdict::kRetry:
        break;
    }
    last_error = DescribeAttempt(response, reply.error_code);
    last_was_timeout = response.error == TransportError::kTimeout;
    const auto delay = BackoffDelay(attempt, config_.backoff_base, config_.backoff_max, Random());
    if (Clock::now() + delay >= deadline) break;
    std::this_thread::sleep_for(delay);
  }
  ++counters_.failed_calls;
  std::string message = what + ": no answer within the deadline of " +
                        std::to_string(config_.deadline.count()) + " ms";
  if (!last_error.empty()) message += "; last error: " + last_error;
  return last_was_timeout ? Status::Timeout(message) : Status::Unavailable(message);
}

Status S3Store::UnexpectedReply(const Call& call, const Reply& reply) const {
  const long status = reply.http.status;
  std::string message =
      call.method + " " + Describe() +
      call.object_key.substr(std::min(call.object_key.size(), config_.prefix.size())) + ": HTTP " +
      std::to_string(status);
  if (!reply.error_code.empty()) message += " " + reply.error_code;
  if (!reply.error_message.empty()) message += " (" + reply.error_message + ")";
  if (reply.error_code == "NoSuchBucket") {
    return Status::IOError(message + ": bucket " + config_.bucket + " does not exist");
  }
  if (status == 403 || status == 401) {
    return Status::IOError(message + ": check the credentials, the region and the bucket policy");
  }
  if (reply.error_code == "EntityTooLarge") return Status::Limit(message);
  if (reply.error_code == "KeyTooLongError" || reply.error_code == "InvalidArgument") {
    return Status::InvalidArgument(message);
  }
  return Status::IOError(message);
}

// --- The Store operations --------------------------------------------------------------------

Result<Object> S3Store::Get(std::string_view key, std::string_view if_none_match) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  Call call;
  call.method = "GET";
  call.object_key = FullKey(key);
  call.max_response_bytes = config_.max_object_bytes;
  if (SendableEtag(if_none_match)) {
    call.headers.emplace_back("if-none-match", "\"" + std::string(if_none_match) + "\"");
  }
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  const long status = reply->http.status;
  if (status == 200) {
    std::string etag = NormalizeEtag(reply->http.Header("etag"));
    if (etag.empty()) {
      return Status::IOError("GET " + std::string(key) + ": the server sent no ETag");
    }
    return Object{std::move(reply->http.body), std::move(etag)};
  }
  if (status == 304) return Status::NotModified(std::string(key));
  if (status == 404 && reply->error_code != "NoSuchBucket") {
    return Status::NotFound(std::string(key));
  }
  return UnexpectedReply(call, *reply);
}

Result<std::string> S3Store::PutOnce(std::string_view full_key, std::string_view data,
                                     const WriteCondition& condition, bool unquoted) {
  Call call;
  call.method = "PUT";
  call.object_key = std::string(full_key);
  call.body = data;
  switch (condition.kind) {
    case WriteCondition::Kind::kNone:
      break;
    case WriteCondition::Kind::kCreateOnly:
      call.kind = RequestKind::kConditionalWrite;
      call.headers.emplace_back("if-none-match", "*");
      break;
    case WriteCondition::Kind::kIfMatch:
      call.kind = RequestKind::kConditionalWrite;
      call.headers.emplace_back("if-match",
                                unquoted ? condition.etag : "\"" + condition.etag + "\"");
      break;
  }
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  const long status = reply->http.status;
  const std::string key(full_key.substr(config_.prefix.size()));
  if (status == 200) {
    std::string etag = NormalizeEtag(reply->http.Header("etag"));
    if (etag.empty()) return Status::IOError("PUT " + key + ": the server sent no ETag");
    return etag;
  }
  if (call.kind == RequestKind::kConditionalWrite) {
    // 404 answers an If-Match on a missing key (AWS: NoSuchKey): "the object is gone".
    if (status == 412 || status == 409 ||
        (status == 404 && condition.kind == WriteCondition::Kind::kIfMatch &&
         reply->error_code != "NoSuchBucket")) {
      ++counters_.precondition_failed;
      return Status::PreconditionFailed(
          "PUT " + key + ": " +
          (condition.kind == WriteCondition::Kind::kCreateOnly ? "the object already exists"
                                                               : "the etag no longer matches") +
          " (HTTP " + std::to_string(status) +
          (reply->error_code.empty() ? "" : " " + reply->error_code) + ")");
    }
  }
  return UnexpectedReply(call, *reply);
}

Result<std::string> S3Store::Put(std::string_view key, std::string_view data,
                                 const WriteCondition& condition) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  const std::string full_key = FullKey(key);
  if (condition.kind != WriteCondition::Kind::kIfMatch) {
    return PutOnce(full_key, data, condition, false);
  }
  if (!SendableEtag(condition.etag)) {
    ++counters_.precondition_failed;
    return Status::PreconditionFailed("PUT " + std::string(key) + ": etag \"" + condition.etag +
                                      "\" can match no object");
  }
  const int style = if_match_style_.load();
  Result<std::string> put = PutOnce(full_key, data, condition, style == kIfMatchUnquoted);
  if (style != kIfMatchUnknown) return put;
  if (put.ok()) {
    if_match_style_.store(kIfMatchQuoted);
    return put;
  }
  if (!put.status().IsPreconditionFailed()) return put;

  // Detecting the Ceph quirk: the quoted If-Match failed. If the object still has exactly that
  // etag, the server did not understand the quotes; send it once more unquoted. A 412 there too
  // means someone else really did change the object (both answers stand).
  Call head;
  head.method = "HEAD";
  head.object_key = full_key;
  Result<Reply> current = Execute(head);
  if (!current.ok() || current->http.status != 200 ||
      NormalizeEtag(current->http.Header("etag")) != condition.etag) {
    return put;
  }
  --counters_.precondition_failed;  // the first answer was the quirk, not a lost race
  Result<std::string> unquoted = PutOnce(full_key, data, condition, true);
  if (unquoted.ok()) if_match_style_.store(kIfMatchUnquoted);
  return unquoted;
}

Status S3Store::Delete(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  Call call;
  call.method = "DELETE";
  call.object_key = FullKey(key);
  Result<Reply> reply = Execute(call);
  if (!reply.ok()) return reply.status();
  const long status = reply->http.status;
  if (status == 204 || status == 200) return Status::OK();
  if (status == 404 && reply->error_code != "NoSuchBucket") return Status::OK();
  return UnexpectedReply(call, *reply);
}

Result<ListPage> S3Store::List(std::string_view prefix, std::string_view continuation,
                               size_t max_keys) {
  if (max_keys == 0) return Status::InvalidArgument("max_keys must be at least 1");
  const std::string full_prefix = FullKey(prefix);
  std::string token(continuation);
  // S3 may answer a truncated page with no keys (many deleted keys in the index); the contract
  // wants a page with a continuation to be non-empty, so keep reading. Bounded: each round
  // moves the listing forward.
  for (int round = 0; round < 1000; ++round) {
    Call call;
    call.method = "GET";
    call.query = {{"list-type", "2"},
                  {"prefix", full_prefix},
                  {"max-keys", std::to_string(std::min(max_keys, kMaxKeysPerPage))},
                  {"encoding-type", "url"}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    call.max_response_bytes = size_t{16} << 20;
    Result<Reply> reply = Execute(call);
    if (!reply.ok()) return reply.status();
    if (reply->http.status != 200) return UnexpectedReply(call, *reply);
    Result<ListObjectsResult> parsed = ParseListObjectsV2(reply->http.body);
    if (!parsed.ok()) return parsed.status();
    ListPage page;
    for (ListedObject& object : parsed->objects) {
      if (object.key.compare(0, full_prefix.size(), full_prefix) != 0) {
        return Status::Corruption("S3 listing of prefix \"" + full_prefix + "\" returned key \"" +
                                  object.key + "\" outside it");
      }
      page.entries.push_back(ListEntry{object.key.substr(config_.prefix.size()),
                                       NormalizeEtag(object.etag), object.size});
    }
    if (parsed->is_truncated) page.continuation = parsed->next_continuation_token;
    if (!page.entries.empty() || page.continuation.empty()) return page;
    token = page.continuation;
  }
  return Status::Unavailable("S3 listing of prefix \"" + full_prefix +
                             "\" returned 1000 empty pages in a row");
}

}  // namespace ds::store::s3
