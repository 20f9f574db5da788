import type { CheckEvidence, Finding } from "../../model/index.js";

/**
 * One finding id's rule: at most one finding (naming every node it applies
 * to). `earlier` holds the findings of the rules run before it, for the few
 * rules that must stand down when another one already explains a symptom.
 */
export type Rule = (ev: CheckEvidence, earlier: readonly Finding[]) => Finding | undefined;
