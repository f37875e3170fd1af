// Functions that append RESP2 replies to an output buffer.
//
// Replies are appended to a std::string that the connection writes to its socket in one go, so
// that a pipeline of N requests costs one write system call, not N.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ds::protocol {

// +OK\r\n. REQUIRES: s contains no CR or LF.
void AppendSimpleString(std::string& out, std::string_view s);
// -<kind> <message>\r\n, e.g. kind "ERR", "LIMIT", "BADVALUE". CR/LF in message become spaces.
void AppendError(std::string& out, std::string_view kind, std::string_view message);
// :<n>\r\n
void AppendInteger(std::string& out, int64_t n);
// $<len>\r\n<bytes>\r\n
void AppendBulk(std::string& out, std::string_view bytes);
// $-1\r\n (RESP2 null)
void AppendNull(std::string& out);
// *<n>\r\n; the caller then appends n elements.
void AppendArrayHeader(std::string& out, size_t n);

}  // namespace ds::protocol
