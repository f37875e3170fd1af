// Parsing of s3:// store URLs and the AWS environment (see s3_config.h).
#include "store/s3/s3_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace ds::store::s3 {
namespace {

constexpr std::string_view kScheme = "s3://";
constexpr std::string_view kEnvPrefix = "DURABLE_STASH_S3_";

// Every option a URL (or DURABLE_STASH_S3_*) may set. Anything else is refused, so that a typo
// does not silently fall back to a default.
constexpr std::string_view kOptions[] = {"endpoint",           "region",
                                         "path_style",         "ceph_unquoted_if_match",
                                         "max_in_flight",      "connect_timeout_ms",
                                         "request_timeout_ms", "deadline_ms",
                                         "max_object_bytes"};

Status Invalid(std::string_view url, const std::string& why) {
  return Status::InvalidArgument("store URL " + std::string(url) + ": " + why);
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::optional<bool> ParseBool(std::string_view v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return std::nullopt;
}

std::optional<uint64_t> ParseUint(std::string_view v) {
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

// Bucket names as S3 allows them in a path: letters, digits, '.', '-' and '_' (the last and
// upper case only for legacy buckets, which then need path_style).
bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 255) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

struct Endpoint {
  std::string scheme;
  std::string host;  // host[:port] as written, without a default port
};

Result<Endpoint> ParseEndpoint(std::string_view url, std::string_view endpoint) {
  Endpoint out;
  const size_t sep = endpoint.find("://");
  if (sep == std::string_view::npos) {
    return Invalid(url,
                   "endpoint " + std::string(endpoint) + " must start with http:// or https://");
  }
  out.scheme = std::string(endpoint.substr(0, sep));
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https") {
    return Invalid(url, "endpoint " + std::string(endpoint) + " must be http:// or https://");
  }
  std::string_view rest = endpoint.substr(sep + 3);
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest.substr(slash) != "/") {
    return Invalid(url, "endpoint " + std::string(endpoint) +
                            " must not have a path: S3 endpoints are http(s)://host[:port]");
  }
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(url,
                   "credentials do not belong in the endpoint URL: set AWS_ACCESS_KEY_ID "
                   "and AWS_SECRET_ACCESS_KEY in the environment");
  }
  if (authority.empty()) return Invalid(url, "endpoint " + std::string(endpoint) + " has no host");
  // Drop a default port, as HTTP clients do in the Host header they send (the signature covers
  // the Host header, so it must match byte for byte).
  std::string host(authority);
  const size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = host.substr(colon + 1);
    if (!ParseUint(port) || *ParseUint(port) == 0 || *ParseUint(port) > 65535) {
      return Invalid(url, "endpoint " + std::string(endpoint) + " has a bad port");
    }
    if ((out.scheme == "http" && port == "80") || (out.scheme == "https" && port == "443")) {
      host.resize(colon);
    }
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.host = host;
  return out;
}

// The [profile] section of an AWS shared credentials file (INI: "key = value" lines).
std::map<std::string, std::string> ReadCredentialsProfile(const std::string& path,
                                                          const std::string& profile) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  bool in_profile = false;
  while (std::getline(in, line)) {
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      in_profile = Trim(std::string_view(t).substr(1, t.size() - 2)) == profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    out[Trim(std::string_view(t).substr(0, eq))] = Trim(std::string_view(t).substr(eq + 1));
  }
  return out;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex(in[i + 1]);
      const int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string S3Config::Describe() const {
  std::string out = "s3:" + scheme + "://";
  if (path_style) {
    out += host + "/" + bucket + "/";
  } else {
    out += bucket + "." + host + "/";
  }
  return out + prefix;
}

