#!/usr/bin/env node
// xnode-lab up <scenario.yaml> --kubeconfig <out-file> | down <name> | down --all | list
// The lab is TypeScript run through tsx (no build step): register tsx's
// loader in this process, then run the CLI, which spawns its daemon the same way.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
