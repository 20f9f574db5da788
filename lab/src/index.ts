// @xnode/lab: what the demo, the bench and xnode's tests use. Lab.start builds
// a cluster in-process; the `xnode-lab` CLI (src/cli.ts) runs one in a daemon.
// The standalone emulated API server is in "@xnode/lab/apiserver"; helpers for
// tests (start a lab with its kubeconfig on disk, kubectl, /_lab admin calls)
// in "@xnode/lab/testing".
export { Lab, LAB_PREFIX, type LabHandle } from "./lab.js";
export {
  DISTRIBUTIONS,
  RKE2_DEFAULT_REVERT_SECONDS,
  type Distribution,
  loadScenario,
  parseScenario,
  scenarioSchema,
  ScenarioError,
  type Scenario,
  type ScenarioFault,
  type ScenarioInterface,
  type ScenarioNetwork,
  type ScenarioNode,
  type ScenarioService,
} from "./scenario.js";
export { bundledScenarios, scenarioPath, scenariosDir } from "./bundled-scenarios.js";
export type { RequestRecord } from "./apiserver/admin.js";
export type { AuthzRule } from "./apiserver/authz.js";
