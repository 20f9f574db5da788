// src/config.ts: one schema for env and the XNODE_CONFIG file; every problem
// listed at once, each naming its setting.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { findCluster, loadConfig, parseFileConfig, slackMode } from "../src/config.js";
import { isXnodeError } from "../src/errors.js";
import { createLogger } from "../src/logger.js";

const files = (map: Record<string, string>) => (path: string) => {
  const text = map[path];
  if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
  return text;
};

describe("loadConfig", () => {
  test("defaults, and empty strings count as unset", () => {
    const c = loadConfig({ PORT: "", REDIS_URL: "", SLACK_BOT_TOKEN: "" }, files({}));
    assert.equal(c.env.PORT, 3000);
    assert.equal(c.env.REDIS_URL, "redis://127.0.0.1:6379");
    assert.equal(c.env.SLACK_BOT_TOKEN, undefined);
    assert.deepEqual(c.file.clusters, []);
    assert.equal(c.file.approvals.expiryMinutes, 15);
    assert.equal(c.file.checks.execTimeoutSeconds, 20);
  });

  test("reads the file named by XNODE_CONFIG", () => {
    const yaml = `clusters:\n  - { name: cluster-a, kubeconfig: /k/a, context: admin@a }\n  - { name: local, inCluster: true }\napprovals:\n  approvers: { users: [U0123ABCD], usergroups: [S0456EFGH] }\n  twoPersonRule: true\ndigests:\n  - { channel: C0789IJKL, cron: "0 9 * * 1-5", timezone: Europe/Berlin, clusters: [cluster-a] }\n`;
    const c = loadConfig({ XNODE_CONFIG: "/etc/xnode.yaml" }, files({ "/etc/xnode.yaml": yaml }));
    assert.equal(c.file.clusters[0]!.context, "admin@a");
    assert.equal(c.file.clusters[1]!.inCluster, true);
    assert.equal(c.file.approvals.twoPersonRule, true);
    assert.equal(c.file.digests[0]!.timezone, "Europe/Berlin");
  });

  test("lists every problem at once, env and file, each naming its setting", () => {
    const yaml = `clusters:\n  - { name: Cluster_A, kubeconfig: /k }\n  - { name: b }\napprovals:\n  approvers: { users: [alice] }\n  expiryMinutes: 0\ndigests:\n  - { channel: C1, cron: "* * * * *", clusters: [nope] }\nfrobnicate: true\n`;
    try {
      loadConfig({ PORT: "http", REDIS_URL: "not a url", LOG_LEVEL: "loud", XNODE_CONFIG: "/x.yaml" }, files({ "/x.yaml": yaml }));
      assert.fail("should throw");
    } catch (err) {
      assert.ok(isXnodeError(err) && err.code === "CONFIG_INVALID");
      const text = err.message;
      for (const expected of [
        "env PORT",
        "env REDIS_URL",
        "env LOG_LEVEL",
        "XNODE_CONFIG /x.yaml clusters.0.name",
        "XNODE_CONFIG /x.yaml digests.0.clusters.0",
      ]) {
        assert.match(text, new RegExp(expected.replace(/\./g, "\\.")), expected);
      }
    }
    const parsed = parseFileConfig(parseYaml(yaml), "x.yaml");
    const text = parsed.problems.join("\n");
    for (const expected of [
      /clusters\.0\.name: must be lowercase/,
      /clusters\.1: give exactly one of kubeconfig or inCluster/,
      /approvals\.approvers\.users\.0: must be a Slack user id/,
      /approvals\.expiryMinutes/,
      /digests\.0\.clusters\.0: unknown cluster "nope"/,
      /unknown field\(s\) frobnicate/,
    ]) {
      assert.match(text, expected);
    }
  });

  test("an unreadable config file is one clear problem", () => {
    assert.throws(() => loadConfig({ XNODE_CONFIG: "/missing.yaml" }, files({})), /XNODE_CONFIG \/missing\.yaml: cannot read YAML/);
  });
});

