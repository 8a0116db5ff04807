// Text for messages.
#pragma once

#include <string>
#include <string_view>

namespace mga {

// `text` on one line, for a message: control characters (a newline in a path)
// become escapes such as \n and \x01.
std::string one_line(std::string_view text);

}  // namespace mga