Result<S3Config> ParseS3Config(std::string_view url, const GetEnvFn& getenv) {
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Invalid(url, "an s3 store URL starts with s3://, e.g. s3://my-bucket/stash/");
  }
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  S3Config config;
  const size_t slash = rest.find('/');
  config.bucket = std::string(rest.substr(0, slash));
  if (!ValidBucket(config.bucket)) {
    return Invalid(url, "bucket name \"" + config.bucket +
                            "\" is not valid (3 or more letters, digits, '.', '-' or '_')");
  }
  if (slash != std::string_view::npos) {
    std::optional<std::string> prefix = PercentDecode(rest.substr(slash + 1), false);
    if (!prefix) return Invalid(url, "bad %-escape in the prefix");
    config.prefix = *prefix;
    if (!config.prefix.empty() && config.prefix.back() != '/') config.prefix.push_back('/');
  }

  // URL options.
  std::map<std::string, std::string> options;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name(item.substr(0, eq));
    std::optional<std::string> value = PercentDecode(
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!value) return Invalid(url, "bad %-escape in option " + name);
    if (std::find(std::begin(kOptions), std::end(kOptions), name) == std::end(kOptions)) {
      std::string known;
      for (std::string_view o : kOptions) known += (known.empty() ? "" : ", ") + std::string(o);
      std::string hint;
      if (name.find("key") != std::string::npos || name.find("secret") != std::string::npos ||
          name.find("token") != std::string::npos) {
        hint =
            " (credentials are read from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the "
            "shared credentials file, never from the URL)";
      }
      std::string message = "unknown option \"" + name + "\"";
      message.append(hint).append("; known options: ").append(known);
      return Invalid(url, message);
    }
    options[name] = *value;
  }
  auto option = [&](std::string_view name) -> std::optional<std::string> {
    if (auto it = options.find(std::string(name)); it != options.end()) return it->second;
    std::string env(kEnvPrefix);
    env += Upper(name);
    if (std::optional<std::string> v = getenv(env.c_str()); v && !v->empty()) return v;
    return std::nullopt;
  };
  auto env = [&](const char* name) -> std::optional<std::string> {
    std::optional<std::string> v = getenv(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };

  // Region and endpoint.
  if (auto v = option("region")) {
    config.region = *v;
  } else if (auto r = env("AWS_REGION")) {
    config.region = *r;
  } else if (auto d = env("AWS_DEFAULT_REGION")) {
    config.region = *d;
  }
  std::optional<std::string> endpoint = option("endpoint");
  if (!endpoint) endpoint = env("AWS_ENDPOINT_URL_S3");
  if (!endpoint) endpoint = env("AWS_ENDPOINT_URL");
  const bool aws = !endpoint.has_value();
  Result<Endpoint> parsed =
      ParseEndpoint(url, aws ? "https://s3." + config.region + ".amazonaws.com" : *endpoint);
  if (!parsed.ok()) return parsed.status();
  config.scheme = parsed->scheme;
  config.host = parsed->host;

  // Virtual-hosted addressing is what AWS wants; other servers reached by an IP address or a
  // single host name only understand paths. A bucket with dots cannot be a TLS host name.
  config.path_style = !aws || config.bucket.find('.') != std::string::npos;
  if (auto v = option("path_style")) {
    std::optional<bool> b = ParseBool(*v);
    if (!b) return Invalid(url, "path_style must be true or false, not \"" + *v + "\"");
    config.path_style = *b;
  }
  if (auto v = option("ceph_unquoted_if_match")) {
    if (*v == "auto") {
      config.unquoted_if_match = UnquotedIfMatch::kAuto;
    } else if (std::optional<bool> b = ParseBool(*v)) {
      config.unquoted_if_match = *b ? UnquotedIfMatch::kAlways : UnquotedIfMatch::kNever;
    } else {
      return Invalid(url, "ceph_unquoted_if_match must be auto, true or false");
    }
  }

  struct NumberOption {
    std::string_view name;
    uint64_t min;
    uint64_t max;
    std::function<void(uint64_t)> set;
  };
  const NumberOption numbers[] = {
      {"max_in_flight", 1, 4096, [&](uint64_t n) { config.max_in_flight = n; }},
      {"connect_timeout_ms", 1, 600000,
       [&](uint64_t n) { config.connect_timeout = std::chrono::milliseconds(n); }},
      {"request_timeout_ms", 1, 3600000,
       [&](uint64_t n) { config.request_timeout = std::chrono::milliseconds(n); }},
      {"deadline_ms", 1, 3600000,
       [&](uint64_t n) { config.deadline = std::chrono::milliseconds(n); }},
      {"max_object_bytes", 1, uint64_t{1} << 40, [&](uint64_t n) { config.max_object_bytes = n; }},
  };
  for (const NumberOption& n : numbers) {
    std::optional<std::string> v = option(n.name);
    if (!v) continue;
    std::optional<uint64_t> value = ParseUint(*v);
    if (!value || *value < n.min || *value > n.max) {
      return Invalid(url, std::string(n.name) + " must be a whole number from " +
                              std::to_string(n.min) + " to " + std::to_string(n.max) + ", not \"" +
                              *v + "\"");
    }
    n.set(*value);
  }

  // Credentials: the environment, else the shared credentials file.
  std::optional<std::string> key_id = env("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env("AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) {
    config.credentials.access_key_id = *key_id;
    config.credentials.secret_access_key = *secret;
    config.credentials.session_token = env("AWS_SESSION_TOKEN").value_or("");
  } else if (key_id || secret) {
    return Invalid(url, "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not only one");
  } else {
    std::string file;
    if (auto f = env("AWS_SHARED_CREDENTIALS_FILE")) {
      file = *f;
    } else if (auto home = env("HOME")) {
      file = *home + "/.aws/credentials";
    }
    const std::string profile = env("AWS_PROFILE").value_or("default");
    std::map<std::string, std::string> values;
    if (!file.empty()) values = ReadCredentialsProfile(file, profile);
    if (values.count("aws_access_key_id") == 0 || values.count("aws_secret_access_key") == 0) {
      return Invalid(url,
                     "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                     "(and AWS_SESSION_TOKEN for temporary ones), or put profile \"" +
                         profile + "\" in " +
                         (file.empty() ? std::string("~/.aws/credentials") : file));
    }
    config.credentials.access_key_id = values["aws_access_key_id"];
    config.credentials.secret_access_key = values["aws_secret_access_key"];
    config.credentials.session_token = values["aws_session_token"];
  }
  return config;
}

}  // namespace ds::store::s3
