#include "core/python_pow.hpp"

#include <cmath>

namespace mga {

double python_pow(double x, double y) {
  // Out of line, so no caller's constant exponent reaches std::pow; and if
  // link-time optimization ever inlines it, this empty asm, which "may
  // change" y, still keeps the exponent unknown, so pow cannot be rewritten.
  asm("" : "+m"(y));
  return std::pow(x, y);
}

}  // namespace mga
