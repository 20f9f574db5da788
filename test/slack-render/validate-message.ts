// Slack's Block Kit limits written out independently of src/slack/render/limits.ts,
// so a wrong constant there cannot hide a message Slack would reject.
import type { Block, SlackMessage } from "../../src/slack/render/blocks.js";

const LIMIT = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  actionElements: 25,
  id: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  // msg_blocks_too_long: not documented; slackapi/bolt-js#2509 measured ~13k, the emulator refuses past 12,000
  blocksText: 12_000,
};

/** `<@U…>` mentions and `<!date^…|…>` are the only markup we emit; any other < > or bare & is unescaped data. */
function markupProblems(where: string, text: string): string[] {
  const problems: string[] = [];
  const rest = text.replace(/<@[UW][A-Z0-9]+>/g, "").replace(/<!date\^\d+\^[^|>]+\|[^<>]+>/g, "");
  if (/[<>]/.test(rest)) problems.push(`${where}: unescaped < or > in ${JSON.stringify(text.slice(0, 120))}`);
  if (/&(?!amp;|lt;|gt;)/.test(rest)) problems.push(`${where}: bare & in ${JSON.stringify(text.slice(0, 120))}`);
  if ((text.match(/```/g) ?? []).length % 2 !== 0) problems.push(`${where}: unbalanced code fence`);
  return problems;
}

function blockProblems(block: Block, where: string, actionIds: Set<string>): string[] {
  const p: string[] = [];
  const tooLong = (what: string, text: string, max: number) => {
    if (text.length > max) p.push(`${where} ${what}: ${text.length} > ${max}`);
  };
  switch (block.type) {
    case "header":
      tooLong("header", block.text.text, LIMIT.header);
      break;
    case "section":
      if (!block.text && !block.fields?.length) p.push(`${where}: section without text or fields`);
      if (block.text) {
        tooLong("text", block.text.text, LIMIT.sectionText);
        p.push(...markupProblems(where, block.text.text));
      }
      if ((block.fields?.length ?? 0) > LIMIT.fields) p.push(`${where}: ${block.fields!.length} fields`);
      for (const f of block.fields ?? []) {
        tooLong("field", f.text, LIMIT.fieldText);
        p.push(...markupProblems(where, f.text));
      }
      break;
    case "context":
      if (block.elements.length === 0 || block.elements.length > LIMIT.contextElements) p.push(`${where}: ${block.elements.length} context elements`);
      for (const e of block.elements) {
        tooLong("context", e.text, LIMIT.sectionText);
        p.push(...markupProblems(where, e.text));
      }
      break;
    case "actions":
      if (block.elements.length === 0 || block.elements.length > LIMIT.actionElements) p.push(`${where}: ${block.elements.length} actions`);
      for (const b of block.elements) {
        if (actionIds.has(b.action_id)) p.push(`${where}: duplicate action_id ${b.action_id}`);
        actionIds.add(b.action_id);
        tooLong("action_id", b.action_id, LIMIT.id);
        tooLong("button text", b.text.text, LIMIT.buttonText);
        tooLong("button value", b.value ?? "", LIMIT.buttonValue);
        if (b.confirm) {
          tooLong("confirm title", b.confirm.title.text, LIMIT.confirmTitle);
          tooLong("confirm text", b.confirm.text.text, LIMIT.confirmText);
          tooLong("confirm button", b.confirm.confirm.text, LIMIT.confirmButton);
          tooLong("deny button", b.confirm.deny.text, LIMIT.confirmButton);
        }
      }
      break;
    case "divider":
      break;
  }
  return p;
}

/** Every way `message` would be rejected (or shown wrong) by Slack; empty when it is fine. */
export function validateMessage(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (!message.text) problems.push("no fallback text");
  problems.push(...markupProblems("text", message.text));
  if (message.blocks.length === 0 || message.blocks.length > LIMIT.blocks) problems.push(`${message.blocks.length} blocks`);
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  message.blocks.forEach((block, i) => {
    const where = `block ${i} (${block.type})`;
    if (block.block_id !== undefined) {
      if (blockIds.has(block.block_id)) problems.push(`${where}: duplicate block_id ${block.block_id}`);
      if (block.block_id.length > LIMIT.id) problems.push(`${where}: block_id too long`);
      blockIds.add(block.block_id);
    }
    problems.push(...blockProblems(block, where, actionIds));
  });
  const total = textObjectsLength(message.blocks);
  if (total > LIMIT.blocksText) problems.push(`${total} characters of block text > ${LIMIT.blocksText}`);
  return problems;
}

/** Characters in every text object (plain_text or mrkdwn) anywhere in `value`, as Slack totals a message. */
function textObjectsLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textObjectsLength(v), 0);
  if (typeof value !== "object" || value === null) return 0;
  const o = value as Record<string, unknown>;
  const own = (o.type === "plain_text" || o.type === "mrkdwn") && typeof o.text === "string" ? o.text.length : 0;
  return own + Object.values(o).reduce((n: number, v) => n + textObjectsLength(v), 0);
}

/** All the text a reader sees in a message, for content assertions. */
export function allText(message: SlackMessage): string {
  return message.blocks
    .flatMap((b): string[] => {
      switch (b.type) {
        case "header":
          return [b.text.text];
        case "section":
          return [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)];
        case "context":
          return b.elements.map((e) => e.text);
        case "actions":
          return b.elements.map((e) => e.text.text);
        case "divider":
          return [];
      }
    })
    .join("\n");
}
