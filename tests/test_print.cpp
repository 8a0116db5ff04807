// The step line as each mirrored program prints it; the expected strings are
// what CPython 3.11 (f"{x:.4f}") and Node 26 (x.toFixed(4)) print.
#include <gtest/gtest.h>

#include <cmath>

#include "core/print.hpp"

namespace mga {
namespace {

TEST(Print, MicrogptPyPadsTheTotal) {
  EXPECT_EQ(format_step(7, 40, 2.5, RngKind::python), "step    7 /   40 | loss 2.5000");
  EXPECT_EQ(format_step(12345, 20000, 3.36595, RngKind::python),
            "step 12345 / 20000 | loss 3.3660");
}

TEST(Print, MicrogptTsDoesNotPadTheTotal) {
  EXPECT_EQ(format_step(7, 40, 2.5, RngKind::mulberry32), "step    7 / 40 | loss 2.5000");
  EXPECT_EQ(format_step(1, 1000, 3.36595, RngKind::mulberry32), "step    1 / 1000 | loss 3.3660");
}

// Exact ties (x * 20000 an odd integer): Python rounds half to even, toFixed away from zero.
TEST(Print, TiesRoundAsEachLanguageDoes) {
  EXPECT_EQ(python_fixed4(0.03125), "0.0312");
  EXPECT_EQ(js_to_fixed4(0.03125), "0.0313");
  EXPECT_EQ(python_fixed4(2.03125), "2.0312");
  EXPECT_EQ(js_to_fixed4(2.03125), "2.0313");
  EXPECT_EQ(js_to_fixed4(-0.03125), "-0.0313");
  EXPECT_EQ(python_fixed4(0.09375), "0.0938");  // an odd neighbour: both round up
  EXPECT_EQ(js_to_fixed4(0.09375), "0.0938");
  EXPECT_EQ(js_to_fixed4(0.00005), "0.0001");  // 5e-5 is not exact: no tie
  EXPECT_EQ(js_to_fixed4(1.00015), "1.0002");
}

TEST(Print, SpecialValues) {
  EXPECT_EQ(python_fixed4(NAN), "nan");
  EXPECT_EQ(python_fixed4(-NAN), "nan");
  EXPECT_EQ(python_fixed4(-0.0), "-0.0000");
  EXPECT_EQ(python_fixed4(INFINITY), "inf");
  EXPECT_EQ(js_to_fixed4(NAN), "NaN");
  EXPECT_EQ(js_to_fixed4(INFINITY), "Infinity");
  EXPECT_EQ(js_to_fixed4(-INFINITY), "-Infinity");
  EXPECT_EQ(js_to_fixed4(-0.0), "0.0000");
  EXPECT_EQ(format_step(3, 3, NAN, RngKind::mulberry32), "step    3 / 3 | loss NaN");
}

}  // namespace
}  // namespace mga
