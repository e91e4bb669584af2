#!/usr/bin/env node
// The command line (`npx eks-ami-drift check --regions us-east-1`): the action's own bundle, entered
// through its command line. `npm run bundle` copies this file to dist/cli.js.
globalThis.EKS_AMI_DRIFT_CLI = true;
await import('./index.js');
