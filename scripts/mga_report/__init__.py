"""microgpt-alloc's report: scripts/compare.py is the entry point.

Modules, in the order data flows through them:
  model       the data: runs, benchmark points, runtimes, machines, roles from traits
  files       reading JSON defensively, writing atomically
  training    bench_train --json files        gbench     Google Benchmark JSON, callgrind
  crosslang   crosslang.json (schema 2)       peers      tape_vs_peers.json, and its section
  cachesim    scripts/cachesim.py's files
  loading     a results/ directory, per machine
  stats       medians, bootstrap intervals, log-log fits, leave-one-out
  analysis    speed ratios, allocation share, throughput vs speed and its verdict
  matrix      the policy x malloc matrix: ratios, section, chart
  tapes       the no-node ceiling (exact tape vs the graph)
  decomposition  each policy's extra time: allocator, layout, other (a two-price model)
  figures     all of one machine's figures, computed once
  exactness   output hashes against each other and the reference programs' bytes
  fmt         numbers, intervals, tables
  sections, sections_alloc, sections_decomposition, claim, across, answer, practical    the report's sections
  threads     the thread axis (bench_train --threads, --release): its runs, section and chart
  report      REPORT.md        charts    the PNGs        readme    the README's generated blocks
  readme_decomposition, readme_threads, readme_crosslang    the README blocks of those names
  cli         the command line
"""
