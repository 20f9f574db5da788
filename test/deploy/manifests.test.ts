// Every manifest in deploy/ is valid Kubernetes (schema.ts), every YAML file
// there is either applied by some kustomization or known to be something
// else, and the pods meet the security baseline the issue asks for.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { parseFileConfig } from "../../src/config.js";
import { OPS_PATHS } from "../../src/ops/ops-server.js";
import {
  DEFAULT_OVERLAY,
  find,
  KUSTOMIZATIONS,
  listFiles,
  parseYamlObjects,
  readRepoFile,
  render,
  renderVariant,
  workloads,
  type K8sObject,
  type Workload,
} from "./render.js";
import { schemaProblems } from "./schema.js";

const VARIANTS: Record<string, string[]> = {
  "base + redis (HTTP mode)": ["deploy/components/redis"],
  "base + redis + socket mode + no kube-flannel namespace": [
    "deploy/components/redis",
    "deploy/components/socket-mode",
    "deploy/components/no-kube-flannel-namespace",
  ],
  "base + kubespray": ["deploy/components/flannel-kubespray"],
  "base + RKE2 canal + no kube-flannel namespace": ["deploy/components/flannel-rke2-canal", "deploy/components/no-kube-flannel-namespace"],
  "base + flannel's chart in any namespace": ["deploy/components/flannel-helm"],
  "base + k3s": ["deploy/components/flannel-k3s"],
  "base + configured flannel location": ["deploy/components/flannel-configured"],
};

async function allRenders(): Promise<Array<[string, K8sObject[]]>> {
  const out: Array<[string, K8sObject[]]> = [];
  for (const dir of KUSTOMIZATIONS) out.push([dir, await render(dir)]);
  for (const [name, components] of Object.entries(VARIANTS)) out.push([name, await renderVariant(components)]);
  return out;
}

const xnodeDeployments = (objects: K8sObject[]) =>
  workloads(objects).filter((w) => w.kind === "Deployment" && w.metadata.labels?.["app.kubernetes.io/name"] === "xnode");
const container = (w: Workload) => {
  assert.equal(w.spec.template.spec.containers.length, 1, `${w.metadata.name} has one container`);
  return w.spec.template.spec.containers[0]!;
};
const envOf = (w: Workload, name: string) => container(w).env?.find((e) => e.name === name);

describe("deploy/ validates against the Kubernetes API schemas", () => {
  for (const dir of [...KUSTOMIZATIONS, ...Object.keys(VARIANTS)]) {
    it(`${dir}`, async () => {
      const objects = dir in VARIANTS ? await renderVariant(VARIANTS[dir]!) : await render(dir);
      assert.ok(objects.length > 0);
      const problems = (await Promise.all(objects.map(schemaProblems))).flat();
      assert.deepEqual(problems, []);
    });
  }

  it("deploy/base/secret.example.yaml (a template, not applied by any kustomization)", async () => {
    const objects = parseYamlObjects(readRepoFile("deploy/base/secret.example.yaml"), "secret.example.yaml");
    assert.equal(objects.length, 1);
    assert.deepEqual(await schemaProblems(objects[0]!), []);
  });

  it("catches what the API would reject or drop (the check itself works)", async () => {
    const bad = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", image: "i", securityContext: { readOnlyRootFileSystem: true, runAsNonRoot: "yes" } }] },
        },
      },
    } as unknown as K8sObject;
    const problems = await schemaProblems(bad);
    assert.ok(
      problems.some((p) => p.includes("runAsNonRoot must be boolean")),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => p.includes("unknown field spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem")),
      problems.join("\n"),
    );
    assert.deepEqual(await schemaProblems({ apiVersion: "v1", kind: "Nonsense", metadata: { name: "n" } }), [
      "Nonsense n: no schema for v1 Nonsense",
      "Nonsense n: no client-node model V1Nonsense to check field names",
    ]);
  });
});

describe("every YAML file in deploy/ is accounted for", () => {
  it("is a kustomization, something a kustomization uses, or a known non-Kubernetes file", () => {
    const yamlFiles = listFiles("deploy").filter((f) => /\.ya?ml$|\.kubeconfig$/.test(f));
    const kustomizations = yamlFiles.filter((f) => f.endsWith("/kustomization.yaml"));
    const used = new Set<string>();
    for (const k of kustomizations) {
      const dir = k.slice(0, k.lastIndexOf("/"));
      const doc = parseYaml(readRepoFile(k)) as { resources?: string[]; patches?: Array<{ path?: string }>; configMapGenerator?: Array<{ files?: string[] }> };
      for (const r of doc.resources ?? []) used.add(join(dir, r));
      for (const p of doc.patches ?? []) if (p.path) used.add(join(dir, p.path));
      for (const g of doc.configMapGenerator ?? []) for (const f of g.files ?? []) used.add(join(dir, f.split("=").pop()!));
    }
    const known = new Set(["deploy/slack-app-manifest.yaml", "deploy/base/secret.example.yaml"]);
    const orphans = yamlFiles.filter((f) => !f.endsWith("/kustomization.yaml") && !used.has(f) && !known.has(f));
    assert.deepEqual(orphans, [], "YAML files no kustomization applies: add them to one, or to this test's list of known files");
  });
});

