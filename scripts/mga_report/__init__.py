"""microgpt-alloc's report: scripts/compare.py is the entry point.

Modules, in the order data flows through them (each imports only those above it):
  files       reading input defensively, writing outputs all or nothing
  model       the data: runs, benchmark points, runtimes, cache counts, machines, roles from traits
  stats       medians, bootstrap intervals, log-log slopes, the Mann-Whitney U test
  fmt         numbers, intervals, Markdown tables
  quality     noise flags, the machine's state, the process allocators' libraries
  exactness   output hashes against each other and the reference programs' bytes
  loading     a results/ directory: every file kind, per machine
  figures     one machine's figures with their intervals, computed once
  baseline    --baseline: a saved result against a new one, cell by cell
  answer      the answer's bullets
  tables      the report's sections, one table per question
  across      the comparison across machines
  charts      the PNGs
  report      REPORT.md
  readme      the README's generated blocks and --check-readme
  cli         the command line
"""
