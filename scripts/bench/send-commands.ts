// The bench's load generator, run as its own process (measure-check.ts starts it): sends the
// signed slash commands of SendCommandsInput (JSON on stdin) to the bot all at once and prints
// each one's latency in ms, a JSON array on stdout. Each command has a TCP connection of its own, opened before the clock
// starts (as a keep-alive client like Slack's holds them); a latency is from writing the
// request's bytes to having read the whole response, so it is the bot's parse, signature
// check, listener and ack, queued behind the others of the burst, plus loopback. Its own
// process, so that the lab and Slack emulator the bench serves do not delay the client, nor
// the client slow them; raw requests signed up front, so the client spends microseconds
// per command, where fetch spends a good part of a millisecond.
import { connect, type Socket } from "node:net";
import { signSlackRequest } from "../../test/slack/signed-request.js";
import { slashCommandForm, type SlashCommandInput } from "../../test/slack/slack-payloads.js";

export interface SendCommandsInput {
  url: string;
  signingSecret: string;
  commands: SlashCommandInput[];
}

function open(url: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves with the response's status once it is all in: Content-Length bytes of body, or the last chunk. */
function response(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const complete = (head: string, body: Buffer) => {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length) return body.length >= Number(length[1]);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return body.toString("latin1").endsWith("0\r\n\r\n");
      throw new Error(`a response with neither Content-Length nor chunks: ${head}`);
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = data.subarray(0, end).toString("latin1");
      try {
        if (!complete(head, data.subarray(end + 4))) return;
      } catch (err) {
        return reject(err as Error);
      }
      socket.off("data", onData);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0));
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("the bot closed the connection before answering")));
  });
}

let stdin = "";
for await (const chunk of process.stdin) stdin += String(chunk);
const input = JSON.parse(stdin) as SendCommandsInput;
const url = new URL(input.url);
const requests = input.commands.map((c) => {
  const body = slashCommandForm(c);
  const headers = {
    Host: url.host,
    "Content-Type": "application/x-www-form-urlencoded",
    "Content-Length": String(Buffer.byteLength(body)),
    ...signSlackRequest(input.signingSecret, body),
  };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return Buffer.from(`POST ${url.pathname} HTTP/1.1\r\n${head.join("")}\r\n${body}`);
});
const sockets = await Promise.all(requests.map(() => open(url)));
const latencies = await Promise.all(
  sockets.map(async (socket, i) => {
    const answered = response(socket);
    const t0 = performance.now();
    socket.write(requests[i]!);
    const status = await answered;
    const ms = performance.now() - t0;
    if (status !== 200) throw new Error(`slash command ${i} answered ${status}`);
    socket.destroy();
    return ms;
  }),
);
process.stdout.write(JSON.stringify(latencies));
