// Slack sends Retry-After with every 429, but a proxy or gateway in between
// may not; @slack/web-api then gives up at once ("Retry header did not contain
// a valid timeout") instead of retrying. This fetch for the WebClient fills in
// a short Retry-After, so such a 429 is waited out and retried like Slack's own.
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export function retryAfterFetch(inner: typeof fetch = globalThis.fetch, seconds = DEFAULT_RETRY_AFTER_SECONDS): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    if (res.status !== 429 || res.headers.has("retry-after")) return res;
    const headers = new Headers(res.headers);
    headers.set("retry-after", String(seconds));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
