import * as core from '@actions/core';

// One bundle, two ways in. `dist/cli.js` (the command line, `npx eks-ami-drift`) marks itself before it
// loads this bundle; otherwise this is the action, one entry point for `runs.main` and `runs.post`:
// the main step leaves a mark in the state. Each way is a chunk of dist/, loaded by dynamic import():
// what a step does not run, it does not load (the post step, when nothing is paused, loads nothing more).
if ((globalThis as { EKS_AMI_DRIFT_CLI?: boolean }).EKS_AMI_DRIFT_CLI) {
  const { cli } = await import('./cli.js');
  process.exitCode = await cli(process.argv.slice(2));
} else if (core.getState('isPost') === 'true') {
  await (await import('./post.js')).post();
} else {
  core.saveState('isPost', 'true');
  await (await import('./main.js')).run();
}
