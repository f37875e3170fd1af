// RespClient: a small blocking RESP2 client for end-to-end tests.
//
// Deliberately independent of the daemon's own protocol code (src/protocol), so that a bug
// there cannot hide itself by being present on both ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ds::testing {

struct RespValue {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string str;  // simple, error, bulk
  int64_t integer = 0;
  std::vector<RespValue> elements;

  bool IsError() const { return type == Type::kError; }
  // Error kind: the first word of an error reply ("BADVALUE", ...).
  std::string ErrorKind() const { return str.substr(0, str.find(' ')); }
  // For failure messages.
  std::string Debug() const;
};

class RespClient {
 public:
  // How long a read waits for the daemon's next bytes (SO_RCVTIMEO) before it returns false and
  // fails the running test: longer than any test's legitimate wait (a DS.SYNC behind a failing
  // store waits for its timeout).
  static constexpr int kReplyTimeoutSeconds = 60;

  // Connects to 127.0.0.1:port; aborts the test process on failure (use in tests only).
  explicit RespClient(uint16_t port);
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;
  ~RespClient();

  // Sends one command and reads its reply.
  RespValue Call(const std::vector<std::string>& args);
  // Sends raw bytes.
  void SendRaw(std::string_view bytes);
  // Reads one reply. Returns false if the connection closed first, or nothing came for
  // kReplyTimeoutSeconds.
  bool Read(RespValue* out);
  // Reads exactly `n` raw bytes of the reply stream. Returns false if the connection closed,
  // or nothing came for kReplyTimeoutSeconds.
  bool ReadRaw(size_t n, std::string* out);
  // Returns the bytes already buffered, or else what one recv(2) brings (waiting for at least a
  // byte): tells which replies the daemon sent together. False if the connection closed, or
  // nothing came for kReplyTimeoutSeconds.
  bool ReceiveOnce(std::string* out);
  // True if the peer has closed the connection (reads EOF); false if it sends a byte or
  // nothing comes for kReplyTimeoutSeconds.
  bool PeerClosed();

  static std::string Encode(const std::vector<std::string>& args);

 private:
  bool Fill();
  bool ReadLine(std::string* line);
  bool ReadValue(RespValue* out);

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace ds::testing
