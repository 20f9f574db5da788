// diagnose: evidence of one check → findings. Pure: the same evidence always
// gives the same findings, in the order of the rules below (causes that
// explain others first; the rules that must stand down for them after).
import { withEvidenceIndex } from "./cluster-view.js";
import type { CheckEvidence, Finding } from "../model/index.js";
import { linkCauses } from "./link-causes.js";
import { cni0AddressMismatch } from "./rules/cni0-address-mismatch.js";
import { clusterHealthy } from "./rules/cluster-healthy.js";
import { connectivityUnexplained } from "./rules/connectivity-unexplained.js";
import { fdbStale } from "./rules/fdb-stale.js";
import { flannelPodNotReady } from "./rules/flannel-pod-not-ready.js";
import { forwardPolicyDrop } from "./rules/forward-policy-drop.js";
import { ipForwardDisabled } from "./rules/ip-forward-disabled.js";
import { iptablesBackendSplit } from "./rules/iptables-backend-split.js";
import { mtuMismatch } from "./rules/mtu-mismatch.js";
import { nodeportUnreachable } from "./rules/nodeport-unreachable.js";
import { podCidrMissing } from "./rules/pod-cidr-missing.js";
import { publicIpOverwriteWrong } from "./rules/public-ip-overwrite-wrong.js";
import { routeMissing } from "./rules/route-missing.js";
import type { Rule } from "./rules/rule.js";
import { udpVxlanBlocked } from "./rules/udp-vxlan-blocked.js";
import { vtepDuplicatePublicIp } from "./rules/vtep-duplicate-public-ip.js";
import { vtepWrongInterface } from "./rules/vtep-wrong-interface.js";

const rules: readonly Rule[] = [
  podCidrMissing,
  flannelPodNotReady,
  vtepDuplicatePublicIp,
  vtepWrongInterface,
  publicIpOverwriteWrong,
  routeMissing,
  // leaves out the entries a wrong override annotation above accounts for
  fdbStale,
  cni0AddressMismatch,
  ipForwardDisabled,
  // explains forward-policy-drop on its nodes
  iptablesBackendSplit,
  forwardPolicyDrop,
  mtuMismatch,
  // reads the findings above: its "suspected" form stands down for them
  udpVxlanBlocked,
  nodeportUnreachable,
  // failed probes that nothing above explains: never left to read as health
  connectivityUnexplained,
  // only when nothing above found anything
  clusterHealthy,
];

export function diagnose(evidence: CheckEvidence): Finding[] {
  return diagnoseWith(rules, evidence);
}

// The two that are about probe results: with none yet, one would flag every node and the other call them healthy.
const hostEvidenceRules = rules.filter((r) => r !== connectivityUnexplained && r !== clusterHealthy);

/** What the host evidence alone shows, before any probe ran: how a large cluster's check picks the nodes to probe in full. */
export function diagnoseHostEvidence(evidence: CheckEvidence): Finding[] {
  return diagnoseWith(hostEvidenceRules, { ...evidence, matrix: [], unreachableNodes: [] });
}

function diagnoseWith(ruleset: readonly Rule[], evidence: CheckEvidence): Finding[] {
  return withEvidenceIndex(evidence, () => {
    const found = ruleset.reduce<Finding[]>((acc, rule) => {
      const finding = rule(evidence, acc);
      return finding ? [...acc, finding] : acc;
    }, []);
    return linkCauses(found);
  });
}
