// Slack's limits on a message, checked the way Slack checks them, so a
// renderer that overflows fails in tests with the error production would give
// (no_text, msg_too_long, invalid_blocks with json-pointer details,
// msg_blocks_too_long). Only structure and limits are checked; unknown block
// types pass untouched.
import { fail } from "./api-call.js";

const MAX_TEXT = 40_000;
const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_SECTION_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_BUTTON_TEXT = 75;
const MAX_BUTTON_VALUE = 2000;
const MAX_URL = 3000;
const MAX_ID = 255;
// Not documented: Slack refuses a message whose blocks together hold more than
// about 12-13k characters of text, whatever the per-block limits allow
// (slackapi/bolt-js#2509 measured 13,297 for markdown blocks, less with others).
// The emulator refuses past 12,000 so a renderer never lives near the edge.
export const MAX_BLOCKS_TEXT = 12_000;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Throws the SlackApiError Slack would answer for this text/blocks/attachments combination. */
export function checkMessageContent(text: unknown, blocks: unknown, attachments: unknown): void {
  if (blocks !== undefined && !Array.isArray(blocks)) fail("invalid_blocks_format");
  const hasText = typeof text === "string" && text !== "";
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
  if (!hasText && !hasBlocks && !hasAttachments) fail("no_text");
  if (hasText && text.length > MAX_TEXT) fail("msg_too_long");
  if (Array.isArray(blocks)) {
    const errors = blockProblems(blocks);
    if (errors.length > 0) fail("invalid_blocks", { errors });
    if (blocksTextLength(blocks) > MAX_BLOCKS_TEXT) fail("msg_blocks_too_long");
  }
}

/** Every character of text in the blocks: text objects' `text` wherever they sit (sections, fields, context, buttons, confirms). */
export function blocksTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + blocksTextLength(v), 0);
  if (!isObj(value)) return 0;
  const own = (value.type === "plain_text" || value.type === "mrkdwn") && typeof value.text === "string" ? value.text.length : 0;
  return own + Object.values(value).reduce((sum: number, v) => sum + (typeof v === "object" ? blocksTextLength(v) : 0), 0);
}

function blockProblems(blocks: unknown[]): string[] {
  const problems: string[] = [];
  const report = (path: string, what: string): void => {
    problems.push(`${what} [json-pointer:${path}]`);
  };
  const checkLength = (value: unknown, path: string, max: number, min = 0) => {
    if (typeof value !== "string") return report(path, "must be a string");
    if (value.length < min) report(path, `must be more than ${min - 1} characters`);
    if (value.length > max) report(path, `must be less than ${max + 1} characters`);
  };
  const checkTextObject = (value: unknown, path: string, max: number) => {
    if (!isObj(value)) return report(path, "must be a text object");
    checkLength(value.text, `${path}/text`, max, 1);
  };
  // action_id must be unique within its block (Slack's rule); block_id within the message.
  const checkElement = (element: unknown, path: string, actionIds: Set<string>) => {
    if (!isObj(element) || typeof element.type !== "string") return report(path, "missing required field: type");
    if (element.action_id !== undefined) {
      checkLength(element.action_id, `${path}/action_id`, MAX_ID, 1);
      if (actionIds.has(String(element.action_id))) report(`${path}/action_id`, "duplicate action_id");
      actionIds.add(String(element.action_id));
    }
    if (element.type !== "button") return;
    checkTextObject(element.text, `${path}/text`, MAX_BUTTON_TEXT);
    if (element.value !== undefined) checkLength(element.value, `${path}/value`, MAX_BUTTON_VALUE);
    if (element.url !== undefined) checkLength(element.url, `${path}/url`, MAX_URL);
  };
  const checkElements = (elements: unknown, path: string, max: number, interactive: boolean) => {
    if (!Array.isArray(elements) || elements.length === 0) return report(`${path}/elements`, "must provide at least 1 item");
    if (elements.length > max) report(`${path}/elements`, `must be less than ${max + 1} items`);
    if (!interactive) return;
    const actionIds = new Set<string>();
    elements.forEach((el, i) => checkElement(el, `${path}/elements/${i}`, actionIds));
  };

  if (blocks.length > MAX_BLOCKS) report("/blocks", `must be less than ${MAX_BLOCKS + 1} items`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const path = `/blocks/${i}`;
    if (!isObj(block) || typeof block.type !== "string") return report(path, "missing required field: type");
    if (block.block_id !== undefined) {
      checkLength(block.block_id, `${path}/block_id`, MAX_ID, 1);
      if (blockIds.has(String(block.block_id))) report(`${path}/block_id`, "duplicate block_id");
      blockIds.add(String(block.block_id));
    }
    switch (block.type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) report(path, "must provide either text or fields");
        if (block.text !== undefined) checkTextObject(block.text, `${path}/text`, MAX_SECTION_TEXT);
        if (Array.isArray(block.fields)) {
          if (block.fields.length > MAX_SECTION_FIELDS) report(`${path}/fields`, `must be less than ${MAX_SECTION_FIELDS + 1} items`);
          block.fields.forEach((f, j) => checkTextObject(f, `${path}/fields/${j}`, MAX_FIELD_TEXT));
        }
        if (block.accessory !== undefined) checkElement(block.accessory, `${path}/accessory`, new Set());
        return;
      case "header":
        return checkTextObject(block.text, `${path}/text`, MAX_HEADER_TEXT);
      case "actions":
        return checkElements(block.elements, path, MAX_ACTIONS_ELEMENTS, true);
      case "context":
        return checkElements(block.elements, path, MAX_CONTEXT_ELEMENTS, false);
      default:
        return;
    }
  });
  return problems;
}
