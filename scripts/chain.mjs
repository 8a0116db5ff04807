// The allocation microbenchmark of microgpt.ts, for a JavaScript engine:
// acc = acc.add(b).mul(b) one million times, every Value kept alive through
// its children. Prints one JSON object with allocs/s per repetition and the
// median, so bench_alloc's chain/<policy> can be put beside it.
// Usage: node scripts/chain.mjs [repetitions]   (also runs under bun or deno)
class Value {
  constructor(data, children = [], localGrads = []) {
    this.data = data;
    this.grad = 0;
    this.children = children;
    this.localGrads = localGrads;
  }
  add(other) {
    return new Value(this.data + other.data, [this, other], [1, 1]);
  }
  mul(other) {
    return new Value(this.data * other.data, [this, other], [other.data, this.data]);
  }
}

const iterations = 1_000_000;
const repetitions = Number(globalThis.process?.argv?.[2] ?? 5);
const rates = [];
let checksum = 0;
for (let rep = 0; rep < repetitions; rep++) {
  const start = performance.now();
  let acc = new Value(1);
  const b = new Value(0.5);
  for (let i = 0; i < iterations; i++) acc = acc.add(b).mul(b);
  const seconds = (performance.now() - start) / 1000;
  checksum += acc.data;  // keeps the chain observable
  rates.push((2 * iterations) / seconds);
}
const sorted = [...rates].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]
                                 : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
const engine = globalThis.Bun ? `bun ${Bun.version}` : globalThis.Deno ? `deno ${Deno.version.deno}`
                                                      : `node ${process.version}`;
console.log(JSON.stringify({engine, iterations, allocs_per_second: rates, median_allocs_per_second: median, checksum}));
