// One bundle, two ways in. `dist/cli.js` (the command line, `npx eks-ami-drift`) marks itself before it
// loads this bundle; otherwise this is the action (its main or post step). Each way is a chunk of
// dist/, loaded by dynamic import(): what a run does not use, it does not load.
if ((globalThis as { EKS_AMI_DRIFT_CLI?: boolean }).EKS_AMI_DRIFT_CLI) {
  const { cli } = await import('./cli/cli.js');
  process.exitCode = await cli(process.argv.slice(2));
} else {
  await (await import('./action/step.js')).step();
}