describe("slackMode and findCluster", () => {
  const env = (e: Record<string, string>) => loadConfig(e, files({})).env;
  test("Socket Mode when an app token is set, HTTP with a signing secret, else a clear error", () => {
    assert.deepEqual(slackMode(env({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" })), { mode: "socket", botToken: "xoxb-1", appToken: "xapp-1" });
    assert.deepEqual(slackMode(env({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s", PORT: "8080" })), {
      mode: "http",
      botToken: "xoxb-1",
      signingSecret: "s",
      port: 8080,
    });
    assert.throws(() => slackMode(env({})), /missing SLACK_BOT_TOKEN and SLACK_APP_TOKEN \(Socket Mode\) or SLACK_SIGNING_SECRET \(HTTP\)/);
  });
  test("a bot token in SLACK_APP_TOKEN is refused with what an app-level token is, before anything connects", () => {
    assert.throws(
      () => loadConfig({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xoxb-2" }, files({})),
      (err: unknown) =>
        isXnodeError(err) &&
        err.code === "CONFIG_INVALID" &&
        /SLACK_APP_TOKEN: must be an app-level token \(xapp-…\) with the connections:write scope/.test(err.message) &&
        !/xoxb-2/.test(err.message),
    );
  });
  test("a cluster's flannel location: namespace and daemonSet required, container and configMap optional, nothing else", () => {
    const ok = parseFileConfig(parseYaml("clusters: [{ name: a, kubeconfig: /k, flannel: { namespace: net, daemonSet: overlay, container: flanneld } }]"));
    assert.deepEqual(ok.config?.clusters[0]?.flannel, { namespace: "net", daemonSet: "overlay", container: "flanneld" });
    const bad = parseFileConfig(parseYaml("clusters: [{ name: a, kubeconfig: /k, flannel: { namespace: net, name: overlay } }]"));
    assert.deepEqual(bad.problems, [
      "config clusters.0.flannel.daemonSet: Invalid input: expected string, received undefined",
      "config clusters.0.flannel: unknown field(s) name",
    ]);
  });

  test("allowedRemediations takes every fix kind, the installation work's too (remove-public-ip-overwrite, fix-cni0-address, restart-flannel-pod)", () => {
    const kinds = "[patch-flannel-iface, add-routes, remove-public-ip-overwrite, fix-cni0-address, restart-flannel-pod]";
    const ok = parseFileConfig(parseYaml(`clusters: [{ name: a, kubeconfig: /k, allowedRemediations: ${kinds} }]`));
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.config?.clusters[0]?.allowedRemediations, [
      "patch-flannel-iface",
      "add-routes",
      "remove-public-ip-overwrite",
      "fix-cni0-address",
      "restart-flannel-pod",
    ]);
    assert.equal(parseFileConfig(parseYaml("clusters: [{ name: a, kubeconfig: /k, allowedRemediations: [reboot-node] }]")).problems.length, 1);
  });

  test("an unknown cluster names the known ones", () => {
    const c = loadConfig({ XNODE_CONFIG: "/c" }, files({ "/c": "clusters: [{ name: a, kubeconfig: /k }]" }));
    assert.equal(findCluster(c.file, "a").kubeconfig, "/k");
    assert.throws(
      () => findCluster(c.file, "b"),
      (err: unknown) => isXnodeError(err) && /unknown cluster "b"/.test(err.message) && /Known clusters: a/.test(err.hint),
    );
  });
});

describe("logger", () => {
  test("JSON lines with bound ids; tokens and secrets redacted", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const log = createLogger("info", sink).child({ requestId: "r-1" });
    log.info({ botToken: "xoxb-secret", env: { SLACK_SIGNING_SECRET: "shh" }, headers: { authorization: "Bearer abc" } }, "hello");
    const entry = JSON.parse(lines[0]!) as {
      requestId: string;
      msg: string;
      botToken: string;
      env: { SLACK_SIGNING_SECRET: string };
      headers: { authorization: string };
    };
    assert.equal(entry.requestId, "r-1");
    assert.equal(entry.msg, "hello");
    assert.equal(entry.botToken, "[redacted]");
    assert.equal(entry.env.SLACK_SIGNING_SECRET, "[redacted]");
    assert.equal(entry.headers.authorization, "[redacted]");
    assert.doesNotMatch(lines[0]!, /xoxb-secret|shh|Bearer abc/);
  });
});

describe("digest schedules", () => {
  const digest = (fields: Record<string, unknown>) =>
    parseFileConfig({ clusters: [{ name: "a", kubeconfig: "/k" }], digests: [{ channel: "C1", clusters: ["a"], ...fields }] });

  test("a bad cron pattern or time zone is refused by the schema, naming the setting, before anything runs", () => {
    const cron = digest({ cron: "every morning" });
    assert.equal(cron.config, undefined);
    assert.match(cron.problems.join("\n"), /digests\.0\.cron: not a cron pattern: "every morning"/);
    assert.match(digest({ cron: "61 9 * * *" }).problems.join("\n"), /digests\.0\.cron/, "minute 61");
    const zone = digest({ cron: "0 9 * * 1-5", timezone: "Europe/Berlinn" });
    assert.match(zone.problems.join("\n"), /digests\.0\.timezone: unknown time zone "Europe\/Berlinn"/);
    assert.throws(
      () =>
        loadConfig(
          { XNODE_CONFIG: "/x.yaml" },
          files({ "/x.yaml": "clusters: [{ name: a, kubeconfig: /k }]\ndigests:\n  - { channel: C1, cron: nope, clusters: [a] }\n" }),
        ),
      (err: unknown) => isXnodeError(err) && err.code === "CONFIG_INVALID" && /digests\.0\.cron/.test(err.message),
    );
  });

  test("valid ones pass: 5 and 6 fields, IANA zones, and everySeconds without a usable cron", () => {
    for (const fields of [
      { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" },
      { cron: "*/30 * * * * *", timezone: "America/New_York" },
      { cron: "0 9 * * *" },
      { cron: "unused", everySeconds: 60 },
    ]) {
      assert.deepEqual(digest(fields).problems, [], JSON.stringify(fields));
    }
    assert.match(digest({ cron: "unused", everySeconds: 60, timezone: "Mars/Olympus" }).problems.join("\n"), /timezone/, "the zone is checked anyway");
  });
});
