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
  MAX_SECTION_TEXT,
  truncate,
} from "./limits.js";

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

/** The final message: blocks clipped to the limit and given ids unique within it. */
export function toMessage(text: string, blocks: readonly Block[]): SlackMessage {
  const clipped = clipBlocks(blocks).blocks;
  return {
    text: truncate(text, MAX_FALLBACK_TEXT),
    blocks: clipped.map((b, i) => ({ ...b, block_id: b.block_id ?? `b${i}` })),
  };
}

/** A message from parts, with whether anything was left out: by a part, or past the block limit. */
export function composeMessage(text: string, parts: readonly RenderedPart[]): { message: SlackMessage; cut: boolean } {
  const blocks = parts.flatMap((p) => p.blocks);
  return { message: toMessage(text, blocks), cut: blocks.length > MAX_BLOCKS || parts.some((p) => p.cut) };
}
