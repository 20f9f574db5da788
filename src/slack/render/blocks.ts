// The slice of Block Kit xnode uses, and constructors that keep each block
// within Slack's limits whatever text they are given.
import type { types as slack } from "@slack/bolt";
import {
  MAX_ACTION_ELEMENTS,
  MAX_BLOCKS,
  MAX_BUTTON_TEXT,
  MAX_BUTTON_VALUE,
  MAX_CONFIRM_BUTTON,
  MAX_CONFIRM_TEXT,
  MAX_CONFIRM_TITLE,
  MAX_CONTEXT_ELEMENTS,
  MAX_FALLBACK_TEXT,
  MAX_FIELD_TEXT,
  MAX_FIELDS,
  MAX_HEADER_TEXT,
  MAX_MESSAGE_BLOCK_TEXT,
  MAX_SECTION_TEXT,
  fitLines,
  truncate,
} from "./limits.js";
import { fence, FENCE_OVERHEAD } from "./mrkdwn.js";

// Slack's own Block Kit types, narrowed to what these constructors build: every
// Block here is a KnownBlock, so a message goes to the Web API without a cast.
export type PlainText = slack.PlainTextElement;
export type Mrkdwn = slack.MrkdwnElement;
export type HeaderBlock = slack.HeaderBlock;
export interface SectionBlock extends slack.SectionBlock {
  text?: Mrkdwn;
  fields?: Mrkdwn[];
}
export interface ContextBlock extends slack.ContextBlock {
  elements: Mrkdwn[];
}
export type DividerBlock = slack.DividerBlock;
export interface ConfirmDialog extends slack.ConfirmationDialog {
  title: PlainText;
  text: PlainText;
  confirm: PlainText;
  deny: PlainText;
}
export interface Button extends slack.Button {
  action_id: string;
  confirm?: ConfirmDialog;
}
export interface ActionsBlock extends slack.ActionsBlock {
  elements: Button[];
}
export type Block = HeaderBlock | SectionBlock | ContextBlock | DividerBlock | ActionsBlock;

export interface SlackMessage {
  /** notification and screen-reader fallback */
  text: string;
  blocks: Block[];
}

/** Blocks for one part of a message, and whether detail was left out for space. */
export interface RenderedPart {
  blocks: Block[];
  cut: boolean;
}

const plain = (text: string, max: number): PlainText => ({ type: "plain_text", text: truncate(text, max), emoji: true });
const mrkdwn = (text: string, max: number): Mrkdwn => ({ type: "mrkdwn", text: truncate(text, max) });

/** Plain text: emoji shortcodes work, markup does not, so nothing is escaped. */
export function header(text: string): HeaderBlock {
  return { type: "header", text: plain(text, MAX_HEADER_TEXT) };
}

export function section(text: string): SectionBlock {
  return { type: "section", text: mrkdwn(text, MAX_SECTION_TEXT) };
}

/** Two-column fields, as many sections as it takes at ten fields each. */
export function fieldSections(fields: readonly string[]): SectionBlock[] {
  const out: SectionBlock[] = [];
  for (let i = 0; i < fields.length; i += MAX_FIELDS) {
    out.push({ type: "section", fields: fields.slice(i, i + MAX_FIELDS).map((f) => mrkdwn(f, MAX_FIELD_TEXT)) });
  }
  return out;
}

/** Whole lines packed into as few sections as fit; a line longer than a section is cut. */
export function packSections(lines: readonly string[]): SectionBlock[] {
  const texts: string[] = [];
  for (const line of lines.map((l) => truncate(l, MAX_SECTION_TEXT))) {
    const last = texts.length - 1;
    if (last >= 0 && texts[last]!.length + 1 + line.length <= MAX_SECTION_TEXT) texts[last] += `\n${line}`;
    else texts.push(line);
  }
  return texts.map(section);
}

export function context(...texts: string[]): ContextBlock {
  return { type: "context", elements: texts.slice(0, MAX_CONTEXT_ELEMENTS).map((t) => mrkdwn(t, MAX_SECTION_TEXT)) };
}

export function divider(): DividerBlock {
  return { type: "divider" };
}

