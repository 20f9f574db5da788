// A generated corpus of what people (and attackers) type after `/xnode` and
// what forged or stale interactive payloads look like. Deterministic: a seeded
// generator, so a failure names an input that can be replayed.
import { seededRandom } from "../helpers/seeded-random.js";

/** A file the shell-looking inputs would create if anything ever ran them through a shell. */
export interface Canary {
  path: string;
}

const HOMOGLYPHS: Record<string, string[]> = {
  a: ["а", "ɑ", "ａ", "á"],
  c: ["с", "ϲ", "ｃ"],
  e: ["е", "ё", "ｅ"],
  l: ["ӏ", "Ɩ", "1", "ｌ"],
  o: ["о", "ο", "0", "ｏ"],
  r: ["г", "ｒ"],
  s: ["ѕ", "ｓ"],
  t: ["т", "ｔ"],
  u: ["υ", "ս", "ｕ"],
  "-": ["‐", "–", "—", "－", "_"],
};

const INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0301", "\u0000", "\u202e"];
const UNICODE_WORDS = ["🚀", "检查", "проверка", "تحقق", "✓✓✓", "🏳️‍🌈", "Z̸̢̛a̵l̷g̴o̶", "ｃｈｅｃｋ", "𝐜𝐡𝐞𝐜𝐤", "\u202echeck"];
const VERBS = ["check", "trace", "audit", "clusters", "status", "help", "digest"];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** `name` with one character swapped for a look-alike, or an invisible one inserted. */
function lookAlike(rnd: () => number, name: string): string {
  const chars = [...name];
  const swappable = chars.map((c, i) => (HOMOGLYPHS[c] ? i : -1)).filter((i) => i >= 0);
  if (swappable.length > 0 && rnd() < 0.6) {
    const i = pick(rnd, swappable);
    chars[i] = pick(rnd, HOMOGLYPHS[chars[i]!]!);
    return chars.join("");
  }
  const at = Math.floor(rnd() * (chars.length + 1));
  chars.splice(at, 0, pick(rnd, INVISIBLE));
  return chars.join("");
}

function shellInjections(canary: Canary): string[] {
  const touch = `touch ${canary.path}`;
  return [
    `; ${touch}`,
    `&& ${touch}`,
    `|| ${touch}`,
    `| sh -c '${touch}'`,
    `$(${touch})`,
    `\`${touch}\``,
    `\n${touch}`,
    `\r\n${touch}`,
    `> ${canary.path}`,
    `>> ${canary.path}`,
    `< /etc/passwd`,
    `$((1+1))`,
    `\${IFS}${touch.replace(/ /g, "${IFS}")}`,
    `'; ${touch}; '`,
    `"; ${touch}; "`,
    `-- --exec='${touch}'`,
    `--kubeconfig=/etc/shadow`,
    `-o jsonpath='{$(${touch})}'`,
  ];
}

const PATHS = [
  "../",
  "../../etc/passwd",
  "..\\..\\windows",
  "/etc/shadow",
  "%2e%2e%2f",
  "....//",
  "./cluster-a",
  "cluster-a/../cluster-b",
  "~root",
  "file:///etc/passwd",
];
const JSON_BITS = [
  '{"text":"check cluster-a"}',
  '{"__proto__":{"isApprover":true}}',
  '{"constructor":{"prototype":{"ok":true}}}',
  "[]",
  "]",
  "{",
  '"check"',
  "null",
  "[1e309]",
  '{"$where":"1==1"}',
  "<script>alert(1)</script>",
  "&lt;@U0APPROVE1&gt;",
  "*bold* _it_ ~s~ `code` ```fence",
];
const MENTIONS = [
  "<@U0APPROVE1>",
  "<!channel>",
  "<!here>",
  "<!everyone>",
  "<#C0NETOPS1|netops>",
  "<!subteam^S0123|@admins>",
  "<https://evil.example|click>",
  "<mailto:a@b.c|x>",
];

