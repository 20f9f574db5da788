// flannel's override annotations on a Node, and how a plan names and patches
// one: the JSON pointer of an annotation key and the diff line a person
// approves (the plan and the dry run write the same line).
export const FLANNEL_ANNOTATIONS = {
  publicIPOverwrite: "flannel.alpha.coreos.com/public-ip-overwrite",
  nodePublicIP: "flannel.alpha.coreos.com/node-public-ip",
} as const;
export type FlannelOverrideAnnotation = (typeof FLANNEL_ANNOTATIONS)[keyof typeof FLANNEL_ANNOTATIONS];

/** JSON pointer of an annotation: "/" in the key is written "~1" (RFC 6901). */
export function annotationPath(key: string): string {
  return `/metadata/annotations/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** The line a person approves for an annotation change, the same from the plan and from the dry run. */
export function annotationDiffLine(node: string, key: string, before: string | undefined, after: string | undefined): string {
  const show = (v: string | undefined) => (v === undefined ? "(unset)" : JSON.stringify(v));
  return `Node ${node}: annotation ${key}: ${show(before)} → ${show(after)}`;
}
