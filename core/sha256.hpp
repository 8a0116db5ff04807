// SHA-256 (FIPS 180-4), to check the downloaded dataset.
#pragma once

#include <string>
#include <string_view>

namespace mga {

// Lower-case hex digest of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace mga