export interface ButtonSpec {
  actionId: string;
  text: string;
  /** opaque to Slack and to us; it identifies what the click means, so it is never cut */
  value: string;
  style?: "primary" | "danger";
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export function button(spec: ButtonSpec): Button {
  if (spec.value.length > MAX_BUTTON_VALUE) {
    throw new RangeError(`button value for ${spec.actionId} is ${spec.value.length} characters; Slack allows ${MAX_BUTTON_VALUE}`);
  }
  const c = spec.confirm;
  return {
    type: "button",
    action_id: spec.actionId,
    text: plain(spec.text, MAX_BUTTON_TEXT),
    value: spec.value,
    ...(spec.style ? { style: spec.style } : {}),
    ...(c && {
      confirm: {
        title: plain(c.title, MAX_CONFIRM_TITLE),
        text: plain(c.text, MAX_CONFIRM_TEXT),
        confirm: plain(c.confirm, MAX_CONFIRM_BUTTON),
        deny: plain(c.deny, MAX_CONFIRM_BUTTON),
        ...(spec.style ? { style: spec.style } : {}),
      },
    }),
  };
}

export function actions(blockId: string, buttons: Button[]): ActionsBlock {
  if (buttons.length > MAX_ACTION_ELEMENTS) throw new RangeError(`${buttons.length} buttons in one actions block; Slack allows ${MAX_ACTION_ELEMENTS}`);
  return { type: "actions", block_id: blockId, elements: buttons };
}

/**
 * At most MAX_BLOCKS blocks: the overflow is replaced by a note, and a closing
 * actions block is kept because the buttons matter more than the detail.
 */
export function clipBlocks(blocks: readonly Block[]): { blocks: Block[]; clipped: boolean } {
  if (blocks.length <= MAX_BLOCKS) return { blocks: [...blocks], clipped: false };
  const tail = blocks[blocks.length - 1]!.type === "actions" ? [blocks[blocks.length - 1]!] : [];
  const keep = MAX_BLOCKS - 1 - tail.length;
  const note = context(`… ${blocks.length - keep - tail.length} more blocks not shown`);
  return { blocks: [...blocks.slice(0, keep), note, ...tail], clipped: true };
}

/** The text of a block as Slack counts it toward a message's total (every text object in it). */
export function blockTextLength(block: Block): number {
  const sum = (texts: readonly { text: string }[]) => texts.reduce((n, t) => n + t.text.length, 0);
  switch (block.type) {
    case "header":
      return block.text.text.length;
    case "section":
      return (block.text?.text.length ?? 0) + sum(block.fields ?? []);
    case "context":
      return sum(block.elements);
    case "actions":
      return sum(block.elements.flatMap((b) => [b.text, ...(b.confirm ? [b.confirm.title, b.confirm.text, b.confirm.confirm, b.confirm.deny] : [])]));
    case "divider":
      return 0;
  }
}

// Headers name a message and actions carry its buttons: never cut for space.
const isKept = (b: Block) => b.type === "header" || b.type === "actions";
const cutNote = (what: string) => context(`… ${what} not shown: Slack limits how much text one message holds`);
const CUT_NOTE_ROOM = cutNote("9999 more lines").elements[0]!.text.length;
// Less room than this left for a section: leave it out rather than show a stub.
const MIN_SECTION_ROOM = 200;

/** A section's text cut by whole lines to `room`, a code block kept closed. */
function cutSection(block: SectionBlock, room: number): SectionBlock | undefined {
  const text = block.text?.text;
  if (!text || room < MIN_SECTION_ROOM) return undefined;
  const fenced = text.length >= FENCE_OVERHEAD && text === fence(text.slice(4, -4));
  const body = fenced ? text.slice(4, -4) : text;
  const fitted = fitLines(body.split("\n"), room - (fenced ? FENCE_OVERHEAD : 0), (n) => `… ${n} more lines`);
  return section(fenced ? fence(fitted.text) : fitted.text);
}

/** A part's blocks within `room` characters of cuttable text: whole blocks while they fit, the next one cut by lines, then a note. */
function shrinkPart(blocks: readonly Block[], room: number): Block[] {
  let left = room - CUT_NOTE_ROOM;
  const out: Block[] = [];
  let dropped = 0;
  for (const b of blocks) {
    if (isKept(b)) {
      out.push(b);
      continue;
    }
    const len = blockTextLength(b);
    if (dropped === 0 && len <= left) {
      out.push(b);
      left -= len;
      continue;
    }
    const cut = dropped === 0 && b.type === "section" ? cutSection(b, left) : undefined;
    if (cut) out.push(cut);
    dropped += cut ? 0 : 1;
    left = 0;
  }
  const at = out.findLastIndex((b) => b.type !== "actions") + 1;
  out.splice(at, 0, cutNote(dropped > 0 ? `${dropped} more ${dropped === 1 ? "block" : "blocks"}` : "the rest"));
  return out;
}

/**
 * Room for each part when together they hold more text than a message may:
 * small parts keep everything, the large ones share what is left equally
 * (so the findings list under 60 node lines still shows).
 */
function shareRoom(sizes: readonly number[], room: number): number[] {
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => a.size - b.size);
  const caps = new Array<number>(sizes.length).fill(0);
  let left = room;
  order.forEach(({ size, i }, k) => {
    caps[i] = Math.min(size, Math.floor(left / (order.length - k)));
    left -= caps[i]!;
  });
  return caps;
}

/** Parts within the message's text budget; a part that had to give up text is marked cut. */
function fitBudget(parts: readonly RenderedPart[]): RenderedPart[] {
  const cuttable = (p: RenderedPart) => p.blocks.filter((b) => !isKept(b)).reduce((n, b) => n + blockTextLength(b), 0);
  const kept = parts.flatMap((p) => p.blocks.filter(isKept)).reduce((n, b) => n + blockTextLength(b), 0);
  const sizes = parts.map(cuttable);
  if (kept + sizes.reduce((a, b) => a + b, 0) <= MAX_MESSAGE_BLOCK_TEXT) return [...parts];
  const caps = shareRoom(sizes, MAX_MESSAGE_BLOCK_TEXT - kept);
  return parts.map((p, i) => (sizes[i]! <= caps[i]! ? p : { blocks: shrinkPart(p.blocks, caps[i]!), cut: true }));
}

/** The final message: blocks within the text budget, clipped to the block limit, given ids unique within it. */
export function toMessage(text: string, blocks: readonly Block[]): SlackMessage {
  return composeMessage(text, [{ blocks: [...blocks], cut: false }]).message;
}

/** A message from parts, with whether anything was left out: by a part, for the text budget, or past the block limit. */
export function composeMessage(text: string, parts: readonly RenderedPart[]): { message: SlackMessage; cut: boolean } {
  const fitted = fitBudget(parts);
  const blocks = fitted.flatMap((p) => p.blocks);
  const clipped = clipBlocks(blocks);
  return {
    message: { text: truncate(text, MAX_FALLBACK_TEXT), blocks: clipped.blocks.map((b, i) => ({ ...b, block_id: b.block_id ?? `b${i}` })) },
    cut: clipped.clipped || fitted.some((p) => p.cut),
  };
}
