// Stands in for Slack's response_url endpoints: records what the bot POSTs
// there (respond(), delayed answers to commands and button presses).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { brief, pollUntil } from "./poll-until.js";

export interface ResponseUrlPost {
  /** Path and query, so tests can hand out distinct URLs (`${sink.url}?cmd=1`). */
  path: string;
  contentType?: string;
  body: unknown;
}

export interface ResponseUrlSink {
  url: string;
  posts: ResponseUrlPost[];
  /** Resolves once `count` posts have arrived, with all of them. */
  waitForPosts(count?: number, timeoutMs?: number): Promise<ResponseUrlPost[]>;
  close(): Promise<void>;
}

export async function startResponseUrlSink(): Promise<ResponseUrlSink> {
  const posts: ResponseUrlPost[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const contentType = req.headers["content-type"];
      const body = contentType?.startsWith("application/json") ? parseOrKeep(text) : text;
      posts.push({ path: req.url ?? "/", ...(contentType ? { contentType } : {}), body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response-url`,
    posts,
    waitForPosts: (count = 1, timeoutMs = 3000) =>
      pollUntil(
        () => posts.length >= count && posts,
        timeoutMs,
        () => `response_url posts (${posts.length}):\n${posts.map((p) => `  ${p.path} ${brief(p.body)}`).join("\n")}`,
      ),
    close: () => {
      const closed = new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      server.closeAllConnections();
      return closed;
    },
  };
}

// A malformed JSON body is itself worth seeing in an assertion, not a crash.
function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
