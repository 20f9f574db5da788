// `xnode trace` in a terminal: every capture point in path order with what it
// saw, and where the probe was last seen. Pure.
import { nextPoint, traceVerdict, type PacketTrace } from "../model/index.js";

export function renderTextTrace(t: PacketTrace): string {
  const lines = [`xnode trace ${t.from} -> ${t.to}:`];
  if (t.unavailable) return [...lines, `  no capture: ${t.unavailable}`].join("\n");
  const width = Math.max(...t.observed.map((p) => p.point.length)) + 2;
  for (const p of t.observed) lines.push(`  ${p.seen ? "seen" : "----"}  ${p.point.padEnd(width)}${p.detail}`);
  const verdict = traceVerdict(t);
  lines.push(
    "",
    verdict === "delivered"
      ? "every point saw the probe: the path works"
      : t.lostAfter
        ? `lost after ${t.lostAfter}: the probe never reached ${nextPoint(t)?.point ?? "the next point"}`
        : "no capture point saw the probe: it never left the source pod",
  );
  return lines.join("\n");
}
