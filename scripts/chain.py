"""microgpt.ts's `chain` allocation microbenchmark (bench-alloc.ts) for CPython:
acc = acc.add(b).mul(b) one million times, every Value kept alive through its
children, timed with a monotonic clock. The Value is microgpt.py's own (with
__slots__, children and local gradients in tuples), so it measures what CPython
allocates when it trains: per operation a Value and its children tuple, and for
`mul` a tuple of local gradients (add's (1, 1) is a shared constant).

Prints what bench-alloc.ts prints, so scripts/crosslang.py reads both alike:
  2000000 Value allocations in 1.234s
  1.6M allocs/sec
  result: 0.5
Usage: /usr/bin/python3 scripts/chain.py
"""
import time


class Value:
    __slots__ = ('data', 'grad', '_children', '_local_grads')  # as microgpt.py

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), (other.data, self.data))


ITERS = 1_000_000


def main():
    start = time.perf_counter()
    acc = Value(1)
    b = Value(0.5)
    for _ in range(ITERS):
        acc = (acc + b) * b  # 2 allocations per iteration, 2M Values kept alive
    elapsed = time.perf_counter() - start
    print(f"{ITERS * 2} Value allocations in {elapsed:.3f}s")
    print(f"{ITERS * 2 / elapsed / 1e6:.1f}M allocs/sec")
    print(f"result: {acc.data}")


if __name__ == "__main__":
    main()
