// The Slack app manifest asks for exactly the bot scopes the code needs: the
// Web API calls are found in src/ with a regex, mapped to scopes with the
// table below (from each method's "Required scopes" in Slack's reference),
// and compared both ways with deploy/slack-app-manifest.yaml.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { listFiles, readRepoFile } from "./render.js";

/** Web API method → bot scopes it needs. A method missing here fails the test: look it up and add it. */
const SCOPES: Record<string, string[]> = {
  "chat.postMessage": ["chat:write"],
  "chat.update": ["chat:write"],
  "chat.postEphemeral": ["chat:write"],
  "chat.delete": ["chat:write"],
  "chat.scheduleMessage": ["chat:write"],
  "chat.getPermalink": [], // "No scope required"
  "files.uploadV2": ["files:write"], // files.getUploadURLExternal + files.completeUploadExternal
  "files.getUploadURLExternal": ["files:write"],
  "files.completeUploadExternal": ["files:write"],
  "usergroups.users.list": ["usergroups:read"],
  "usergroups.list": ["usergroups:read"],
  "users.info": ["users:read"],
  "users.list": ["users:read"],
  "users.lookupByEmail": ["users:read.email"],
  "reactions.add": ["reactions:write"],
  "auth.test": [],
  "views.open": [],
  "views.update": [],
  "views.publish": [],
};

// A WebClient by the names the code gives it (client, web, app.client,
// webClient, lookups: src/slack/slack-port.ts's client for user group lookups);
// `client.apiCall("x.y")` too. Bolt's say() posts with chat.postMessage.
const CALL = /\b(?:client|web|webClient|lookups|app\.client)\s*\.\s*((?:[a-z]+)(?:\.[A-Za-z0-9]+)+)\s*\(/g;
const API_CALL = /\.apiCall\(\s*["'`]([a-z]+(?:\.[A-Za-z0-9]+)+)["'`]/g;
const SAY = /\bsay\s*\(/;

interface Usage {
  methods: Map<string, string[]>; // method → files
  commands: string[];
  interactive: boolean;
  events: boolean;
}

function usage(): Usage {
  const methods = new Map<string, string[]>();
  const add = (m: string, f: string) => methods.set(m, [...(methods.get(m) ?? []), f]);
  const commands = new Set<string>();
  let interactive = false;
  let events = false;
  for (const file of listFiles("src").filter((f) => f.endsWith(".ts"))) {
    const src = readRepoFile(file);
    for (const m of src.matchAll(CALL)) add(m[1]!, file);
    for (const m of src.matchAll(API_CALL)) add(m[1]!, file);
    if (SAY.test(src) && /@slack\/bolt/.test(src)) add("chat.postMessage", file);
    for (const m of src.matchAll(/\bapp\.command\(\s*["'`]([^"'`]+)["'`]/g)) commands.add(m[1]!);
    if (/\bapp\.(action|view|shortcut|options)\(/.test(src)) interactive = true;
    if (/\bapp\.(event|message)\(/.test(src)) events = true;
  }
  return { methods, commands: [...commands].sort(), interactive, events };
}

interface Manifest {
  features?: { slash_commands?: Array<{ command: string; usage_hint?: string; description?: string }>; bot_user?: unknown };
  oauth_config?: { scopes?: { bot?: string[]; user?: string[] } };
  settings?: { interactivity?: { is_enabled?: boolean }; socket_mode_enabled?: boolean; event_subscriptions?: unknown };
}
const manifest = () => parseYaml(readRepoFile("deploy/slack-app-manifest.yaml")) as Manifest;

describe("deploy/slack-app-manifest.yaml", () => {
  it("finds the Web API calls in src/", () => {
    const { methods } = usage();
    assert.ok(methods.has("chat.postMessage"), [...methods.keys()].join(", "));
    assert.ok(methods.has("files.uploadV2"), "the regex must see methods with digits");
  });

  it("bot scopes are exactly those the calls, the slash command and the listeners need", () => {
    const u = usage();
    const unknown = [...u.methods.keys()].filter((m) => !(m in SCOPES));
    assert.deepEqual(
      unknown,
      [],
      `Web API methods without a scope entry (used in ${unknown.map((m) => u.methods.get(m)!.join(", ")).join("; ")}): add them to SCOPES`,
    );
    const needed = new Set([...u.methods.keys()].flatMap((m) => SCOPES[m]!));
    if (u.commands.length > 0) needed.add("commands");
    assert.deepEqual([...(manifest().oauth_config?.scopes?.bot ?? [])].sort(), [...needed].sort());
    assert.equal(manifest().oauth_config?.scopes?.user, undefined, "xnode acts as its bot only");
  });

  it("declares each slash command the bot listens to, with a usage hint", () => {
    const declared = manifest().features?.slash_commands ?? [];
    assert.deepEqual(declared.map((c) => c.command).sort(), usage().commands);
    for (const c of declared) assert.ok(c.usage_hint && c.description, c.command);
  });

  it("interactivity is on when the bot has action listeners; events only if it listens to any", () => {
    const u = usage();
    assert.equal(manifest().settings?.interactivity?.is_enabled ?? false, u.interactive);
    assert.equal(manifest().settings?.event_subscriptions !== undefined, u.events);
  });

  it("Socket Mode, as deploy/overlays/default runs the bot", () => {
    assert.equal(manifest().settings?.socket_mode_enabled, true);
    assert.match(readRepoFile("deploy/overlays/default/kustomization.yaml"), /^\s*- \.\.\/\.\.\/components\/socket-mode$/m);
  });
});
