import * as core from '@actions/core';
import { run } from './main.js';
import { post } from './post.js';

// One bundle, two ways in. `dist/cli.js` (the command line, `npx eks-ami-drift`) marks itself before it
// loads this bundle; otherwise this is the action, one entry point for `runs.main` and `runs.post`:
// the main step leaves a mark in the state.
if ((globalThis as { EKS_AMI_DRIFT_CLI?: boolean }).EKS_AMI_DRIFT_CLI) {
  const { cli } = await import('./cli.js');
  process.exitCode = await cli(process.argv.slice(2));
} else if (core.getState('isPost') === 'true') {
  await post();
} else {
  core.saveState('isPost', 'true');
  await run();
}
