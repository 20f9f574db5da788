// Turning an HTTP request into Web API arguments. WebClient sends form posts
// with objects (blocks, attachments, files) JSON-encoded as strings; other
// clients send JSON bodies. Both end up as the same decoded object.
import type { IncomingMessage } from "node:http";
import { fail, type Args } from "./api-call.js";

// Only these are decoded: a user's `text` may well start with "[" or "{".
const JSON_ENCODED_ARGS = ["blocks", "attachments", "files", "metadata"];

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function decodeApiArgs(contentType: string | undefined, raw: Buffer): Args {
  const args = contentType?.startsWith("application/json") ? parseJsonBody(raw) : Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
  for (const name of JSON_ENCODED_ARGS) {
    const value = args[name];
    if (typeof value !== "string") continue;
    try {
      args[name] = JSON.parse(value);
    } catch {
      // Left as a string: the method reports it (e.g. invalid_blocks_format).
    }
  }
  return args;
}

function parseJsonBody(raw: Buffer): Args {
  try {
    const parsed: unknown = JSON.parse(raw.toString("utf8") || "{}");
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Args;
  } catch {
    // falls through to Slack's answer for a body it cannot read
  }
  return fail("invalid_json");
}

/**
 * The file bytes of an upload POST. WebClient sends them as multipart/form-data
 * (one part, field "body"); a raw body is taken as the bytes themselves.
 */
export function uploadedBytes(contentType: string | undefined, raw: Buffer): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  if (!contentType?.startsWith("multipart/form-data") || !boundary) return raw;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const partStart = raw.indexOf(delimiter);
  const headersEnd = raw.indexOf("\r\n\r\n", partStart);
  const partEnd = raw.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headersEnd);
  if (partStart < 0 || headersEnd < 0 || partEnd < 0) return raw;
  return raw.subarray(headersEnd + 4, partEnd);
}