describe("security contexts", () => {
  it("bot, worker and Redis: non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped, seccomp RuntimeDefault", async () => {
    for (const [dir, objects] of await allRenders()) {
      for (const w of workloads(objects).filter((x) => x.kind === "Deployment")) {
        const pod = w.spec.template.spec;
        const where = `${dir}: ${w.metadata.name}`;
        assert.equal(pod.hostNetwork, undefined, where);
        assert.equal(pod.securityContext?.runAsNonRoot, true, where);
        assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, `${where}: numeric non-root user`);
        assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault", where);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}/${c.name}`);
          assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}/${c.name}`);
          assert.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] }, `${where}/${c.name}`);
          assert.notEqual(c.securityContext?.privileged, true, `${where}/${c.name}`);
        }
      }
    }
  });

  it("only the worker has an API token, as ServiceAccount xnode", async () => {
    for (const [dir, objects] of await allRenders()) {
      for (const w of workloads(objects)) {
        const pod = w.spec.template.spec;
        if (w.metadata.name === "xnode-worker") {
          assert.equal(pod.serviceAccountName, "xnode", dir);
          assert.equal(pod.automountServiceAccountToken, true, dir);
        } else {
          assert.equal(pod.automountServiceAccountToken, false, `${dir}: ${w.metadata.name} must not mount a token`);
        }
      }
    }
  });

  it("everything of xnode's own lives in xnode-system; only the flannel Roles are elsewhere", async () => {
    for (const [dir, objects] of await allRenders()) {
      for (const o of objects.filter((x) => x.metadata.namespace && x.metadata.namespace !== "xnode-system")) {
        assert.ok(
          ["Role", "RoleBinding"].includes(o.kind) && /^xnode-flannel(-[a-z0-9-]+)?$/.test(o.metadata.name),
          `${dir}: ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
        );
      }
    }
  });
});