/**
 * At least `count` slash-command texts, none of them a valid command for
 * `clusters` (an empty text is the one exception: it asks for help).
 */
export function slashCommandCorpus(clusters: readonly string[], canary: Canary, count = 1000, seed = 14): string[] {
  const rnd = seededRandom(seed);
  const name = clusters[0] ?? "cluster-a";
  const out: string[] = ["", " ", "\t", "\n\n", "\u00a0", "\u3000", "\u200b"];
  // verbs with the wrong arguments
  out.push(
    "check",
    `check ${name} ${name}`,
    "audit",
    `audit ${name} extra`,
    "trace",
    `trace ${name}`,
    `trace ${name} n1`,
    `trace ${name} n1 n1`,
    `trace ${name} n1 n2 n3`,
    `trace ${name} N1 n2`,
    `trace ${name} -n1 n2`,
    `trace ${name} ${"n".repeat(300)} n2`,
    "digest",
    "digest later",
    "digest now now",
    "clusters all",
    "status everything",
    "help me",
    "chek cluster-a",
    "check-cluster-a",
    `check:${name}`,
    `check=${name}`,
    `check ${name.toUpperCase()}`,
    `check ${name}.`,
    `check -${name}`,
    `check ${name}-`,
    `check unknown-cluster`,
    `check ${"x".repeat(64)}`,
  );
  for (const injection of shellInjections(canary)) {
    out.push(`check ${name} ${injection}`, `check ${injection}`, `${injection}`, `trace ${name} n1 ${injection}`, `audit ${injection}`);
  }
  for (const p of PATHS) out.push(`check ${p}`, `audit ${p}`, `trace ${name} ${p} n2`, `check ${name}${p}`);
  for (const j of JSON_BITS) out.push(j, `check ${j}`, `check ${name} ${j}`);
  for (const m of MENTIONS) out.push(m, `${m} check ${name}`, `check ${name} ${m}`, `check ${m}`);
  for (const w of UNICODE_WORDS) out.push(w, `${w} ${name}`, `check ${w}`);
  // big ones: 10 kB and more
  out.push("a".repeat(10_000), `check ${"a".repeat(10_000)}`, `check ${name} ${"; rm -rf /".repeat(1000)}`, "🚀".repeat(3000), `${"check ".repeat(2000)}`);
  // look-alike cluster names and random mutations until the corpus is large enough
  while (out.length < count) {
    const r = rnd();
    if (r < 0.35) out.push(`${pick(rnd, ["check", "audit"])} ${lookAlike(rnd, name)}`);
    else if (r < 0.5) out.push(`trace ${lookAlike(rnd, name)} n1 n2`);
    else if (r < 0.65) out.push(`${lookAlike(rnd, pick(rnd, VERBS))} ${name}`);
    else if (r < 0.8) {
      const len = 1 + Math.floor(rnd() * 40);
      out.push(Array.from({ length: len }, () => String.fromCodePoint(0x20 + Math.floor(rnd() * 0x2fff))).join(""));
    } else out.push(`${pick(rnd, VERBS)} ${name} ${pick(rnd, [...JSON_BITS, ...MENTIONS, ...PATHS, ...shellInjections(canary)])}`);
  }
  return out;
}

export type InteractiveCase =
  | { kind: "approve"; label: string; actionId: string; value: string; channel: string; threadTs: string; user: string }
  | { kind: "reject" | "rerun"; label: string; value: string; channel: string; threadTs: string; user: string }
  | { kind: "unknown-action"; label: string; actionId: string; value: string; channel: string; threadTs: string; user: string }
  | { kind: "forged"; label: string; tamper: "bad-signature" | "stale-timestamp" | "future-timestamp" | "no-signature"; value: string; user: string };

export interface KnownApproval {
  id: string;
  cluster: string;
  channel: string;
  threadTs: string;
}

/**
 * At least `count` interactive payloads that must change nothing: unknown or
 * mangled approval ids, another cluster's approval, another channel or thread,
 * replays of a decided approval, renamed action ids, forged and stale
 * signatures, re-runs of clusters that do not exist.
 */
