// Names of a synthetic cluster's nodes: node-0000, node-0001, … (four digits
// at least, so they sort the way they were generated).
export function syntheticNodeName(index: number): string {
  return `node-${String(index).padStart(4, "0")}`;
}

export function syntheticNodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => syntheticNodeName(i));
}