describe("bot and worker", () => {
  it("run `xnode bot` and `xnode worker` from one image, separately scalable", async () => {
    for (const [dir, objects] of await allRenders()) {
      if (dir === "deploy/cluster") continue;
      const bot = find(objects, "Deployment", "xnode-bot") as Workload;
      const worker = find(objects, "Deployment", "xnode-worker") as Workload;
      assert.deepEqual(container(bot).args, ["bot"], dir);
      assert.deepEqual(container(worker).args, ["worker"], dir);
      assert.equal(container(bot).image, container(worker).image, dir);
      assert.notDeepEqual(bot.spec.selector.matchLabels, worker.spec.selector.matchLabels, `${dir}: selectors must not overlap`);
    }
  });

  it("base (HTTP mode): Bolt's PORT, named http, behind a Service", async () => {
    const objects = await render("deploy/base");
    const bot = find(objects, "Deployment", "xnode-bot") as Workload;
    const port = Number(envOf(bot, "PORT")?.value);
    assert.equal(port, 3000);
    assert.equal(container(bot).ports?.find((p) => p.name === "http")?.containerPort, port);
    const svc = find(objects, "Service", "xnode-bot") as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } };
    assert.deepEqual(svc.spec.selector, bot.spec.selector.matchLabels);
    assert.equal(svc.spec.ports[0]?.targetPort, "http");
  });

  it(`${DEFAULT_OVERLAY} (Socket Mode): no Service, the probes' port stays`, async () => {
    const objects = await render(DEFAULT_OVERLAY);
    assert.ok(!objects.some((o) => o.kind === "Service" && o.metadata.name === "xnode-bot"));
    const bot = find(objects, "Deployment", "xnode-bot") as Workload;
    assert.equal(container(bot).ports?.find((p) => p.name === "http")?.containerPort, 3000);
    assert.equal(envOf(bot, "SLACK_APP_TOKEN")?.valueFrom?.secretKeyRef?.name, "xnode-slack");
  });

  it("bot and worker: HTTP probes on the paths xnode serves (live /healthz, ready /readyz) and a scrape annotation for /metrics, on the port the process listens on", async () => {
    for (const [dir, objects] of await allRenders()) {
      for (const w of xnodeDeployments(objects)) {
        const c = container(w);
        const where = `${dir}: ${w.metadata.name}`;
        // the bot serves them on PORT, the worker on METRICS_PORT (src/config.ts)
        const portVar = w.metadata.name === "xnode-bot" ? "PORT" : "METRICS_PORT";
        const port = Number(envOf(w, portVar)?.value);
        const named = c.ports?.find((p) => p.containerPort === port)?.name;
        assert.ok(named, `${where}: a named container port for ${portVar}=${port}`);
        assert.deepEqual(c.livenessProbe?.httpGet, { path: OPS_PATHS.live, port: named }, where);
        assert.deepEqual(c.startupProbe?.httpGet, { path: OPS_PATHS.live, port: named }, where);
        assert.deepEqual(c.readinessProbe?.httpGet, { path: OPS_PATHS.ready, port: named }, where);
        assert.deepEqual(
          w.spec.template.metadata.annotations,
          { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": OPS_PATHS.metrics },
          where,
        );
      }
    }
  });

  it("Slack credentials come from the Secret xnode-slack; the worker gets only the bot token", async () => {
    const objects = await render(DEFAULT_OVERLAY);
    const bot = find(objects, "Deployment", "xnode-bot") as Workload;
    const worker = find(objects, "Deployment", "xnode-worker") as Workload;
    for (const name of ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"]) {
      assert.deepEqual(envOf(bot, name)?.valueFrom?.secretKeyRef?.key, name);
      assert.equal(envOf(bot, name)?.valueFrom?.secretKeyRef?.name, "xnode-slack");
    }
    assert.equal(envOf(bot, "SLACK_BOT_TOKEN")?.valueFrom?.secretKeyRef?.optional, undefined, "the bot token is required");
    assert.deepEqual(
      container(worker)
        .env?.filter((e) => e.name.startsWith("SLACK_"))
        .map((e) => e.name),
      ["SLACK_BOT_TOKEN"],
    );
    const secret = parseYamlObjects(readRepoFile("deploy/base/secret.example.yaml"), "secret.example.yaml")[0] as K8sObject & {
      stringData: Record<string, string>;
    };
    assert.equal(secret.metadata.name, "xnode-slack");
    assert.ok("SLACK_BOT_TOKEN" in secret.stringData && "SLACK_APP_TOKEN" in secret.stringData);
    for (const [dir, rendered] of await allRenders()) assert.ok(!rendered.some((o) => o.kind === "Secret"), `${dir} must not carry a Secret`);
  });

  it("REDIS_URL: the in-cluster Redis in the default overlay, a Secret in external-redis", async () => {
    const def = await render(DEFAULT_OVERLAY);
    const redisSvc = find(def, "Service", "xnode-redis") as K8sObject & { spec: { ports: Array<{ port: number }> } };
    for (const w of xnodeDeployments(def)) assert.equal(envOf(w, "REDIS_URL")?.value, `redis://${redisSvc.metadata.name}:${redisSvc.spec.ports[0]!.port}`);
    const ext = await render("deploy/overlays/external-redis");
    assert.ok(!ext.some((o) => o.metadata.name === "xnode-redis" && o.kind !== "Secret"));
    for (const w of xnodeDeployments(ext)) assert.deepEqual(envOf(w, "REDIS_URL")?.valueFrom?.secretKeyRef, { name: "xnode-redis", key: "REDIS_URL" });
    for (const w of xnodeDeployments(await render("deploy/base"))) assert.equal(envOf(w, "REDIS_URL"), undefined, "base leaves Redis to the overlays");
  });
});

describe("configuration", () => {
  it("XNODE_CONFIG points at config.yaml in the mounted ConfigMap, which src/config.ts accepts", async () => {
    const objects = await render(DEFAULT_OVERLAY);
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("xnode-config")) as K8sObject & { data: Record<string, string> };
    assert.ok(cm, "ConfigMap xnode-config");
    for (const w of xnodeDeployments(objects)) {
      const path = envOf(w, "XNODE_CONFIG")?.value;
      assert.equal(path, "/etc/xnode/config.yaml");
      const mount = container(w).volumeMounts?.find((m) => m.mountPath === "/etc/xnode");
      const volume = w.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      const cmName = volume?.configMap?.name ?? volume?.projected?.sources.find((s) => s.configMap)?.configMap?.name;
      assert.equal(cmName, cm.metadata.name, `${w.metadata.name} mounts the generated ConfigMap`);
    }
    const parsed = parseFileConfig(parseYaml(cm.data["config.yaml"]!), "config.yaml");
    assert.deepEqual(parsed.problems, []);
    // This cluster is reached in-cluster; other clusters' kubeconfigs come from the optional Secret.
    assert.deepEqual(
      parsed.config!.clusters.map((c) => [c.name, c.inCluster]),
      [["local", true]],
    );
    const worker = find(objects, "Deployment", "xnode-worker") as Workload;
    const sources = worker.spec.template.spec.volumes?.find((v) => v.projected)?.projected?.sources ?? [];
    assert.deepEqual(sources.find((s) => s.secret)?.secret, { name: "xnode-kubeconfigs", optional: true });
  });
});
