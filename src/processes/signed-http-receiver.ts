// Bolt's HTTP receiver, stricter about time: Bolt refuses a request signed
// more than 5 minutes ago but takes one dated in the future, while Slack's
// rule is |now − timestamp| ≤ 5 min. A correctly signed request from the
// future is a replay kept for later; it gets the same 401 as a stale one.
import type { IncomingMessage, ServerResponse } from "node:http";
import bolt from "@slack/bolt";

const MAX_SKEW_SECONDS = 5 * 60;

export function signedHttpReceiver(opts: ConstructorParameters<typeof bolt.HTTPReceiver>[0]): bolt.HTTPReceiver {
  const receiver = new bolt.HTTPReceiver(opts);
  const handle = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const stamp = Number(req.headers["x-slack-request-timestamp"]);
    if (Number.isFinite(stamp) && stamp - Math.floor(Date.now() / 1000) > MAX_SKEW_SECONDS) {
      res.writeHead(401, { "content-type": "text/plain" }).end("request timestamp is in the future");
      return;
    }
    handle(req, res);
  };
  return receiver;
}
