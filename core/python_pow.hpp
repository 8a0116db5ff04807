// python_pow(x, y): Python's `x ** y` on floats, with microgpt.py's bits.
//
// CPython's float `**` (float_pow) calls the C library's pow() for every
// finite operand that is not 0 or 1, with no shortcut for any exponent; a
// negative base with an integer exponent goes to pow(-x, y), whose magnitude
// glibc computes the same way. std::pow would be the same call, but GCC
// replaces std::pow(x, 2) by x * x and std::pow(x, -1.0) by 1 / x when it sees
// the exponent, and those are correctly rounded where glibc's pow is not: they
// differ from it about once in 1200 calls, enough to change parameters from
// the first steps on (tests/test_python_bits.cpp). So every place that mirrors
// a Python `**` (Graph::pow and Graph::div, Adam, the tapes) calls this
// function, which is defined out of line and hides its exponent from the
// optimizer (core/python_pow.cpp): the real pow runs at every call.
#pragma once

namespace mga {

double python_pow(double x, double y);

}  // namespace mga
