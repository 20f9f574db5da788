// The domain types every layer shares. This folder imports nothing else of
// ours (test/architecture/import-graph.test.ts keeps it so).
export * from "./audit.js";
export * from "./check-notifier.js";
export * from "./check-record.js";
export * from "./digest.js";
export * from "./evidence.js";
export * from "./pod-pairs.js";
export * from "./report.js";
export * from "./snapshot.js";
