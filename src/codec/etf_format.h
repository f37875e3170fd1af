// Erlang external term format: the tag bytes (erts/emulator/beam/external.h, documented in
// OTP's "External Term Format" chapter). Internal to the codec.
#pragma once

#include <cstdint>

namespace ds::codec::etf {

inline constexpr uint8_t kVersion = 131;

inline constexpr uint8_t kNewFloat = 70;        // 8-byte IEEE double, big-endian
inline constexpr uint8_t kBitBinary = 77;       // u32 length, u8 bits in last byte, bytes
inline constexpr uint8_t kCompressed = 80;      // u32 uncompressed size, zlib stream
inline constexpr uint8_t kAtomCacheRef = 82;    // distribution only
inline constexpr uint8_t kNewPid = 88;          // node atom, u32 id, u32 serial, u32 creation
inline constexpr uint8_t kNewPort = 89;         // node atom, u32 id, u32 creation
inline constexpr uint8_t kNewerReference = 90;  // u16 n, node atom, u32 creation, n × u32
inline constexpr uint8_t kSmallInteger = 97;    // u8
inline constexpr uint8_t kInteger = 98;         // i32, big-endian
inline constexpr uint8_t kFloat = 99;           // 31 bytes of "%.20e" text (pre-R11)
inline constexpr uint8_t kAtom = 100;           // u16 length, Latin-1
inline constexpr uint8_t kReference = 101;      // node atom, u32 id, u8 creation
inline constexpr uint8_t kPort = 102;           // node atom, u32 id, u8 creation
inline constexpr uint8_t kPid = 103;            // node atom, u32 id, u32 serial, u8 creation
inline constexpr uint8_t kSmallTuple = 104;     // u8 arity, elements
inline constexpr uint8_t kLargeTuple = 105;     // u32 arity, elements
inline constexpr uint8_t kNil = 106;            // []
inline constexpr uint8_t kString = 107;         // u16 length, bytes: a list of small integers
inline constexpr uint8_t kList = 108;           // u32 length, elements, tail
inline constexpr uint8_t kBinary = 109;         // u32 length, bytes
inline constexpr uint8_t kSmallBig = 110;       // u8 n, u8 sign, n bytes little-endian
inline constexpr uint8_t kLargeBig = 111;       // u32 n, u8 sign, n bytes little-endian
inline constexpr uint8_t kNewFun = 112;         // u32 size (including itself), ...
inline constexpr uint8_t kExport = 113;         // module atom, function atom, arity
inline constexpr uint8_t kNewReference = 114;   // u16 n, node atom, u8 creation, n × u32
inline constexpr uint8_t kSmallAtom = 115;      // u8 length, Latin-1
inline constexpr uint8_t kMap = 116;            // u32 arity, key/value pairs
inline constexpr uint8_t kFun = 117;            // old closures (removed in OTP 23)
inline constexpr uint8_t kAtomUtf8 = 118;       // u16 length, UTF-8
inline constexpr uint8_t kSmallAtomUtf8 = 119;  // u8 length, UTF-8
inline constexpr uint8_t kV4Port = 120;         // node atom, u64 id, u32 creation
inline constexpr uint8_t kLocal = 121;          // node-local term (OTP 26), opaque

}  // namespace ds::codec::etf
