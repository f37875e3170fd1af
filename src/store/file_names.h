// How the file store names things on disk: keys to file names, and keys to fan-out
// subdirectories and lock stripes. The directory layout itself is described in file_store.h.
//
// File names: a key is an arbitrary non-empty byte string. Letters and digits are kept; every
// other byte b is written as an escape character followed by b in two upper-case hex digits,
// where the escape character depends on where b falls between the letters and digits:
//
//     0x00-0x2F  (controls, space, !"#$%&'()*+,-./)   '%'  e.g. '/' -> %2F, '.' -> %2E
//     0x3A-0x40  (:;<=>?@)                             '@'  e.g. ':' -> @3A
//     0x5B-0x60  ([\]^_`)                              '^'  e.g. '_' -> ^5F
//     0x7B-0xFF  ({|}~ DEL and bytes >= 0x80)          '~'  e.g. 0xC3 -> ~C3
//
// Each escape character lies in the same gap between letters and digits as the bytes it
// escapes, so names sort exactly like their keys (byte order): List compares and merges names
// without decoding them. Names contain only [0-9A-Za-z%@^~], so they never start with '.'
// (names starting with '.' are left to other tools, e.g. editors, and ignored), and "." / ".."
// cannot occur. The mapping is a bijection onto canonical names: DecodeFileName accepts exactly
// the names EncodeKey produces. `sessions/ab12` is stored as `sessions%2Fab12`.
//
// Fan-out: a key's subdirectory is the top byte of XXH3-64(key), written as two lower-case
// hex digits ("00".."ff"), so a million keys give about 4,000 files per directory. Changing
// the encoding, the hash or the fan-out moves existing keys: it needs a new store format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ds::store::file_names {

inline constexpr size_t kFanout = 256;
// The longest file name most Linux file systems accept (NAME_MAX).
inline constexpr size_t kMaxFileName = 255;

// XXH3-64 of the key: the top byte picks the fan-out subdirectory, the low bits the stripe.
uint64_t KeyHash(std::string_view key);
size_t FanoutIndex(uint64_t key_hash);
// "00".."ff" for index 0..255.
std::string FanoutDirName(size_t index);

// The file name of `key`. InvalidArgument when the key is empty or its encoding is longer
// than kMaxFileName (a key of letters and digits may be up to 255 bytes, one of other bytes
// 85).
Result<std::string> EncodeKey(std::string_view key);

// The key whose file name is `name`; false when `name` is not a canonical encoding (a file the
// store did not write, e.g. a temporary or foreign file).
bool DecodeFileName(std::string_view name, std::string* key);

// The encoding of `bytes` without EncodeKey's checks. Every byte encodes to a self-delimiting
// token and the encoding preserves order, so for canonical names: a key starts with `prefix`
// exactly when its name starts with Encode(prefix), and key1 < key2 exactly when
// Encode(key1) < Encode(key2).
std::string Encode(std::string_view bytes);

}  // namespace ds::store::file_names