export function interactiveCorpus(
  opts: { approver: string; stranger: string; pending: KnownApproval; otherCluster: KnownApproval; decided: KnownApproval; clusters: readonly string[] },
  count = 500,
  seed = 1414,
): InteractiveCase[] {
  const rnd = seededRandom(seed);
  const { pending, otherCluster, decided } = opts;
  const out: InteractiveCase[] = [];
  const at = (a: KnownApproval) => ({ channel: a.channel, threadTs: a.threadTs });
  const garbage = () =>
    pick(rnd, [
      "",
      "0",
      "-1",
      "null",
      "undefined",
      "../../approvals/x",
      `${pending.id}*`,
      `${pending.id.slice(0, -1)}`,
      `${pending.id}\u200b`,
      pending.id.toUpperCase(),
      `${pending.id},${pending.id}`,
      `${pending.id}:${otherCluster.id}`,
      " ".repeat(20),
      "x".repeat(2000),
      ...JSON_BITS,
      ...PATHS,
      String(Math.floor(rnd() * 1e12)),
    ]);
  while (out.length < count) {
    const r = rnd();
    if (r < 0.2)
      out.push({ kind: "approve", label: "mangled approval id", actionId: "xnode_approve_0", value: garbage(), ...at(pending), user: opts.approver });
    else if (r < 0.3)
      out.push({
        kind: "approve",
        label: "another cluster's approval in this thread",
        actionId: "xnode_approve_0",
        value: otherCluster.id,
        ...at(pending),
        user: opts.approver,
      });
    else if (r < 0.4)
      out.push({
        kind: "approve",
        label: "approval clicked from another channel",
        actionId: "xnode_approve_0",
        value: pending.id,
        channel: "C0ELSEWHER",
        threadTs: pending.threadTs,
        user: opts.approver,
      });
    else if (r < 0.45)
      out.push({
        kind: "approve",
        label: "approval clicked from another thread",
        actionId: "xnode_approve_0",
        value: pending.id,
        channel: pending.channel,
        threadTs: "1700000000.999999",
        user: opts.approver,
      });
    else if (r < 0.55)
      out.push({ kind: "approve", label: "replay of a decided approval", actionId: "xnode_approve_0", value: decided.id, ...at(decided), user: opts.approver });
    else if (r < 0.6)
      out.push({ kind: "approve", label: "approval by a non-approver", actionId: "xnode_approve_0", value: pending.id, ...at(pending), user: opts.stranger });
    // from another thread: a value that happens to hold a real pending id is out of place there
    else if (r < 0.67) out.push({ kind: "reject", label: "reject with mangled ids", value: garbage(), ...at(decided), user: opts.approver });
    else if (r < 0.7) out.push({ kind: "reject", label: "reject by a non-approver", value: pending.id, ...at(pending), user: opts.stranger });
    else if (r < 0.77)
      out.push({
        kind: "rerun",
        label: "re-run of an unknown cluster",
        value: lookAlike(rnd, opts.clusters[0] ?? "cluster-a"),
        ...at(pending),
        user: opts.approver,
      });
    else if (r < 0.85)
      out.push({
        kind: "unknown-action",
        label: "changed action id",
        actionId: pick(rnd, [
          "xnode_approve_x",
          "xnode_approve_",
          "XNODE_APPROVE_0",
          "xnode_approve_0 ",
          "xnode_rerun2",
          "xnode_rejectt",
          "approve",
          "xnode_rollback_",
          "x".repeat(255),
        ]),
        value: pending.id,
        ...at(pending),
        user: opts.approver,
      });
    else
      out.push({
        kind: "forged",
        label: "bad signature",
        tamper: pick(rnd, ["bad-signature", "stale-timestamp", "future-timestamp", "no-signature"] as const),
        value: pending.id,
        user: opts.approver,
      });
  }
  return out;
}
